/**
 * weft's one CNI runtime: every CNI plugin weft runs (a conflist for `weft network connect/disconnect`, the
 * `portmap` plugin for Docker's published ports, flannel's delegate for a container flannel attached) runs
 * through here, as a child process that is waited for without blocking: the daemon's DNS, lease keep-alives
 * and API go on while a plugin works (pkg/boundaries.test.ts forbids synchronous child processes in it).
 *
 * A conflist runs the way libcni does (a person attaching a namespace by hand must get exactly what a
 * runtime would do): plugins are found by `type` in the CNI path; ADD runs them in order, each given the
 * previous result as `prevResult` and the capability arguments it declares as `runtimeConfig`; DEL runs them
 * in reverse with the cached result. The result is cached like libcni's
 * (`<cacheDir>/<network>-<containerID>-<ifname>`) so a later DEL gets it. `invoke` runs one plugin with a
 * config the caller built (libcni's invoke.ExecPluginWithResult).
 */
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
  o: { readonly input: string; readonly env: Readonly<Record<string, string>>; readonly timeoutMs?: number | undefined },
) => Promise<ExecResult>;

/**
 * A child process, waited for asynchronously; past `timeoutMs` it is killed and the result carries the error.
 * child_process is loaded on first use: the CNI plugin's ordinary ADD runs no process.
 */
export const execPlugin: ExecPlugin = (bin, args, o) =>
  new Promise((resolve) => {
    const p = process.getBuiltinModule('node:child_process').spawn(bin, args, { env: o.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    let error: Error | undefined;
    let done = false;
    const finish = (status: number | null, signal: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, error });
    };
    let killed = false;
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            error = new Error(`did not finish within ${o.timeoutMs} ms (killed)`);
            killed = true;
            p.kill('SIGKILL');
          }, o.timeoutMs);
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', (e) => {
      error ??= e;
      // Never started (not found, not executable): no 'close' is owed.
      if (p.pid === undefined) finish(null, null);
    });
    p.on('close', finish);
    // Killed, it is not waited for further: a process it started may still hold its output open.
    p.on('exit', (status, signal) => {
      if (!killed) return;
      p.stdout.destroy();
      p.stderr.destroy();
      finish(status, signal);
    });
    // A plugin may exit without reading its config; the broken pipe is not the failure to report.
    p.stdin.on('error', () => {});
    p.stdin.end(o.input);
  });

export interface RuntimeOptions {
  readonly cniPath: readonly string[];
  /** Where ADD caches a conflist's result for its DEL; without it nothing is cached (the caller keeps a record). */
  readonly cacheDir?: string;
  /** How to run a plugin type that is not in the CNI path (weft itself: this executable). */
  readonly fallback?: Readonly<Record<string, readonly string[]>>;
  /** How plugins are run (default: a child process each, as a runtime does). */
  readonly exec?: ExecPlugin;
  /** How long one plugin may run (default: as long as it takes, as libcni). */
  readonly timeoutMs?: number;
}

/** Who the plugin works for: the CNI_* environment of one invocation. */
export type PluginTarget = Pick<RuntimeAttachment, 'containerID' | 'netns' | 'ifname' | 'args'>;

/**
 * A plugin's error, as the CNI error JSON it printed, named after the plugin ("portmap: ..."); weft's own
 * message is weft's, so it is not prefixed again (the CLI printed "weft: weft: ...").
 */
export class PluginError extends WeftError {
  readonly plugin: string;
  /** The plugin's own `msg`, unprefixed. */
  readonly reason: string;

  constructor(plugin: string, cniCode: number, msg: string, details: string | undefined) {
    super(codeOf(cniCode), plugin === 'weft' ? msg : `${plugin}: ${msg}`, details ? { details } : {});
    this.plugin = plugin;
    this.reason = msg;
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
    const f = this.#o.fallback?.[type];
    if (f) return f;
    throw new WeftError('WEFT_NOT_FOUND', `CNI plugin "${type}" not found in ${this.#o.cniPath.join(':')}`);
  }

  #cacheFile(list: Conflist, a: RuntimeAttachment): string | undefined {
    return this.#o.cacheDir === undefined ? undefined : join(this.#o.cacheDir, `${list.name}-${a.containerID}-${a.ifname}`);
  }

  #run(
    command: 'ADD' | 'DEL',
    list: Conflist,
    plugin: Record<string, unknown>,
    a: RuntimeAttachment,
    prevResult: unknown,
  ): Promise<unknown> {
    const caps = (plugin.capabilities ?? {}) as Record<string, unknown>;
    const runtimeConfig = Object.fromEntries(Object.entries(a.capabilityArgs).filter(([k]) => caps[k] === true));
    const conf = {
      ...plugin,
      cniVersion: list.cniVersion,
      name: list.name,
      ...(prevResult !== undefined && { prevResult }),
      ...(Object.keys(runtimeConfig).length > 0 && { runtimeConfig }),
    };
    return this.invoke(command, conf, a);
  }

  /** Runs one plugin (found by the config's `type`) with `conf` as its config; its result, or its error as a PluginError. */
  async invoke(command: 'ADD' | 'DEL', conf: Readonly<Record<string, unknown>>, a: PluginTarget): Promise<unknown> {
    const type = String(conf.type ?? '');
    const [bin, ...rest] = this.#command(type);
    const args = ['IgnoreUnknown=1', ...Object.entries(a.args).map(([k, v]) => `${k}=${v}`)].join(';');
    const r = await (this.#o.exec ?? execPlugin)(bin!, rest, {
      timeoutMs: this.#o.timeoutMs,
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
  async add(list: Conflist, a: RuntimeAttachment): Promise<Record<string, unknown>> {
    let prev: unknown;
    const done: Array<Record<string, unknown>> = [];
    for (const p of list.plugins) {
      try {
        prev = await this.#run('ADD', list, p, a, prev);
        done.push(p);
      } catch (e) {
        for (const q of done.reverse()) {
          try {
            await this.#run('DEL', list, q, a, prev);
          } catch {
            // the ADD's error is the one to report
          }
        }
        throw e;
      }
    }
    const file = this.#cacheFile(list, a);
    if (file !== undefined) {
      // Atomic: a DEL must never read half a cache entry written by an ADD that was killed.
      ensureDir(this.#o.cacheDir!, 0o700);
      writeFileAtomic(
        file,
        JSON.stringify({ kind: 'cniCacheV1', containerId: a.containerID, ifName: a.ifname, networkName: list.name, result: prev }),
        0o600,
      );
    }
    return (prev ?? {}) as Record<string, unknown>;
  }

  /** DEL through the list in reverse; every plugin runs even if one fails, and the first failure is reported. */
  async del(list: Conflist, a: RuntimeAttachment): Promise<void> {
    const file = this.#cacheFile(list, a);
    let cached: unknown;
    try {
      cached = (JSON.parse((file && readIfExists(file)) ?? '{}') as { result?: unknown }).result;
    } catch {
      // an unreadable cache entry: the plugins work from their own state
    }
    let first: unknown;
    for (const p of [...list.plugins].reverse()) {
      try {
        await this.#run('DEL', list, p, a, cached);
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
    if (file !== undefined) removeIfExists(file);
  }
}
