import { describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../pkg/contract/status.ts';
import { duration, statusText } from './status-view.ts';

describe('weft status, for people', () => {
  it('says durations as a person would', () => {
    expect([duration(5), duration(75), duration(3725), duration(90_061)]).toEqual(['5s', '1m 15s', '1h 2m', '1d 1h']);
    expect(duration(86_399.6)).toBe('23h 59m');
  });

  it('puts not-ready reasons and repairs under the table', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    const d: DaemonStatus = {
      version: '0.1.0',
      node: 'h1',
      startedAt: '2026-11-29T11:00:00Z',
      uptimeSeconds: 3600,
      at: '2026-11-29T12:00:00Z',
      store: {
        kind: 'etcd',
        endpoints: [
          {
            endpoint: 'http://10.0.0.5:2379',
            current: true,
            lastError: undefined,
            lastErrorAt: undefined,
            lastOkAt: '2026-11-29T11:59:58Z',
            latencyMs: 1.5,
          },
        ],
      },
      cni: { confDir: '/etc/cni/net.d', dataDir: '/var/lib/cni/weft' },
      firewall: {},
      networks: [
        {
          name: 'RED',
          vni: 256,
          subnet: '10.10.10.32/27',
          leaseExpires: '2026-11-30T11:00:00Z',
          device: 'weft.256',
          mtu: 1450,
          ready: false,
          reason: 'etcd at http://10.0.0.5:2379 is unreachable',
          peers: { count: 0 },
          lastReconcile: { at: '2026-11-29T11:59:50Z', ms: 4.2, applied: 1, failed: 0, repairs: ['weft.256: missing'] },
          repairs: 1,
        },
      ],
    };
    expect(statusText(d, false, now)).toBe(
      'weft 0.1.0 on h1, up 1h 0m\netcd        http://10.0.0.5:2379 (in use, 1.5 ms); last answer 2s ago\n\n' +
        'network  VNI  subnet          lease expires  device    MTU   peers  ready  last reconcile\n' +
        'RED      256  10.10.10.32/27  in 23h 0m      weft.256  1450  0      NO     10s ago, 4.2 ms, 1 repaired (1 since start)\n' +
        'RED: not ready: etcd at http://10.0.0.5:2379 is unreachable\nRED: repaired: weft.256: missing\n',
    );
    const docker = {
      pluginSocket: '/run/docker/plugins/weft.sock',
      engine: 'unix:///var/run/docker.sock',
      resolver: '169.254.53.53',
      lastOkAt: '2026-11-29T11:59:57Z',
      error: undefined,
      networks: ['RED'],
    };
    expect(statusText({ ...d, docker }, false, now)).toContain(
      '\n\ndocker      plugin /run/docker/plugins/weft.sock; dockerd at unix:///var/run/docker.sock, answered 3s ago; networks RED; ' +
        'DNS for containers on 169.254.53.53\n',
    );
    expect(statusText({ ...d, docker: { ...docker, error: 'cannot reach Docker', networks: [] } }, false, now)).toContain(
      'dockerd at unix:///var/run/docker.sock FAILING: cannot reach Docker (last answer 3s ago); no weft network in Docker yet',
    );
  });

  it("shows a dual-stack network's IPv6 subnet and device beside the IPv4 ones, and its peers' with -v", () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    const d = {
      version: '0.1.0',
      node: 'h1',
      startedAt: '2026-11-29T11:00:00Z',
      uptimeSeconds: 60,
      at: '2026-11-29T12:00:00Z',
      store: { kind: 'etcd', endpoints: [] },
      cni: { confDir: '/etc/cni/net.d', dataDir: '/var/lib/cni/weft' },
      firewall: {},
      networks: [
        {
          name: 'default',
          vni: 1,
          subnet: '10.244.3.0/24',
          subnet6: 'fc00:0:0:3::/64',
          leaseExpires: undefined,
          device: 'flannel.1',
          device6: 'flannel-v6.1',
          mtu: 1430,
          ready: true,
          reason: undefined,
          peers: {
            count: 1,
            list: [
              {
                subnet: '10.244.4.0/24',
                publicIP: '192.0.2.4',
                vtepMac: '02:00:00:00:00:04',
                subnet6: 'fc00:0:0:4::/64',
                publicIPv6: '2001:db8::4',
              },
            ],
          },
          lastReconcile: undefined,
          repairs: 0,
        },
      ],
    } as unknown as DaemonStatus;
    const text = statusText(d, true, now);
    expect(text).toContain('10.244.3.0/24, fc00:0:0:3::/64');
    expect(text).toContain('flannel.1, flannel-v6.1');
    expect(text).toMatch(/10\.244\.4\.0\/24 +192\.0\.2\.4 +02:00:00:00:00:04 +fc00:0:0:4::\/64 +2001:db8::4/);
  });
});
