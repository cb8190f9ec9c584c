/**
 * `weft doctor`'s judgements: the daemon's desired state (its status document) against the facts read off
 * the host, as checks that say ok, warn or fail, name what is wrong, and say how to fix it. Pure.
 */
import { bridgeDrift } from '../bridge/mod.ts';
import type { DaemonStatus, DockerStatus, NetworkStatus, OverlayState } from '../contract/status.ts';
import { splitRuleset, withoutElements } from '../firewall/mod.ts';
import { holds, sysctlName } from '../forwarding/mod.ts';
import type { Link } from '../kernel/mod.ts';
import {
  describeOp,
  diffOverlay,
  vtepDrift,
  type OverlayDesired,
  type OverlayObserved,
  type PlannedRoute,
  type VtepSpec,
} from '../overlay/mod.ts';
import type { HostFacts, NetworkFacts } from './facts.ts';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Check {
  /** A stable identifier: daemon, etcd, ready, vxlan-device, peers, bridge, subnet-file, conflist, cni-config, firewall, ... */
  readonly check: string;
  readonly network?: string;
  readonly status: Verdict;
  readonly detail: string;
  readonly fix?: string;
}

const ok = (check: string, detail: string, network?: string): Check => ({ check, ...(network && { network }), status: 'ok', detail });
const bad = (status: 'warn' | 'fail', check: string, detail: string, fix: string, network?: string): Check => ({
  check,
  ...(network && { network }),
  status,
  detail,
  fix,
});

const REPAIRS =
  'the daemon repairs this within a second; if it keeps coming back, find the tool that changes it (a network manager, a firewall reload)';

/** The desired overlay with the VTEP's index of now. */
function desiredOverlay(d: OverlayState, index: number): OverlayDesired {
  return {
    neighs: new Map(d.neighs.map((e) => [e.ip, e.mac])),
    fdb: new Map(d.fdb.map((e) => [e.mac, e.dst])),
    routes: new Map(
      d.routes.map((r): [string, PlannedRoute] => [
        r.dst,
        { dst: r.dst, gateway: r.gateway, oif: r.direct ? undefined : index, onlink: !r.direct },
      ]),
    ),
  };
}

/** One VTEP against its desired state: the device itself, then every peer's entries on it. */
function deviceChecks(
  n: NetworkStatus,
  want: { readonly vtep: VtepSpec; readonly overlay: OverlayState },
  have: { readonly vtep: Link | undefined; readonly vtepAddrs: readonly string[]; readonly overlay: OverlayObserved | undefined },
): Check[] {
  const name = n.name;
  const out: Check[] = [];
  const v = want.vtep;
  const drift = vtepDrift(
    have.vtep,
    have.vtepAddrs.map((cidr) => ({ cidr })),
    v,
  );
  out.push(
    drift.length === 0
      ? ok('vxlan-device', `${v.name}: VNI ${v.vni}, port ${v.port || 8472}, local ${v.local}, MTU ${v.mtu}`, name)
      : bad('fail', 'vxlan-device', `${v.name}: ${drift.join(', ')}`, REPAIRS, name),
  );
  if (!have.vtep || !have.overlay) return out;
  const ops = diffOverlay(desiredOverlay(want.overlay, have.vtep.index), have.overlay);
  const missing = ops.filter((o) => o.op.endsWith('-set'));
  const stale = ops.filter((o) => o.op.endsWith('-del'));
  const peerOf = (o: (typeof ops)[number]) => {
    const p = n.peers.list?.find(
      (x) =>
        ('route' in o && (o.route.dst === x.subnet || o.route.dst === x.subnet6)) ||
        ('mac' in o && o.mac === x.vtepMac) ||
        ('ip' in o && (x.subnet.startsWith(`${o.ip}/`) || x.subnet6?.startsWith(`${o.ip}/`))),
    );
    return p ? ` (peer ${p.publicIP})` : '';
  };
  if (missing.length > 0)
    out.push(
      bad(
        'fail',
        'peers',
        `${v.name}: missing or wrong: ${missing.map((o) => `${describeOp(o).replace(/^set /, '')}${peerOf(o)}`).join('; ')}`,
        REPAIRS,
        name,
      ),
    );
  else if (stale.length > 0)
    out.push(
      bad(
        'warn',
        'peers',
        `${v.name}: entries no lease backs: ${stale.map((o) => describeOp(o).replace(/^delete /, '')).join('; ')}`,
        REPAIRS,
        name,
      ),
    );
  else out.push(ok('peers', `${v.name}: ${n.peers.count} peer(s), every route, neighbour and FDB entry in place`, name));
  return out;
}

