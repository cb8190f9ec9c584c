/**
 * What `weft doctor` reads off the host, as data: per network the VTEP, its addresses and the overlay's
 * entries, the bridge, the subnet file and the conflists; and host-wide the firewall ruleset, the host rule's
 * sysctls (forwarding, the underlay's accept_ra: pkg/forwarding), reverse-path filtering, who holds the VXLAN
 * ports, checksum offload and the installed plugin's version.
 * Reading only: nothing here changes the host. checks.ts decides what the facts mean.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStatus } from '../contract/status.ts';
import { DOCKER_CONFIG } from '../defaults.ts';
import { readIfExists } from '../files/mod.ts';
import { nft } from '../firewall/nft-sync.ts';
import { hostSysctls, type HostSysctl } from '../forwarding/mod.ts';
import type { KernelOps, Link } from '../kernel/mod.ts';
import { familyOf } from '../netaddr/family.ts';
import { observeOverlayScopes, type OverlayObserved } from '../overlay/mod.ts';

export interface NetworkFacts {
  readonly name: string;
  readonly vtep: Link | undefined;
  readonly vtepAddrs: readonly string[];
  readonly overlay: OverlayObserved | undefined;
  /** A dual-stack default network's IPv6 VTEP, its addresses and entries. */
  readonly v6?: { readonly vtep: Link | undefined; readonly vtepAddrs: readonly string[]; readonly overlay: OverlayObserved | undefined };
  readonly underlay: Link | undefined;
  readonly bridge: Link | undefined;
  readonly bridgeAddrs: readonly string[];
  /** The desired bridge ports that exist, as links. */
  readonly ports: readonly Link[];
  readonly subnetFile: string | undefined;
  /** The conflist's text, and the files in the conf directory that sort before it and name the same network. */
  readonly conflist: { readonly text: string | undefined; readonly shadowedBy: readonly string[] } | undefined;
  readonly rpFilter: number | undefined;
  /** `ethtool -k` of the VTEP: tx-checksum-ip-generic, or undefined when ethtool is missing. */
  readonly txChecksum: 'on' | 'off' | undefined;
}

export interface HostFacts {
  readonly networks: readonly NetworkFacts[];
  /** nft list ruleset, or why it could not be read. */
  readonly ruleset: string | { readonly error: string };
  /** The host rule (pkg/forwarding) for this host's networks, each setting with its value ('' when unreadable). */
  readonly sysctls: ReadonlyArray<{ readonly setting: HostSysctl; readonly now: string }>;
  readonly rpFilterAll: number;
  /** Userspace sockets on each VXLAN port (inode of each), from /proc/net/udp and udp6. */
  readonly portHolders: ReadonlyMap<number, readonly string[]>;
  /** Every VXLAN device: for a second device claiming a network's VNI and port. */
  readonly vxlans: readonly Link[];
  /** The first config file a runtime would take in the CNI conf directory, and whether it is weft's. */
  readonly firstConfig: { readonly file: string; readonly weft: boolean } | undefined;
  /** `<cni-bin-dir>/weft --version`, undefined when there is none. */
  readonly pluginVersion: string | undefined;
  /** With the Docker plugin: the addresses on `lo` (the resolver's belongs there) and dockerd's config file. */
  readonly docker?: { readonly loopbackAddrs: readonly string[]; readonly config: string | undefined };
}

const num = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s));

/** CNI config files in lexical order, as libcni loads them. */
function configFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /\.(conf|conflist|json)$/.test(f))
      .sort();
  } catch {
    return [];
  }
}

function networkNameOf(path: string): string | undefined {
  try {
    return (JSON.parse(readIfExists(path) ?? '') as { name?: string }).name;
  } catch {
    return undefined;
  }
}

