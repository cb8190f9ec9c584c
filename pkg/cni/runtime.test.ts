import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CniRuntime, execPlugin, type ExecPlugin } from './runtime.ts';

/** Plugins as the runner sees them: each call recorded, each answer scripted. */
function fakePlugins(answer: (type: string, verb: string, conf: Record<string, unknown>) => { status: number; out: unknown }) {
  const calls: Array<{ type: string; verb: string; prevResult: unknown; runtimeConfig: unknown }> = [];
  const exec: ExecPlugin = async (bin, _args, o) => {
    const conf = JSON.parse(o.input) as Record<string, unknown>;
    const type = bin.split('/').pop()!;
    calls.push({ type, verb: o.env.CNI_COMMAND!, prevResult: conf.prevResult, runtimeConfig: conf.runtimeConfig });
    const a = answer(type, o.env.CNI_COMMAND!, conf);
    return { status: a.status, stdout: a.out === undefined ? '' : JSON.stringify(a.out), stderr: '' };
  };
  return { calls, exec };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const list = {
  cniVersion: '1.0.0',
  name: 'RED',
  plugins: [
    { type: 'weft', capabilities: { aliases: true } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};
const att = {
  containerID: 'c1',
  netns: '/run/netns/c1',
  ifname: 'eth0',
  args: { K8S_POD_NAME: 'web' },
  capabilityArgs: { aliases: { RED: ['www'] } },
};

function runtime(exec: ExecPlugin) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'weft-unit-cache-'));
  dirs.push(cacheDir);
  return { rt: new CniRuntime({ cniPath: [], cacheDir, fallback: { weft: ['/x/weft'], portmap: ['/x/portmap'] }, exec }), cacheDir };
}

describe('CniRuntime', () => {
  it(
    'ADD passes each result on as prevResult and capability arguments to the plugins that declare them; ' +
      'DEL runs in reverse with the cached result',
    async () => {
      const { calls, exec } = fakePlugins((type, verb) => ({
        status: 0,
        out: verb === 'ADD' ? { cniVersion: '1.0.0', ips: [{ address: '10.10.10.2/24' }], by: type } : undefined,
      }));
      const { rt, cacheDir } = runtime(exec);
      expect(await rt.add(list, att)).toMatchObject({ by: 'portmap' });
      expect(calls.map((c) => [c.type, c.verb])).toEqual([
        ['weft', 'ADD'],
        ['portmap', 'ADD'],
      ]);
      expect(calls[0]).toMatchObject({ prevResult: undefined, runtimeConfig: { aliases: { RED: ['www'] } } });
      expect(calls[1]).toMatchObject({ prevResult: { by: 'weft' }, runtimeConfig: undefined });
      expect(readdirSync(cacheDir)).toEqual(['RED-c1-eth0']);
      await rt.del(list, att);
      expect(calls.slice(2).map((c) => [c.type, c.verb, (c.prevResult as { by?: string } | undefined)?.by])).toEqual([
        ['portmap', 'DEL', 'portmap'],
        ['weft', 'DEL', 'portmap'],
      ]);
      expect(readdirSync(cacheDir)).toEqual([]);
    },
  );

  it("a failing ADD deletes what the earlier plugins added and reports the plugin's error, unprefixed for weft's own", async () => {
    const { calls, exec } = fakePlugins((type, verb) =>
      type === 'portmap' && verb === 'ADD' ? { status: 1, out: { code: 7, msg: 'bad port' } } : { status: 0, out: { by: type } },
    );
    const { rt } = runtime(exec);
    await expect(rt.add(list, att)).rejects.toThrow('portmap: bad port');
    expect(calls.map((c) => [c.type, c.verb])).toEqual([
      ['weft', 'ADD'],
      ['portmap', 'ADD'],
      ['weft', 'DEL'],
    ]);
    const weftFails = fakePlugins(() => ({ status: 1, out: { code: 11, msg: 'the weft daemon is not running' } }));
    await expect(runtime(weftFails.exec).rt.add(list, att)).rejects.toThrow(/^the weft daemon is not running$/);
  });
});

describe('execPlugin()', () => {
  it('gives the child its config on stdin and its environment, and returns its output and exit status', async () => {
    const r = await execPlugin('/bin/sh', ['-c', 'cat; echo "$CNI_COMMAND" >&2; exit 3'], {
      input: '{"a":1}',
      env: { CNI_COMMAND: 'DEL' },
    });
    expect(r).toMatchObject({ status: 3, stdout: '{"a":1}', stderr: 'DEL\n', error: undefined });
  });

  it("does not hold the event loop while the child runs (the daemon's DNS and keep-alives go on)", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const r = await execPlugin('/bin/sh', ['-c', 'sleep 0.2'], { input: '', env: {} });
    clearInterval(timer);
    expect(r.status).toBe(0);
    expect(ticks).toBeGreaterThan(0);
  });

  it('kills a child that outlives its time, and reports a missing executable as an error, not a hang', async () => {
    const slow = await execPlugin('/bin/sh', ['-c', 'sleep 30'], { input: '', env: {}, timeoutMs: 50 });
    expect(slow).toMatchObject({ status: null, signal: 'SIGKILL' });
    expect(slow.error?.message).toMatch(/did not finish within 50 ms/);
    const missing = await execPlugin('/nonexistent/portmap', [], { input: '', env: {} });
    expect(missing.error?.message).toMatch(/ENOENT/);
  });
});