function networkChecks(n: NetworkStatus, f: NetworkFacts | undefined, host: HostFacts): Check[] {
  const out: Check[] = [];
  const name = n.name;
  out.push(
    n.ready
      ? ok('ready', `ready, subnet ${n.subnet}, ${n.peers.count} peer(s)`, name)
      : bad('fail', 'ready', `not ready: ${n.reason ?? 'starting'}`, "see the daemon's log; the reason names the cause", name),
  );
  for (const c of n.conflicts ?? [])
    out.push(
      bad(
        'fail',
        'lease-conflict',
        `${c.key} (host ${c.publicIP}) claims addresses that ${c.with} holds; it is not programmed`,
        'the later key gives way: delete it (etcdctl del KEY) or stop the host that wrote it',
        name,
      ),
    );
  const d = n.desired;
  if (!d || !f) return out;

  out.push(...deviceChecks(n, d, f));
  if (d.v6) out.push(...deviceChecks(n, d.v6, f.v6 ?? { vtep: undefined, vtepAddrs: [], overlay: undefined }));

  if (d.bridge) {
    const spec = { name: d.bridge.name, mtu: d.bridge.mtu, mac: d.bridge.mac, gateways: d.bridge.gateways };
    const b = bridgeDrift(
      f.bridge,
      f.bridgeAddrs.map((cidr) => ({ cidr })),
      spec,
      f.ports,
    );
    out.push(
      b.length === 0
        ? ok('bridge', `${spec.name}: ${spec.gateways.join(', ')}, ${f.ports.length} container(s)`, name)
        : bad('fail', 'bridge', `${spec.name}: ${b.join(', ')}`, REPAIRS, name),
    );
  }

  if (f.subnetFile === undefined)
    out.push(
      bad(
        'fail',
        'subnet-file',
        `${d.subnetFile.path} is missing: the CNI plugin cannot attach containers`,
        'the daemon writes it again within its resync period',
        name,
      ),
    );
  else if (f.subnetFile !== d.subnetFile.text) {
    const want = /FLANNEL_SUBNET=(\S+)/.exec(d.subnetFile.text)?.[1];
    const have = /FLANNEL_SUBNET=(\S+)/.exec(f.subnetFile)?.[1];
    out.push(
      bad(
        'fail',
        'subnet-file',
        `${d.subnetFile.path} differs from the lease${want !== have ? ` (FLANNEL_SUBNET=${have ?? 'none'}, the lease says ${want})` : ''}`,
        'the daemon writes it again within its resync period',
        name,
      ),
    );
  } else out.push(ok('subnet-file', `${d.subnetFile.path} matches the lease`, name));

  if (d.conflist && f.conflist) {
    if (f.conflist.text === undefined)
      out.push(
        bad(
          'fail',
          'conflist',
          `${d.conflist.path} is missing: runtimes do not know network ${d.conflist.name}`,
          'the daemon writes it again within its resync period',
          name,
        ),
      );
    else if (f.conflist.shadowedBy.length > 0) {
      out.push(
        bad(
          'fail',
          'conflist',
          `${f.conflist.shadowedBy.join(', ')} also define${f.conflist.shadowedBy.length === 1 ? 's' : ''} network ${d.conflist.name} ` +
            `and sort${f.conflist.shadowedBy.length === 1 ? 's' : ''} before ${d.conflist.path.split('/').pop()}: runtimes use that one`,
          `remove or rename ${f.conflist.shadowedBy.join(', ')}`,
          name,
        ),
      );
    } else out.push(ok('conflist', `${d.conflist.path}`, name));
  }

  const rp = Math.max(host.rpFilterAll, f.rpFilter ?? 0);
  if (rp === 1)
    out.push(
      bad(
        'warn',
        'rp-filter',
        `strict reverse-path filtering on ${d.vtep.name} (net.ipv4.conf.{all,${d.vtep.name}}.rp_filter = 1) ` +
          'drops overlay replies that come back another way',
        `sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${d.vtep.name}.rp_filter=2`,
        name,
      ),
    );
  else out.push(ok('rp-filter', `rp_filter ${rp} on ${d.vtep.name}`, name));

  const underlayMtu = f.underlay?.mtu ?? d.underlay.mtu;
  out.push(
    underlayMtu >= d.vtep.mtu + 50
      ? ok('mtu', `underlay ${d.underlay.name} ${underlayMtu} >= ${d.vtep.mtu} + 50 (VXLAN)`, name)
      : bad(
          'fail',
          'mtu',
          `underlay ${d.underlay.name} has MTU ${underlayMtu}, but ${d.vtep.name} needs ${d.vtep.mtu + 50} ` +
            `(its ${d.vtep.mtu} + 50 for VXLAN): large packets are dropped`,
          `raise ${d.underlay.name}'s MTU, or set the network's MTU to ${underlayMtu - 50} (Backend.MTU, --mtu)`,
          name,
        ),
  );

  if (f.txChecksum === 'on')
    out.push(
      bad(
        'warn',
        'checksum-offload',
        `tx-checksum-ip-generic is on for ${d.vtep.name}: with some kernels and NICs, encapsulated TCP and UDP then arrive ` +
          "with bad checksums (ping works, connections do not; flannel's known issue)",
        `if containers on different hosts can ping but not connect: ethtool -K ${d.vtep.name} tx-checksum-ip-generic off`,
        name,
      ),
    );
  else if (f.txChecksum === 'off') out.push(ok('checksum-offload', `tx-checksum-ip-generic is off for ${d.vtep.name}`, name));
  else out.push(bad('warn', 'checksum-offload', `cannot read ${d.vtep.name}'s offloads (ethtool missing?)`, 'install ethtool', name));
  return out;
}

