/**
 * Attacks on isolation that worked before issue 25 (each was seen to succeed on the code before), on simulated
 * hosts with the real daemon and plugin: a container sending with a source address that is not its own (from
 * another network's range, from no network, another container's on its own network, IPv4 and IPv6), with a
 * MAC not its own, or ARP claiming another container's address; a port on the default bridge that weft did
 * not make (a pod flannel's CNI attached before weft took the host over) sending as another network; a
 * namespace on the underlay that holds no lease sending VXLAN with a network's VNI, and a host with a lease on
 * the default network doing the same. Each must fail while the same containers' own traffic, and a
 * flanneld-style peer's, still flows.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { flannelHost } from '../helpers/flannel-host.ts';
import { eventually } from '../helpers/daemon.ts';
import { makeNetns } from '../helpers/netns.ts';
import { inNetns, ipJson, ping, run } from '../helpers/sh.ts';
import { arrived, udpSend, udpSink } from '../helpers/udp.ts';
import { weftOk } from '../helpers/weft-cli.ts';
import type { SimCluster } from '../../pkg/sim/mod.ts';

interface Attached {
  readonly ns: string;
  readonly ip: string;
  readonly ip6: string | undefined;
  readonly mac: string;
}

async function connect(c: SimCluster, n: number, net: string, name: string): Promise<Attached> {
  const ns = await c.sim.namespace(`h${n}-${name}`);
  const r = JSON.parse(weftOk(c, n, ['network', 'connect', net, '--netns', ns.path, '--name', name])) as {
    ips: Array<{ address: string }>;
  };
  const ips = r.ips.map((i) => i.address.split('/')[0]!);
  const mac = ipJson<Array<{ address: string }>>(ns.name, ['link', 'show', 'eth0'])[0]!.address;
  return { ns: ns.name, ip: ips.find((a) => !a.includes(':'))!, ip6: ips.find((a) => a.includes(':')), mac };
}

async function networks(c: SimCluster, hosts: number[], nets: Array<[string, ...string[]]>): Promise<void> {
  for (const [name, ...args] of nets) weftOk(c, 1, ['network', 'create', ...args, name]);
  for (const n of hosts)
    for (const [name] of nets)
      await eventually(`${name} served on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, `weft-${name}.conflist`)));
}

const PORT = 5000;
/** Another build to attack (WEFT_TEST_BIN=/path/to/an/older/weft shows what these attacks did before issue 25). */
const BIN = process.env.WEFT_TEST_BIN;

