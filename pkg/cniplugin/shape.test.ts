import { describe, expect, it } from 'vitest';
import type { AttachmentPlan } from '../attach/mod.ts';
import { attachmentDrift, shapeOfPlan, type ObservedAttachment } from './shape.ts';

describe('attachmentDrift()', () => {
  const plan: AttachmentPlan = {
    bridge: { name: 'cni0', mtu: 1450, mac: '02:00:00:00:00:01', gateways: ['10.244.1.1/24'] },
    hostVeth: { name: 'veth00000001', mtu: 1450, hairpin: true },
    container: {
      ifname: 'eth0',
      mtu: 1450,
      mac: '02:42:0a:f4:01:07',
      addresses: ['10.244.1.7/24'],
      routes: [{ dst: '0.0.0.0/0', gateway: '10.244.1.1' }],
    },
  };
  const want = shapeOfPlan(plan, '/run/netns/c1');
  const healthy: ObservedAttachment = {
    container: {
      index: 2,
      kind: 'veth',
      up: true,
      mac: '02:42:0a:f4:01:07',
      addresses: ['10.244.1.7/24'],
      routes: [{ dst: '0.0.0.0/0', gateway: '10.244.1.1' }],
    },
    bridge: { index: 5, kind: 'bridge' },
    hostVeth: { master: 5, peer: 2, up: true },
  };

  it('finds nothing when the kernel holds the plan', () => {
    expect(attachmentDrift(want, healthy)).toEqual([]);
  });

  it('names every difference at once', () => {
    const broken: ObservedAttachment = {
      container: { ...healthy.container!, up: false, mac: '02:00:00:00:00:99', addresses: [], routes: [] },
      bridge: undefined,
      hostVeth: { master: undefined, peer: 7, up: false },
    };
    expect(attachmentDrift(want, broken)).toEqual([
      'eth0 is down',
      'eth0 has MAC 02:00:00:00:00:99, expected 02:42:0a:f4:01:07',
      'eth0 lacks address 10.244.1.7/24',
      'route 0.0.0.0/0 via 10.244.1.1 is missing in the container',
      'bridge cni0 is missing',
      'host interface veth00000001 is not the peer of eth0',
      'host interface veth00000001 is down',
    ]);
    expect(attachmentDrift(want, { container: undefined, bridge: healthy.bridge, hostVeth: undefined })).toEqual([
      'interface eth0 is missing from /run/netns/c1',
      'host interface veth00000001 is missing',
    ]);
  });
});
