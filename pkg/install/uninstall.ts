/**
 * `weft uninstall`: what `weft install` and the daemon put on a host, found and removed. The plan is pure (from
 * what exists: files, nftables tables, links); applying it is one small step per item. The operator's
 * environment file stays unless purged, as a Debian package keeps its conffiles on remove.
 *
 * Removed: the executable and the conflists (the default one and each named network's), the systemd unit,
 * the subnet file, the state, run, CNI data and cache directories, weft's nftables tables (`weft*` in any
 * family), and its links (the VXLAN devices `flannel.N`/`weft.N` and bridges `cni0`/`w-*`), which takes the
 * host's containers off the overlay.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER_DNS_ADDRESS } from '../defaults.ts';
import { writeFileAtomic } from '../files/mod.ts';
import { dropInPath, withoutWeftDns } from './docker.ts';
import { CONFLIST_NAME } from './install.ts';
import { UNIT_NAME } from './systemd.ts';

export interface UninstallOptions {
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  readonly systemdDir: string;
  readonly envFile: string;
  readonly subnetFile: string;
  readonly stateDir: string;
  readonly runDir: string;
  readonly cniDataDir: string;
  readonly cacheDir: string;
  /** dockerd's config file (weft's resolver is taken out of its `dns`) and the plugin socket. */
  readonly dockerConfig: string;
  readonly dockerPluginSocket: string;
  readonly purge: boolean;
}

export type Removal =
  | { readonly kind: 'file' | 'dir'; readonly path: string; readonly what: string }
  | { readonly kind: 'rewrite'; readonly path: string; readonly text: string; readonly what: string }
  | { readonly kind: 'addr'; readonly link: string; readonly cidr: string; readonly what: string }
  | { readonly kind: 'nft'; readonly family: string; readonly name: string; readonly what: string }
  | { readonly kind: 'link'; readonly name: string; readonly what: string };

/** What is on the host now (the effects layer reads it; tests give it). */
export interface HostView {
  readonly exists: (path: string) => boolean;
  readonly list: (dir: string) => readonly string[];
  readonly nftTables: ReadonlyArray<{ family: string; name: string }>;
  readonly links: ReadonlyArray<{ name: string; kind: string | undefined }>;
  readonly read: (path: string) => string | undefined;
  /** The addresses on `lo` (the Docker resolver's is weft's). */
  readonly loopbackAddrs: readonly string[];
}

export const isWeftLink = (l: { name: string; kind: string | undefined }): boolean =>
  (l.kind === 'vxlan' && /^(flannel|weft)\.\d+$/.test(l.name)) || (l.kind === 'bridge' && (l.name === 'cni0' || l.name.startsWith('w-')));

export function planUninstall(o: UninstallOptions, host: HostView): Removal[] {
  const files: Array<[string, string]> = [
    [join(o.cniBinDir, 'weft'), 'the CNI plugin and daemon executable'],
    [join(o.cniConfDir, CONFLIST_NAME), "the default network's conflist"],
    ...host
      .list(o.cniConfDir)
      .filter((f) => /^weft-.+\.conflist$/.test(f))
      .map((f): [string, string] => [join(o.cniConfDir, f), "a named network's conflist"]),
    [join(o.systemdDir, UNIT_NAME), 'the systemd unit'],
    [dropInPath(o.systemdDir), "the unit's Docker drop-in"],
    [o.dockerPluginSocket, "the Docker plugin's socket"],
    [o.subnetFile, "the default network's subnet file"],
    ...(o.purge ? [[o.envFile, "the daemon's settings"] as [string, string]] : []),
  ];
  const dirs: Array<[string, string]> = [
    [o.stateDir, "the daemon's state (VTEP MACs)"],
    [o.runDir, "the daemon's runtime files and socket"],
    [o.cniDataDir, "the CNI plugin's records and address reservations"],
    [o.cacheDir, "the executable's unpacked assets and code caches"],
  ];
  const dockerConfig = withoutWeftDns(host.read(o.dockerConfig), o.dockerConfig);
  const resolver = `${DOCKER_DNS_ADDRESS}/32`;
  return [
    ...files.filter(([p]) => host.exists(p)).map(([path, what]): Removal => ({ kind: 'file', path, what })),
    ...(dockerConfig === undefined
      ? []
      : [{ kind: 'rewrite', path: o.dockerConfig, text: dockerConfig, what: "weft's resolver in dockerd's dns" } as const]),
    ...(host.loopbackAddrs.includes(resolver)
      ? [{ kind: 'addr', link: 'lo', cidr: resolver, what: "the Docker containers' resolver address" } as const]
      : []),
    ...dirs.filter(([p]) => host.exists(p)).map(([path, what]): Removal => ({ kind: 'dir', path, what })),
    ...host.nftTables
      .filter((t) => t.name.startsWith('weft'))
      .map((t): Removal => ({ kind: 'nft', family: t.family, name: t.name, what: 'an nftables table of weft' })),
    ...host.links
      .filter(isWeftLink)
      .map((l): Removal => ({ kind: 'link', name: l.name, what: l.kind === 'vxlan' ? 'a VXLAN device' : "a network's bridge" })),
  ];
}

const subject = (r: Removal): string => {
  switch (r.kind) {
    case 'nft':
      return `nft table ${r.family} ${r.name}`;
    case 'link':
      return `link ${r.name}`;
    case 'addr':
      return `address ${r.cidr} on ${r.link}`;
    default:
      return r.path;
  }
};

export const describeRemoval = (r: Removal): string => `${subject(r)}  (${r.what})`;

/** Removes one file or directory, or rewrites one (the nft, link and addr kinds go through the firewall and kernel layers). */
export function removePath(r: Extract<Removal, { kind: 'file' | 'dir' | 'rewrite' }>): void {
  if (r.kind === 'rewrite') writeFileAtomic(r.path, r.text, 0o644);
  else rmSync(r.path, { recursive: r.kind === 'dir', force: true });
}