/** The Docker plugin's side: dockerd reachable, the resolver's address in place, dockerd's dns pointing at it. */
/**
 * The host rule (pkg/forwarding): forwarding of each family the networks carry (ip-forward, ip6-forward), and
 * the IPv6 underlays' accept_ra (accept-ra: a warning, containers still work, the host may lose its route later).
 */
export function hostRuleChecks(sysctls: HostFacts['sysctls']): Check[] {
  return sysctls.flatMap(({ setting: s, now }) => {
    // An underlay that is gone is the vxlan-device check's to report.
    if (s.kind === 'accept_ra' && now === '') return [];
    const name = s.kind === 'accept_ra' ? 'accept-ra' : s.family === 4 ? 'ip-forward' : 'ip6-forward';
    const sysctl = sysctlName(s.key);
    if (holds(s, now)) return [ok(name, `${sysctl} = ${now}`)];
    const is = s.kind === 'forwarding' && (now === '0' || now === '') ? 'off' : now;
    const fix = `sysctl -w ${sysctl}=${s.value} (the daemon sets it within its resync period)`;
    return [bad(s.kind === 'accept_ra' ? 'warn' : 'fail', name, `${sysctl} is ${is}: ${s.why}`, fix)];
  });
}

export function dockerChecks(d: DockerStatus, f: HostFacts['docker']): Check[] {
  const out: Check[] = [
    d.error
      ? bad(
          'fail',
          'docker',
          `dockerd at ${d.engine}: ${d.error}`,
          'start docker (systemctl start docker), or point --docker-host at its socket',
        )
      : ok('docker', `plugin on ${d.pluginSocket}; dockerd answers; weft networks in Docker: ${d.networks.join(', ') || 'none yet'}`),
  ];
  if (!d.resolver || !f) return out;
  if (!f.loopbackAddrs.includes(`${d.resolver}/32`))
    return [...out, bad('fail', 'docker-dns', `${d.resolver} is not on lo: Docker containers cannot resolve names`, REPAIRS)];
  let dns: unknown;
  try {
    dns = f.config === undefined ? undefined : (JSON.parse(f.config) as { dns?: unknown }).dns;
  } catch {
    dns = 'unreadable';
  }
  if (f.config !== undefined && !(Array.isArray(dns) && dns.includes(d.resolver)))
    return [
      ...out,
      bad(
        'warn',
        'docker-dns',
        `dockerd's dns (/etc/docker/daemon.json) does not name ${d.resolver}: containers do not resolve other hosts' names`,
        'weft install --docker, then systemctl restart docker',
      ),
    ];
  return [...out, ok('docker-dns', `weft's resolver for Docker containers answers on ${d.resolver}`)];
}

