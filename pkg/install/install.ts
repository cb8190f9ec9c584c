/**
 * `weft install`: put this executable where runtimes look for CNI plugins and write the conflist, the way
 * CNI plugins are installed (flannel's DaemonSet copies its plugin into /opt/cni/bin the same way).
 * Every file is replaced atomically (a temporary file renamed over), so a runtime never executes half a
 * binary or reads half a config; only weft's own files are written, and a conflist that would shadow it
 * (runtimes take the first file in name order) is reported. The plan is data, computed apart from the writes.
 */
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { WeftError } from '../errors/mod.ts';
import { ensureDir, writeFileAtomic } from '../files/mod.ts';
import { ENV_FILE, ENV_TEXT, UNIT_NAME, unitText } from './systemd.ts';
import { DROP_IN_TEXT, dropInPath, withWeftDns } from './docker.ts';

export interface InstallOptions {
  readonly executable: string;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  /** The CNI network name in the conflist (flannel's manifests use cbr0). */
  readonly network: string;
  readonly cniVersion: string;
  readonly subnetFile: string | undefined;
  /** A conflist to install instead of the generated one (a Kubernetes ConfigMap's cni-conf.json). */
  readonly conflist?: string;
  /** Also write the systemd unit (into this directory) and, if absent, the environment file. */
  readonly systemdDir: string | undefined;
  readonly envFile: string;
  /** `--docker`: the daemon's plugin API on (a drop-in in this systemd directory) and dockerd's config, as read now. */
  readonly docker?: { readonly systemdDir: string; readonly configPath: string; readonly configText: string | undefined };
}

export interface InstallStep {
  readonly path: string;
  readonly what: string;
  /** Copy from here (the executable) or write this text. */
  readonly copyFrom?: string;
  readonly text?: string;
  readonly mode: number;
  /** Leave an existing file alone (the operator's settings). */
  readonly keepExisting?: boolean;
}

export const CONFLIST_NAME = '10-weft.conflist';

export function conflistFor(
  o: Pick<InstallOptions, 'network' | 'cniVersion' | 'subnetFile'>,
  withPortmap: boolean,
): Record<string, unknown> {
  return {
    cniVersion: o.cniVersion,
    name: o.network,
    plugins: [
      { type: 'weft', ...(o.subnetFile && { subnetFile: o.subnetFile }), hairpinMode: true, isDefaultGateway: true },
      ...(withPortmap ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
    ],
  };
}

/** A given conflist, checked: JSON with a name, a cniVersion and a non-empty plugin list. */
export function checkConflist(text: string, from: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new WeftError('WEFT_DECODE', `${from} is not JSON: ${(e as Error).message}`);
  }
  const o = v as { name?: unknown; cniVersion?: unknown; plugins?: unknown };
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof o.name !== 'string' ||
    typeof o.cniVersion !== 'string' ||
    !Array.isArray(o.plugins) ||
    o.plugins.length === 0
  ) {
    throw new WeftError('WEFT_INVALID_CONFIG', `${from} is not a conflist: it needs "name", "cniVersion" and a non-empty "plugins" list`);
  }
  return v as Record<string, unknown>;
}

/** What to write; `portmapPresent` says whether the reference portmap plugin is next to weft. */
export function planInstall(o: InstallOptions, portmapPresent: boolean): InstallStep[] {
  const bin = join(o.cniBinDir, 'weft');
  const conflist = o.conflist !== undefined ? checkConflist(o.conflist, 'the given conflist') : conflistFor(o, portmapPresent);
  const steps: InstallStep[] = [
    { path: bin, what: 'the weft executable (CNI plugin, daemon and CLI)', copyFrom: o.executable, mode: 0o755 },
    {
      path: join(o.cniConfDir, CONFLIST_NAME),
      what: `the CNI config of network ${String(conflist.name)}`,
      text: `${JSON.stringify(conflist, null, 2)}\n`,
      mode: 0o644,
    },
  ];
  if (o.systemdDir) {
    steps.push({
      path: join(o.systemdDir, UNIT_NAME),
      what: 'the systemd unit for weft daemon',
      text: unitText(bin, o.envFile),
      mode: 0o644,
    });
    steps.push({ path: o.envFile, what: "the daemon's settings (etcd endpoints, ...)", text: ENV_TEXT, mode: 0o600, keepExisting: true });
  }
  if (o.docker) {
    const d = o.docker;
    steps.push({
      path: dropInPath(d.systemdDir),
      what: "the daemon's Docker plugin API (WEFT_DOCKER=true)",
      text: DROP_IN_TEXT,
      mode: 0o644,
    });
    const merged = withWeftDns(d.configText, d.configPath);
    steps.push({
      path: d.configPath,
      what: "dockerd's dns: weft's resolver for container names",
      text: merged ?? d.configText ?? '',
      mode: 0o644,
    });
  }
  return steps;
}

/** Conflists that sort before weft's and so are what runtimes that take the first one would use. */
export function shadowing(confDir: string): string[] {
  if (!existsSync(confDir)) return [];
  return readdirSync(confDir)
    .filter((f) => /\.(conf|conflist|json)$/.test(f) && f < CONFLIST_NAME)
    .sort();
}

/**
 * Whether `b` already holds `a`'s bytes: the same file, or an identical copy (a reinstall of the same version
 * leaves the executable, and the runtime's next call, alone). Read in 1 MiB pieces, stopping at the first
 * difference.
 */
function sameContent(a: string, b: string): boolean {
  let fa: number | undefined;
  let fb: number | undefined;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    if (x.dev === y.dev && x.ino === y.ino) return true;
    if (x.size !== y.size) return false;
    fa = openSync(a, 'r');
    fb = openSync(b, 'r');
    const [ba, bb] = [Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)];
    for (let at = 0; at < x.size; ) {
      const n = readSync(fa, ba, 0, ba.length, at);
      if (n === 0 || readSync(fb, bb, 0, n, at) !== n || !ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      at += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fa !== undefined) closeSync(fa);
    if (fb !== undefined) closeSync(fb);
  }
}

export function applyInstall(steps: readonly InstallStep[]): Array<{ step: InstallStep; done: 'written' | 'kept' | 'unchanged' }> {
  return steps.map((step) => {
    if (step.keepExisting && existsSync(step.path)) return { step, done: 'kept' as const };
    if (step.copyFrom) {
      if (sameContent(step.copyFrom, step.path)) {
        if ((statSync(step.path).mode & 0o7777) === step.mode) return { step, done: 'unchanged' as const };
        chmodSync(step.path, step.mode);
        return { step, done: 'written' as const };
      }
      ensureDir(join(step.path, '..'));
      const tmp = join(step.path, '..', `.weft.${process.pid}.tmp`);
      try {
        copyFileSync(step.copyFrom, tmp);
        // copyFileSync keeps the source's mode; set ours before the rename makes it visible.
        chmodSync(tmp, step.mode);
        renameSync(tmp, step.path);
      } catch (e) {
        if (existsSync(tmp)) unlinkSync(tmp);
        throw new WeftError('WEFT_IO', `cannot install ${step.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
          cause: e,
        });
      }
      return { step, done: 'written' as const };
    }
    if (existsSync(step.path) && readFileSync(step.path, 'utf8') === step.text) return { step, done: 'unchanged' as const };
    try {
      writeFileAtomic(step.path, step.text!, step.mode);
    } catch (e) {
      throw new WeftError('WEFT_IO', `cannot write ${step.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        cause: e,
      });
    }
    return { step, done: 'written' as const };
  });
}

export { ENV_FILE };
