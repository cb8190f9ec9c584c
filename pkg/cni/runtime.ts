/**
 * Runs a conflist the way libcni does, for `weft network connect/disconnect` (a person attaching a
 * namespace by hand must get exactly what a runtime would do): plugins are found by `type` in the CNI path;
 * ADD runs them in order, each given the previous result as `prevResult` and the capability arguments it
 * declares as `runtimeConfig`; DEL runs them in reverse with the cached result. The result is cached like
 * libcni's (`<cacheDir>/<network>-<containerID>-<ifname>`) so a later DEL gets it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CODES, WeftError, type WeftCode } from '../errors/mod.ts';
import { ensureDir, readIfExists, removeIfExists, writeFileAtomic } from '../files/mod.ts';

export { CNI_PATH as DEFAULT_CNI_PATH } from '../defaults.ts';

export interface Conflist {
  readonly cniVersion: string;
  readonly name: string;
  readonly plugins: ReadonlyArray<Record<string, unknown>>;
}

export interface RuntimeAttachment {
  readonly containerID: string;
  readonly netns: string;
  readonly ifname: string;
  /** CNI_ARGS pairs (IgnoreUnknown=1 is added). */
  readonly args: Readonly<Record<string, string>>;
  /** Capability arguments, passed to the plugins that declare them. */
  readonly capabilityArgs: Readonly<Record<string, unknown>>;
}

/** What running one plugin gave: its exit status and output, or the error that kept it from running. */
export interface ExecResult {
  readonly status: number | null;
  readonly signal?: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error | undefined;
}

/** Runs a plugin executable with the CNI environment and the config on stdin (libcni's invoke.Exec). */
export type ExecPlugin = (
  bin: string,
  args: readonly string[],
  o: { readonly input: string; readonly env: Readonly<Record<string, string>> },
) => ExecResult;

export const execPlugin: ExecPlugin = (bin, args, o) => spawnSync(bin, args, { input: o.input, env: o.env, encoding: 'utf8' });

export interface RuntimeOptions {
  readonly cniPath: readonly string[];
  readonly cacheDir: string;
  /** How to run a plugin type that is not in the CNI path (weft itself: this executable). */
  readonly fallback: Readonly<Record<string, readonly string[]>>;
  /** How plugins are run (default: a child process each, as a runtime does). */
  readonly exec?: ExecPlugin;
}

/**
 * A plugin's error, as the CNI error JSON it printed, named after the plugin ("portmap: ..."); weft's own
 * message is weft's, so it is not prefixed again (the CLI printed "weft: weft: ...").
 */
export class PluginError extends WeftError {
  readonly plugin: string;

  constructor(plugin: string, cniCode: number, msg: string, details: string | undefined) {
    super(codeOf(cniCode), plugin === 'weft' ? msg : `${plugin}: ${msg}`, details ? { details } : {});
    this.plugin = plugin;
  }
}

const codeOf = (cni: number): WeftCode => (Object.keys(CODES) as WeftCode[]).find((k) => CODES[k].cni === cni) ?? 'WEFT_INTERNAL';

export class CniRuntime {
  readonly #o: RuntimeOptions;

  constructor(o: RuntimeOptions) {
    this.#o = o;
  }

  #command(type: string): readonly string[] {
    for (const dir of this.#o.cniPath) {
      const p = join(dir, type);
      if (existsSync(p)) return [p];
    }
    const f = this.#o.fallback[type];
    if (f) return f;
    throw new WeftError('WEFT_NOT_FOUND', `CNI plugin "${type}" not found in ${this.#o.cniPath.join(':')}`);
  }

  #cacheFile(list: Conflist, a: RuntimeAttachment): string {
    return join(this.#o.cacheDir, `${list.name}-${a.containerID}-${a.ifname}`);
  }

  #run(command: 'ADD' | 'DEL', list: Conflist, plugin: Record<string, unknown>, a: RuntimeAttachment, prevResult: unknown): unknown {
    const type = String(plugin.type ?? '');
    const caps = (plugin.capabilities ?? {}) as Record<string, unknown>;
    const runtimeConfig = Object.fromEntries(Object.entries(a.capabilityArgs).filter(([k]) => caps[k] === true));
    const conf = {
      ...plugin,
      cniVersion: list.cniVersion,
      name: list.name,
      ...(prevResult !== undefined && { prevResult }),
      ...(Object.keys(runtimeConfig).length > 0 && { runtimeConfig }),
    };
    const [bin, ...rest] = this.#command(type);
    const args = ['IgnoreUnknown=1', ...Object.entries(a.args).map(([k, v]) => `${k}=${v}`)].join(';');
    const r = (this.#o.exec ?? execPlugin)(bin!, rest, {
      input: JSON.stringify(conf),
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: a.containerID,
        CNI_NETNS: a.netns,
        CNI_IFNAME: a.ifname,
        CNI_ARGS: args,
        CNI_PATH: this.#o.cniPath.join(':'),
      },
    });
    if (r.error) throw new WeftError('WEFT_INTERNAL', `cannot run CNI plugin ${type} (${bin}): ${r.error.message}`, { cause: r.error });
    let out: unknown;
    try {
      out = r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
    } catch {
      throw new WeftError(
        'WEFT_INTERNAL',
        `CNI plugin ${type} printed something that is not JSON (exit ${r.status}): ${r.stdout.slice(0, 200)}` +
          (r.stderr ? `; stderr: ${r.stderr.trim().slice(0, 200)}` : ''),
      );
    }
    if (r.status !== 0) {
      const e = (out ?? {}) as { code?: number; msg?: string; details?: string };
      throw new PluginError(type, e.code ?? 999, e.msg ?? (r.stderr.trim() || `exited with ${r.status ?? r.signal}`), e.details);
    }
    return out;
  }

  /** ADD through the list; on a failure the plugins already run are deleted again (as libcni does not, but a person expects). */
  add(list: Conflist, a: RuntimeAttachment): Record<string, unknown> {
    let prev: unknown;
    const done: Array<Record<string, unknown>> = [];
    for (const p of list.plugins) {
      try {
        prev = this.#run('ADD', list, p, a, prev);
        done.push(p);
      } catch (e) {
        for (const q of done.reverse()) {
          try {
            this.#run('DEL', list, q, a, prev);
          } catch {
            // the ADD's error is the one to report
          }
        }
        throw e;
      }
    }
    // Atomic: a DEL must never read half a cache entry written by an ADD that was killed.
    ensureDir(this.#o.cacheDir, 0o700);
    writeFileAtomic(
      this.#cacheFile(list, a),
      JSON.stringify({ kind: 'cniCacheV1', containerId: a.containerID, ifName: a.ifname, networkName: list.name, result: prev }),
      0o600,
    );
    return (prev ?? {}) as Record<string, unknown>;
  }

  /** DEL through the list in reverse; every plugin runs even if one fails, and the first failure is reported. */
  del(list: Conflist, a: RuntimeAttachment): void {
    const file = this.#cacheFile(list, a);
    let cached: unknown;
    try {
      cached = (JSON.parse(readIfExists(file) ?? '{}') as { result?: unknown }).result;
    } catch {
      // an unreadable cache entry: the plugins work from their own state
    }
    let first: unknown;
    for (const p of [...list.plugins].reverse()) {
      try {
        this.#run('DEL', list, p, a, cached);
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
    removeIfExists(file);
  }
}
