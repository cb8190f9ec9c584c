/**
 * A conflist run the way libcni runs it: ADD through the plugins in order, each given the previous result as
 * `prevResult` and the runtime's capability arguments as `runtimeConfig` (only those it declares); CHECK in
 * order and DEL in reverse, each given the cached final result. Plugins other than weft come from
 * Debian's containernetworking-plugins in /usr/lib/cni.
 */
import { type CniHost, json, runPlugin, WEFT_BIN, type PluginRun } from './cni.ts';

export interface ChainRun {
  readonly ok: boolean;
  readonly runs: ReadonlyArray<{ type: string; run: PluginRun }>;
  readonly result: Record<string, unknown> | undefined;
}

export class Chain {
  readonly host: CniHost;
  readonly plugins: ReadonlyArray<Record<string, unknown>>;
  readonly version: string;
  #cached: Record<string, unknown> | undefined;

  constructor(host: CniHost, plugins: ReadonlyArray<Record<string, unknown>>, version: string) {
    this.host = host;
    this.plugins = plugins;
    this.version = version;
  }

  #conf(p: Record<string, unknown>, prevResult: unknown, capabilityArgs: Record<string, unknown>): Record<string, unknown> {
    const caps = (p.capabilities ?? {}) as Record<string, boolean>;
    const runtimeConfig = Object.fromEntries(Object.entries(capabilityArgs).filter(([k]) => caps[k]));
    const base = p.type === 'weft' ? this.host.conf(p, this.version) : { ...p, cniVersion: this.version, name: 'cbr0' };
    return { ...base, ...(prevResult !== undefined && { prevResult }), ...(Object.keys(runtimeConfig).length > 0 && { runtimeConfig }) };
  }

  #exec(command: string, p: Record<string, unknown>, conf: object, cid: string, netns: string, ifname: string): PluginRun {
    return runPlugin({
      hostNetns: this.host.ns.path,
      bin: p.type === 'weft' ? WEFT_BIN : `/usr/lib/cni/${String(p.type)}`,
      env: { ...this.host.env(command, { cid, netns, ifname }), CNI_PATH: '/usr/lib/cni' },
      stdin: conf,
    });
  }

  add(cid: string, netns: string, capabilityArgs: Record<string, unknown> = {}, ifname = 'eth0'): ChainRun {
    let prev: Record<string, unknown> | undefined;
    const runs: Array<{ type: string; run: PluginRun }> = [];
    for (const p of this.plugins) {
      const run = this.#exec('ADD', p, this.#conf(p, prev, capabilityArgs), cid, netns, ifname);
      runs.push({ type: String(p.type), run });
      if (run.code !== 0) return { ok: false, runs, result: undefined };
      prev = json(run);
    }
    this.#cached = prev;
    return { ok: true, runs, result: prev };
  }

  check(cid: string, netns: string, capabilityArgs: Record<string, unknown> = {}, ifname = 'eth0', skip: readonly string[] = []): ChainRun {
    const runs = this.plugins
      .filter((p) => !skip.includes(String(p.type)))
      .map((p) => ({ type: String(p.type), run: this.#exec('CHECK', p, this.#conf(p, this.#cached, capabilityArgs), cid, netns, ifname) }));
    return { ok: runs.every((r) => r.run.code === 0), runs, result: this.#cached };
  }

  del(cid: string, netns: string, capabilityArgs: Record<string, unknown> = {}, ifname = 'eth0', withCache = true): ChainRun {
    const runs = [...this.plugins].reverse().map((p) => ({
      type: String(p.type),
      run: this.#exec('DEL', p, this.#conf(p, withCache ? this.#cached : undefined, capabilityArgs), cid, netns, ifname),
    }));
    return { ok: runs.every((r) => r.run.code === 0), runs, result: undefined };
  }
}