function txChecksum(dev: string): 'on' | 'off' | undefined {
  const r = spawnSync('ethtool', ['-k', dev], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /tx-checksum-ip-generic: on/.test(r.stdout) ? 'on' : 'off';
}

/** The inodes of every socket a process holds (the kernel's own VXLAN sockets are held by none). */
function processSockets(): Set<string> {
  const out = new Set<string>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

/** Sockets of a program (not the kernel's VXLAN socket) bound to each of `ports`, from /proc/net/udp and udp6. */
function portHolders(ports: ReadonlySet<number>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let held: Set<string> | undefined;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of (readIfExists(file) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const port = Number.parseInt(f[1]?.split(':')[1] ?? '', 16);
      const inode = f[9];
      if (!ports.has(port) || !inode || inode === '0') continue;
      held ??= processSockets();
      if (held.has(inode)) out.set(port, [...(out.get(port) ?? []), inode]);
    }
  }
  return out;
}

/**
 * The host rule for the daemon's networks: IPv4 forwarding always (as doctor has always checked it), IPv6
 * forwarding when a network carries IPv6 here, with the accept_ra of those networks' underlays.
 */
export function hostRuleOf(s: Pick<DaemonStatus, 'networks'>): HostSysctl[] {
  const v6 = s.networks.filter((n) => n.subnet6 !== undefined || (n.subnet !== undefined && familyOf(n.subnet) === 6));
  return hostSysctls({
    families: v6.length > 0 ? [4, 6] : [4],
    underlays: v6.flatMap((n) => n.desired?.underlay.name ?? []),
  });
}

export async function gatherFacts(nl: KernelOps, s: DaemonStatus, o: { readonly cniBinDir: string }): Promise<HostFacts> {
  const links = await nl.listLinks();
  const byName = (n: string | undefined) => (n === undefined ? undefined : links.find((l) => l.name === n));
  const sysctl = (key: string) => {
    try {
      return nl.readSysctl(key);
    } catch {
      return '';
    }
  };
  const networks: NetworkFacts[] = [];
  for (const n of s.networks) {
    const d = n.desired;
    const vtep = byName(d?.vtep.name ?? n.device);
    const bridge = byName(d?.bridge?.name);
    let conflist: NetworkFacts['conflist'];
    if (d?.conflist) {
      const dir = join(d.conflist.path, '..');
      const mine = d.conflist.path.split('/').pop()!;
      const before = configFiles(dir).filter((f) => f < mine && networkNameOf(join(dir, f)) === d.conflist!.name);
      conflist = { text: readIfExists(d.conflist.path), shadowedBy: before };
    }
    const addrsOf = async (l: Link | undefined) => (l ? (await nl.listAddrs({ index: l.index })).map((a) => a.cidr) : []);
    const vtep6 = byName(d?.v6?.vtep.name);
    networks.push({
      name: n.name,
      vtep,
      vtepAddrs: await addrsOf(vtep),
      overlay:
        vtep && d && n.subnet
          ? await observeOverlayScopes(
              nl,
              vtep.index,
              d.scopes ?? [{ clusterNetwork: d.vtep.clusterNetwork, subnetLen: d.subnetLen, ownSubnet: n.subnet }],
            )
          : undefined,
      ...(d?.v6 && {
        v6: {
          vtep: vtep6,
          vtepAddrs: await addrsOf(vtep6),
          overlay: vtep6 ? await observeOverlayScopes(nl, vtep6.index, d.v6.scopes) : undefined,
        },
      }),
      underlay: byName(d?.underlay.name),
      bridge,
      bridgeAddrs: await addrsOf(bridge),
      ports: links.filter((l) => d?.bridge?.ports.includes(l.name)),
      subnetFile: d ? readIfExists(d.subnetFile.path) : undefined,
      conflist,
      rpFilter: vtep ? num(sysctl(`net/ipv4/conf/${vtep.name}/rp_filter`)) : undefined,
      txChecksum: vtep ? txChecksum(vtep.name) : undefined,
    });
  }
  const listing = nft(['list', 'ruleset']);
  const ports = new Set(s.networks.map((n) => n.desired?.vtep.port ?? 8472).map((p) => p || 8472));
  const confDir = s.cni.confDir;
  const first = confDir ? configFiles(confDir)[0] : undefined;
  const weftTypes = new Set(['weft', 'flannel']);
  const isWeft = (f: string) => {
    try {
      const c = JSON.parse(readIfExists(join(confDir!, f)) ?? '') as { type?: string; plugins?: Array<{ type?: string }> };
      return weftTypes.has(c.type ?? '') || weftTypes.has(c.plugins?.[0]?.type ?? '');
    } catch {
      return false;
    }
  };
  const bin = join(o.cniBinDir, 'weft');
  const version = existsSync(bin)
    ? spawnSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: process.env.PATH } }).stdout?.trim()
    : undefined;
  const lo = s.docker ? links.find((l) => l.name === 'lo') : undefined;
  const docker = s.docker && {
    loopbackAddrs: lo ? (await nl.listAddrs({ index: lo.index, family: 4 })).map((a) => a.cidr) : [],
    config: readIfExists(DOCKER_CONFIG),
  };
  return {
    ...(docker && { docker }),
    networks,
    ruleset: listing.ok ? listing.stdout : { error: listing.stderr || 'nft list ruleset failed' },
    sysctls: hostRuleOf(s).map((setting) => ({ setting, now: sysctl(setting.key) })),
    rpFilterAll: num(sysctl('net/ipv4/conf/all/rp_filter')) ?? 0,
    portHolders: portHolders(ports),
    vxlans: links.filter((l) => l.kind === 'vxlan'),
    firstConfig: first ? { file: first, weft: isWeft(first) } : undefined,
    pluginVersion: version || undefined,
  };
}
