/** An attachment record for tests, `over` changing what a case is about. */
import type { AttachmentRecord } from '../records.ts';

export const record = (over: Partial<AttachmentRecord> = {}): AttachmentRecord => ({
  v: 1,
  cniNetwork: 'weft',
  network: 'red',
  containerID: 'c0ffee',
  ifname: 'eth0',
  netns: '/var/run/netns/x',
  hostVeth: 'veth0123abcd',
  bridge: 'w-red',
  bootId: 'boot-1',
  state: 'added',
  ips: ['10.5.1.2/24'],
  created: '2026-12-07T00:00:00.000Z',
  ...over,
});