describe('isolation against spoofing containers and strangers on the underlay (issue 25)', () => {
  it('a container sends only as itself: other networks, no network, its neighbours, their MAC and ARP all fail', async () => {
    const c = await testCluster('si', { hosts: 2, ...(BIN && { bin: BIN }) });
    await c.startAll();
    await networks(
      c,
      [1, 2],
      [
        ['RED', '--ipv6', '--subnet', '10.10.10.0/24', '--subnet', 'fd00:10::/64'],
        ['BLUE', '--subnet', '10.10.20.0/24'],
      ],
    );
    const red1 = await connect(c, 1, 'RED', 'red1');
    const red3 = await connect(c, 1, 'RED', 'red3');
    const red2 = await connect(c, 2, 'RED', 'red2');
    const blue1 = await connect(c, 1, 'BLUE', 'blue1');
    const blue2 = await connect(c, 2, 'BLUE', 'blue2');
    const pod1 = await c.pod(1, 'sipod1');
    const pod2 = await c.pod(2, 'sipod2');
    const h1 = c.hosts[0]!.name;

    // Their own traffic flows, over both families and the default network.
    expect(ping(red1.ns, red2.ip)).toBe(true);
    expect(ping(red1.ns, red2.ip6!)).toBe(true);
    expect(ping(red1.ns, red3.ip)).toBe(true);
    expect(ping(blue1.ns, blue2.ip)).toBe(true);
    expect(ping(pod1.ns.name, pod2.ip)).toBe(true);
    const atBlue2 = await udpSink(blue2.ns, PORT);
    const atBlue1 = await udpSink(blue1.ns, PORT);
    const atRed2 = await udpSink(red2.ns, PORT);
    const atRed2six = await udpSink(red2.ns, PORT + 1, 6);
    const atPod2 = await udpSink(pod2.ns.name, PORT);
    udpSend(red1.ns, { src: red1.ip, dst: red2.ip, port: PORT, tag: 'own' });
    expect(await arrived(atRed2, 'own')).toBe(5);

    // RED's container as BLUE's (blue1 on its own host), to BLUE on another host and on its own host.
    udpSend(red1.ns, { src: blue1.ip, dst: blue2.ip, port: PORT, tag: 'as-blue' });
    expect.soft(await arrived(atBlue2, 'as-blue'), 'attack: RED as BLUE, to another host').toBe(0);
    udpSend(red1.ns, { src: '10.10.20.77', dst: blue1.ip, port: PORT, tag: 'as-blue-here' });
    expect.soft(await arrived(atBlue1, 'as-blue-here'), 'attack: RED as BLUE, on its own host').toBe(0);
    // As no network at all (before issue 25 these arrived, masqueraded by the host).
    udpSend(red1.ns, { src: '198.51.100.9', dst: blue2.ip, port: PORT, tag: 'as-none' });
    expect.soft(await arrived(atBlue2, 'as-none'), 'attack: as no network').toBe(0);
    // As another container of its own network, IPv4 and IPv6.
    udpSend(red1.ns, { src: red3.ip, dst: red2.ip, port: PORT, tag: 'as-red3' });
    expect.soft(await arrived(atRed2, 'as-red3'), 'attack: as a neighbour on its network (IPv4)').toBe(0);
    udpSend(red1.ns, { src: red3.ip6!, dst: red2.ip6!, port: PORT + 1, tag: 'as-red3-6' });
    expect.soft(await arrived(atRed2six, 'as-red3-6'), 'attack: as a neighbour on its network (IPv6)').toBe(0);
    // A default-network pod as another one (cni0 is guarded too).
    udpSend(pod1.ns.name, { src: '10.244.99.99', dst: pod2.ip, port: PORT, tag: 'pod-as-other' });
    expect.soft(await arrived(atPod2, 'pod-as-other'), 'attack: a default-network pod as another').toBe(0);

    // With a MAC not its own (a raw socket writes any source MAC; `ip link set address` puts the same frame on the wire).
    run('ip', ['-n', red1.ns, 'link', 'set', 'eth0', 'address', '02:42:de:ad:be:ef']);
    udpSend(red1.ns, { src: red1.ip, dst: red2.ip, port: PORT, tag: 'mac' });
    expect.soft(await arrived(atRed2, 'mac'), 'attack: a MAC not its own').toBe(0);
    run('ip', ['-n', red1.ns, 'link', 'set', 'eth0', 'address', red1.mac]);

    // ARP claiming red3's address: the host's entry for red3 keeps red3's MAC.
    expect(inNetns(h1, 'ping', ['-c', '1', '-W', '2', red3.ip]).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // past the neighbour entry's locktime (1 s), so an update would show
    // busybox arping binds its probe socket to the claimed address first: allow that, as a raw socket needs no bind.
    run('ip', ['netns', 'exec', red1.ns, 'sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1']);
    const claim = inNetns(red1.ns, 'busybox', ['arping', '-U', '-c', '3', '-w', '3', '-I', 'eth0', '-s', red3.ip, red3.ip]);
    expect(claim.stdout, claim.stderr).toContain('Sent 3 probe');
    const entry = ipJson<Array<{ lladdr?: string }>>(h1, ['neigh', 'show', red3.ip, 'dev', 'w-RED'])[0];
    expect.soft(entry?.lladdr, 'attack: ARP claiming a neighbour').toBe(red3.mac);

    // And afterwards everyone's own traffic still flows.
    expect(ping(red1.ns, red2.ip)).toBe(true);
    expect(ping(red1.ns, red2.ip6!)).toBe(true);
    expect(ping(red2.ns, red3.ip)).toBe(true);
    udpSend(red1.ns, { src: red1.ip, dst: red2.ip, port: PORT, tag: 'own-after' });
    expect(await arrived(atRed2, 'own-after')).toBe(5);
    udpSend(red1.ns, { src: red1.ip6!, dst: red2.ip6!, port: PORT + 1, tag: 'own-after-6' });
    expect(await arrived(atRed2six, 'own-after-6')).toBe(5);
  }, 180_000);

  it('isolation holds by interface for ports weft did not make; VXLAN is taken only from hosts with a lease on its network', async () => {
    const c = await testCluster('sv', { hosts: 2, ...(BIN && { bin: BIN }) });
    await c.startAll();
    await networks(c, [1, 2], [['BLUE', '--subnet', '10.10.20.0/24']]);
    const blue1 = await connect(c, 1, 'BLUE', 'blue1');
    const blue2 = await connect(c, 2, 'BLUE', 'blue2');
    const pod1 = await c.pod(1, 'svpod1');
    const atBlue2 = await udpSink(blue2.ns, PORT);

    // A pod flannel's CNI attached to cni0 before weft took host 1 over: no record, so its port is not guarded,
    // yet nothing it sends leaves through another network's VTEP or bridge, whatever its source address.
    const gw1 = ipJson<Array<{ gateway: string }>>(pod1.ns.name, ['route', 'show', 'default'])[0]!.gateway;
    const legacy = makeNetns('sv-legacy');
    const h1 = c.hosts[0]!.name;
    run('ip', ['-n', h1, 'link', 'add', 'vethlegacy', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', legacy.name]);
    run('ip', ['-n', h1, 'link', 'set', 'vethlegacy', 'master', 'cni0', 'up']);
    const legacyIp = gw1.replace(/\.1$/, '.200');
    run('ip', ['-n', legacy.name, 'addr', 'add', `${legacyIp}/24`, 'dev', 'eth0']);
    run('ip', ['-n', legacy.name, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', legacy.name, 'route', 'add', 'default', 'via', gw1]);
    expect(ping(legacy.name, pod1.ip)).toBe(true);
    udpSend(legacy.name, { src: blue1.ip, dst: blue2.ip, port: PORT, tag: 'legacy-as-blue' });
    expect.soft(await arrived(atBlue2, 'legacy-as-blue'), 'attack: a port weft did not make, as BLUE').toBe(0);

    // A port on BLUE's bridge that weft did not make (no attachment record) is cut off within a moment.
    const stray = makeNetns('sv-stray');
    run('ip', ['-n', h1, 'link', 'add', 'vethstray', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', stray.name]);
    run('ip', ['-n', h1, 'link', 'set', 'vethstray', 'master', 'w-BLUE', 'up']);
    const octets = blue1.ip.split('.').map(Number);
    const strayIp = [...octets.slice(0, 3), (octets[3]! & 0xe0) + 29].join('.'); // in blue1's /27, not handed out yet
    run('ip', ['-n', stray.name, 'addr', 'add', `${strayIp}/27`, 'dev', 'eth0']);
    run('ip', ['-n', stray.name, 'link', 'set', 'eth0', 'up']);
    await eventually('the stray port quarantined', () =>
      run('ip', ['netns', 'exec', h1, 'nft', 'list', 'set', 'bridge', 'weft_guard', 'quarantine']).includes('"vethstray"'),
    );
    expect.soft(ping(stray.name, blue1.ip, { timeoutSec: 1 }), 'attack: a port on a named network weft did not make').toBe(false);

    // A namespace on the underlay with no lease builds a VTEP with BLUE's VNI and sends to host 2 as blue1.
    const vni = Number(
      (JSON.parse(weftOk(c, 1, ['network', 'inspect', 'BLUE'])) as Array<{ Options: Record<string, string> }>)[0]!.Options[
        'com.docker.network.driver.overlay.vxlanid_list'
      ],
    );
    const h2 = c.hosts[1]!.name;
    const vtepMac = ipJson<Array<{ address: string }>>(h2, ['link', 'show', `weft.${vni}`])[0]!.address;
    const stranger = await c.sim.addHost(9);
    const s = stranger.name;
    run('ip', ['-n', s, 'link', 'add', 'vx', 'type', 'vxlan', 'id', String(vni), 'remote', c.hosts[1]!.ip, 'local', stranger.ip]);
    run('ip', ['-n', s, 'link', 'set', 'vx', 'up']);
    run('ip', ['-n', s, 'addr', 'add', `${blue1.ip}/32`, 'dev', 'vx']);
    run('ip', ['-n', s, 'route', 'add', `${blue2.ip}/32`, 'dev', 'vx']);
    run('ip', ['-n', s, 'neigh', 'add', blue2.ip, 'lladdr', vtepMac, 'dev', 'vx', 'nud', 'permanent']);
    udpSend(s, { src: blue1.ip, dst: blue2.ip, port: PORT, tag: 'stranger' });
    expect.soft(await arrived(atBlue2, 'stranger'), 'attack: VXLAN from a host with no lease').toBe(0);
    // blue1 itself, over host 1's VTEP, still reaches blue2.
    udpSend(blue1.ns, { src: blue1.ip, dst: blue2.ip, port: PORT, tag: 'blue1' });
    expect(await arrived(atBlue2, 'blue1')).toBe(5);

    // A host programmed as flanneld programs one (as in test/controller/flannel-interop.test.ts) holds a lease:
    // its pod and weft's reach each other over VXLAN.
    const { host: flannel, ipf, pod: fpod } = await flannelHost(c, 3, 'sv-fpod');
    const f = flannel.name;
    await eventually('weft programs the flannel host', () => ipJson(h1, ['route', 'show', '10.244.200.0/24']).length === 1);
    const weftSubnet = c.daemon(1).subnetEnv().subnet!;
    const kv = (await c.etcd.client.getPrefix(`${c.prefix}/subnets/${weftSubnet.replace('/', '-')}`)).kvs[0]!;
    const attrs = JSON.parse(kv.value.toString()) as { PublicIP: string; BackendData: { VtepMAC: string } };
    const gw = weftSubnet.split('/')[0]!;
    ipf('neigh', 'replace', gw, 'lladdr', attrs.BackendData.VtepMAC, 'dev', 'flannel.1', 'nud', 'permanent');
    run('bridge', ['-n', f, 'fdb', 'replace', attrs.BackendData.VtepMAC, 'dev', 'flannel.1', 'dst', attrs.PublicIP, 'self', 'permanent']);
    ipf('route', 'replace', weftSubnet, 'via', gw, 'dev', 'flannel.1', 'onlink');
    run('ip', ['netns', 'exec', f, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    expect(ping(fpod.name, pod1.ip, { count: 2 })).toBe(true);
    expect(ping(pod1.ns.name, '10.244.200.2', { count: 2 })).toBe(true);

    // Its lease is on the default network: VXLAN it sends with BLUE's VNI is still a stranger's.
    ipf('link', 'add', 'vx', 'type', 'vxlan', 'id', String(vni), 'remote', c.hosts[1]!.ip, 'local', flannel.ip, 'dstport', '8472');
    ipf('link', 'set', 'vx', 'up');
    ipf('addr', 'add', `${blue1.ip}/32`, 'dev', 'vx');
    ipf('route', 'add', `${blue2.ip}/32`, 'dev', 'vx');
    ipf('neigh', 'add', blue2.ip, 'lladdr', vtepMac, 'dev', 'vx', 'nud', 'permanent');
    udpSend(f, { src: blue1.ip, dst: blue2.ip, port: PORT, tag: 'leased-elsewhere' });
    expect.soft(await arrived(atBlue2, 'leased-elsewhere'), 'attack: VXLAN with the VNI of a network it has no lease on').toBe(0);
  }, 180_000);
});
