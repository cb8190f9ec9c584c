/**
 * Faults in what weft owns on a host, made by hand as an operator or another tool would (issue 11): each is
 * repaired (kernel objects within about a second, from the kernel's own notifications; the firewall and
 * forwarding within the resync period), nothing of the cluster's state is lost, and the data path works.
 */
import { describe, expect, it } from 'vitest';
import { bridgeJson, inNetns, ipJson, ping, run } from '../helpers/sh.ts';
import { chaosCluster, converged, dataPathWorks, expectNothingLost, inventory, subnetOf, type Chaos } from './harness.ts';

const macOf = (x: Chaos, n: number, dev: string) =>
  ipJson<Array<{ address: string }>>(x.c.hosts[n - 1]!.name, ['link', 'show', dev])[0]!.address;
const has = (f: () => unknown[]) => () => {
  try {
    return f().length > 0;
  } catch {
    return false;
  }
};

describe('faults in the kernel and the firewall', () => {
  it('repairs deleted FDB, neighbour and route entries, a deleted VXLAN device and bridge, a changed MTU and ip_forward off', async () => {
    const x = await chaosCluster('ck');
    const before = await inventory(x);
    dataPathWorks(x);
    const h1 = x.c.hosts[0]!.name;
    const peer = subnetOf(x, 2, 'RED').subnet;
    const gw = peer.split('/')[0]!;
    const mac = macOf(x, 2, 'weft.256');
    const fdb = () =>
      bridgeJson<Array<{ mac: string; dst?: string }>>(h1, ['fdb', 'show', 'dev', 'weft.256']).filter(
        (f) => f.mac === mac && f.dst === '192.0.2.2',
      );
    const neigh = () =>
      ipJson<Array<{ dst: string; lladdr?: string }>>(h1, ['neigh', 'show', 'dev', 'weft.256']).filter(
        (e) => e.dst === gw && e.lladdr === mac,
      );
    const route = () => ipJson<unknown[]>(h1, ['route', 'show', peer]);

    run('bridge', ['-n', h1, 'fdb', 'del', mac, 'dev', 'weft.256', 'dst', '192.0.2.2', 'self']);
    await converged('FDB entry deleted', has(fdb));
    run('ip', ['-n', h1, 'neigh', 'del', gw, 'dev', 'weft.256']);
    await converged('neighbour deleted', has(neigh));
    run('ip', ['-n', h1, 'route', 'del', peer]);
    await converged('route deleted', has(route));
    run('ip', ['-n', h1, 'link', 'set', 'weft.256', 'mtu', '1400']);
    await converged('VXLAN MTU changed', () => ipJson<Array<{ mtu: number }>>(h1, ['link', 'show', 'weft.256'])[0]?.mtu === 1450);
    run('ip', ['-n', h1, 'link', 'del', 'weft.256']);
    await converged(
      'VXLAN device deleted',
      () => has(fdb)() && has(neigh)() && has(route)() && macOf(x, 1, 'weft.256') === before.hosts.h1!.macs['weft.256'],
    );
    run('ip', ['-n', h1, 'link', 'del', 'w-RED']);
    await converged('bridge deleted (containers detached)', () => {
      const br = ipJson<Array<{ ifindex: number; operstate: string; addr_info: Array<{ local: string }> }>>(h1, [
        'addr',
        'show',
        'w-RED',
      ])[0];
      const ports = ipJson<Array<{ master?: string }>>(h1, ['link', 'show', 'master', 'w-RED']);
      const gateway = subnetOf(x, 1, 'RED').gateway;
      return !!br && br.addr_info.some((a) => a.local === gateway) && ports.length === 1;
    });
    run('ip', ['netns', 'exec', h1, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    await converged('ip_forward turned off', () => inNetns(h1, 'cat', ['/proc/sys/net/ipv4/ip_forward']).stdout.trim() === '1');

    dataPathWorks(x);
    expectNothingLost(before, await inventory(x));
    expect(x.c.daemon(1).log()).toMatch(/warn {2}repaired what changed behind weft's back: w-RED: missing/);
  });

  it('nft flush ruleset: isolation, masquerade, port guard and VXLAN filter are back within the resync period (issue 11)', async () => {
    const x = await chaosCluster('cf', { nets: ['RED', 'BLUE'] });
    const before = await inventory(x);
    const red1 = x.pods.find((p) => p.name === 'red1')!;
    const blue2 = x.pods.find((p) => p.name === 'blue2')!;
    expect(ping(red1.ns.name, blue2.ip)).toBe(false);
    const h1 = x.c.hosts[0]!.name;
    run('ip', ['netns', 'exec', h1, 'nft', 'flush', 'ruleset']);
    expect(run('ip', ['netns', 'exec', h1, 'nft', 'list', 'tables'])).toBe('');
    await converged('nft flush ruleset', () => {
      const tables = run('ip', ['netns', 'exec', h1, 'nft', 'list', 'tables']);
      return (
        tables.includes('inet weft_isolation') &&
        tables.includes('ip weft_RED') &&
        tables.includes('ip weft_BLUE') &&
        tables.includes('bridge weft_guard') &&
        tables.includes('inet weft_vxlan')
      );
    });
    // The port guard comes back with its ports, from the attachment records (issue 25).
    const ports = run('ip', ['netns', 'exec', h1, 'nft', 'list', 'set', 'bridge', 'weft_guard', 'ports']);
    expect(ports.match(/"veth[0-9a-f]{8}"/g)?.length).toBe(x.pods.filter((p) => p.host === 1).length);
    expect(ping(red1.ns.name, blue2.ip)).toBe(false);
    dataPathWorks(x);
    expectNothingLost(before, await inventory(x));
    expect(x.c.daemon(1).log()).toMatch(/warn {2}firewall: table .* was missing.*\(a firewall reload or nft flush ruleset\?\); restored/);
  });
});