export function diagnose(s: DaemonStatus, host: HostFacts, o: { readonly daemon: Check; readonly version: string }): Check[] {
  const out: Check[] = [o.daemon];
  if (s.store.kind === 'etcd') {
    const cur = s.store.endpoints?.find((e) => e.current);
    const failing = cur?.lastError && (!cur.lastOkAt || (cur.lastErrorAt ?? '') > cur.lastOkAt);
    out.push(
      failing
        ? bad('fail', 'etcd', `${cur!.lastError}`, 'check --etcd-endpoints and that etcd is up (weft status shows every endpoint)')
        : ok('etcd', `${cur?.endpoint ?? '?'} answers${cur?.latencyMs !== undefined ? ` (${cur.latencyMs} ms)` : ''}`),
    );
  }
  for (const n of s.networks)
    out.push(
      ...networkChecks(
        n,
        host.networks.find((f) => f.name === n.name),
        host,
      ),
    );

  if (typeof host.ruleset !== 'string')
    out.push(bad('fail', 'firewall', `cannot list the ruleset: ${host.ruleset.error}`, 'install nftables; run weft doctor as root'));
  else {
    const tables = splitRuleset(host.ruleset);
    // The port guard's elements come and go with containers: weft applied it, and compares it, without them.
    const same = (now: string, text: string) => now === text || withoutElements(now) === text;
    const problems = Object.entries(s.firewall).flatMap(([key, text]) => {
      const now = tables.get(key);
      return now === undefined ? [`table ${key} is missing`] : !same(now, text) ? [`table ${key} was changed`] : [];
    });
    out.push(
      problems.length > 0
        ? bad(
            'fail',
            'firewall',
            problems.join('; '),
            'the daemon restores it within its resync period; a firewall reload removes it again: ' +
              "reload the daemon after it, or exclude weft's tables",
          )
        : ok(
            'firewall',
            `${Object.keys(s.firewall).length} table(s) as weft applied them` +
              `${Object.keys(s.firewall).length > 0 ? `: ${Object.keys(s.firewall).join(', ')}` : ''}`,
          ),
    );
  }
  out.push(...hostRuleChecks(host.sysctls));

  const portProblems: Check[] = [];
  for (const [port, inodes] of host.portHolders) {
    portProblems.push(
      bad(
        'fail',
        'vxlan-port',
        `UDP port ${port} is also bound by a program (socket inode ${inodes.join(', ')}): VXLAN packets may go to it`,
        `find it (ss -ulpn 'sport = :${port}') and stop it, or give the network another port (Backend.Port)`,
      ),
    );
  }
  for (const n of s.networks) {
    const v = n.desired?.vtep;
    if (!v) continue;
    const twins = host.vxlans.filter((l) => l.name !== v.name && l.vxlan?.vni === v.vni && (l.vxlan?.port ?? 8472) === (v.port || 8472));
    if (twins.length > 0) {
      const names = twins.map((l) => l.name).join(', ');
      portProblems.push(
        bad(
          'fail',
          'vxlan-port',
          `${names} also carr${twins.length === 1 ? 'ies' : 'y'} VNI ${v.vni} on port ${v.port || 8472}: ` +
            `packets for ${v.name} may go there`,
          `delete ${names} (ip link del ...)`,
          n.name,
        ),
      );
    }
  }
  out.push(...(portProblems.length > 0 ? portProblems : [ok('vxlan-port', 'no other socket or VXLAN device takes the VXLAN ports')]));

  if (host.firstConfig && !host.firstConfig.weft && s.networks.some((n) => n.name === 'default')) {
    out.push(
      bad(
        'warn',
        'cni-config',
        `${host.firstConfig.file} sorts first in ${s.cni.confDir}: ` +
          "runtimes that take the first config (the kubelet, containerd) use it, not weft's",
        `rename weft's conflist to sort first, or remove ${host.firstConfig.file}`,
      ),
    );
  }
  if (host.pluginVersion === undefined)
    out.push(bad('warn', 'cni-plugin', 'no weft in the CNI bin directory: runtimes cannot run a network of type weft', 'weft install'));
  else if (host.pluginVersion !== o.version) {
    out.push(
      bad(
        'warn',
        'cni-plugin',
        `the CNI plugin is ${host.pluginVersion}, the daemon ${o.version}`,
        'weft install (it copies this executable into the CNI bin directory)',
      ),
    );
  } else out.push(ok('cni-plugin', `the CNI plugin is the daemon's version (${o.version})`));
  if (s.docker) out.push(...dockerChecks(s.docker, host.docker));
  return out;
}
