/**
 * Issue 25: one malformed request must not take the daemon down. A real daemon (with Docker's plugin socket,
 * and no dockerd behind it) is sent the seeded corpus and mutations of test/helpers/http-fuzz.ts on its API
 * socket, the plugin socket and the health port; every malformed request gets a 4xx in weft's error shape,
 * no answer is a 5xx, and the daemon still serves afterwards. Before the fix, the corpus's first case
 * (`GET //`) ended the process (`new URL` threw in the request listener), a 2 MiB body was read whole, and a
 * request left unfinished held its connection for Node's 5 minutes.
 *
 * Set WEFT_FUZZ_SEED to run another seed; a failure names the seed and the case.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonCall } from '../../pkg/contract/daemon-client.ts';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { HEALTH_PORT } from '../../pkg/sim/daemon.ts';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import type { FuzzResult, Surface } from '../helpers/http-fuzz.ts';

const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 25);
const MUTATIONS = 150;
const FUZZ = join(import.meta.dirname, '../helpers/http-fuzz.ts');

async function daemonWithPlugin(tag: string): Promise<{ c: SimCluster; api: string; plugin: string }> {
  const c = await testCluster(tag);
  const dir = join(c.opts.dir, 'h1');
  const plugin = join(dir, 'plugins', 'weft.sock');
  // The plugin socket is served whether or not Docker answers; no dockerd is needed to attack it.
  const d = await c.addHost(1, [
    '--docker',
    `--docker-plugin-socket=${plugin}`,
    `--docker-host=unix://${join(dir, 'no-docker.sock')}`,
    '--docker-dns=',
  ]);
  expect(d.dir).toBe(dir);
  await c.startAll();
  await eventually('the plugin socket', () => existsSync(plugin));
  return { c, api: d.socket, plugin };
}

/** Runs the fuzzer (in the host's namespace when `netnsPath` is given) and returns its results. */
function fuzz(target: string, surface: Surface, netnsPath?: string): FuzzResult[] {
  const args = [FUZZ, target, surface, String(SEED), String(MUTATIONS)];
  const r = netnsPath
    ? spawnSync('nsenter', [`--net=${netnsPath}`, process.execPath, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`http-fuzz ${surface} failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FuzzResult);
}

/**
 * What each result broke, if anything: a malformed request answered other than 4xx in `shape`, or a 5xx.
 * `refusal` says which 5xx is the protocol's own answer: Docker's plugin API refuses a call it can read
 * with 500 and `Err` (a mutated CreateNetwork with a broken subnet), which is no failure of the server.
 */
function violations(results: readonly FuzzResult[], shape: (json: unknown) => boolean, refusal = (_: FuzzResult) => false): string[] {
  return results.flatMap((r) => {
    const where = `seed ${SEED}, ${r.name}`;
    if (r.status !== null && r.status >= 500 && (r.malformed || !refusal(r))) return [`${where}: ${r.status} ${JSON.stringify(r.json)}`];
    if (!r.malformed || r.status === null) return [];
    if (r.status < 400) return [`${where}: answered ${r.status}`];
    return shape(r.json) ? [] : [`${where}: ${r.status} without weft's error shape: ${JSON.stringify(r.json)}`];
  });
}

const weftShape = (j: unknown) =>
  typeof (j as { code?: unknown })?.code === 'string' && typeof (j as { message?: unknown }).message === 'string';

async function stillServes(c: SimCluster, api: string): Promise<void> {
  expect(c.daemon(1).status).toBe('running');
  await expect(daemonCall(api, 'GET', '/v1/status')).resolves.toMatchObject({ node: 'h1' });
  expect(c.daemon(1).log()).not.toMatch(/uncaught|unhandled|ERR_INVALID_URL/i);
}

describe('HTTP servers under malformed requests (issue 25)', () => {
  it('the API socket, the plugin socket and the health port answer 4xx in weft’s shape, and the daemon stays up', async () => {
    const { c, api, plugin } = await daemonWithPlugin('secapi');

    const onApi = fuzz(`unix:${api}`, 'api');
    expect(onApi.filter((r) => r.name === 'GET //')[0]).toMatchObject({ status: 404 });
    expect(onApi.filter((r) => r.name === 'a 2 MiB body')[0]).toMatchObject({ status: 413 });
    expect(onApi.filter((r) => r.name === 'bad JSON')[0]).toMatchObject({ status: 400, json: { code: 'WEFT_DECODE' } });
    expect(violations(onApi, weftShape)).toEqual([]);
    await stillServes(c, api);

    const onPlugin = fuzz(`unix:${plugin}`, 'plugin');
    // Docker reads `Err`; weft's clients read `code` and `message`: a refusal carries both.
    const dockerErr = (j: unknown) => typeof (j as { Err?: unknown })?.Err === 'string';
    expect(
      violations(
        onPlugin,
        (j) => weftShape(j) && dockerErr(j),
        (r) => r.status === 500 && dockerErr(r.json),
      ),
    ).toEqual([]);
    expect(onPlugin.filter((r) => r.name === 'a 2 MiB chunked body')[0]).toMatchObject({ status: 413 });
    await stillServes(c, api);

    const onHealth = fuzz(`tcp:127.0.0.1:${HEALTH_PORT}`, 'health', c.daemon(1).host.path);
    expect(violations(onHealth, weftShape)).toEqual([]);
    await stillServes(c, api);
    expect(c.daemon(1).http('/healthz').ok).toBe(true);

    // Every case was answered or closed at once: none waited out the fuzzer's 5 s.
    const slow = [...onApi, ...onPlugin, ...onHealth].filter((r) => r.ms > 4000).map((r) => r.name);
    expect(slow).toEqual([]);
  });

  it('a request left unfinished is answered 408 and closed within the headers timeout, not held', async () => {
    const { c, api } = await daemonWithPlugin('sechang');
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const s = connect(api, () => s.write('GET /v1/sta')); // and never another byte, nor a FIN
      let got = '';
      s.on('data', (d) => {
        got += String(d);
      });
      s.on('error', () => {});
      s.on('close', () => resolve(got));
    });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    await stillServes(c, api);
  }, 30_000);

  it('sockets are 0660 and status.json 0600 (root only), with no moment in between', async () => {
    const { c, api, plugin } = await daemonWithPlugin('secmode');
    expect(statSync(api).mode & 0o777).toBe(0o660);
    expect(statSync(plugin).mode & 0o777).toBe(0o660);
    const status = join(c.daemon(1).dir, 'run', 'status.json');
    await eventually('status.json', () => existsSync(status));
    expect(statSync(status).mode & 0o777).toBe(0o600);
  });
});
