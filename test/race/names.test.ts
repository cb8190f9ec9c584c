/**
 * Names under concurrency, on real daemons (issue 24): what must be unique stays unique when six hosts ask for it
 * at the same moment, each through its own daemon.
 *
 *   - one network name created from every host at once: exactly one network; the others are told it exists;
 *   - one range under six names at once: exactly one network; the others are told whose range it is;
 *   - six names without --vni at once: six networks, six VNIs;
 *   - one container name attached from every host at once (`weft network connect`, a plain namespace each, as
 *     the lab does): exactly one attachment holds the name; the others fail saying so and leave nothing behind:
 *     no veth, no address file, no attachment record, no cached result, no endpoint record.
 *
 * The runs are child processes awaited together (test/helpers/race.ts), so they overlap for real. Each race is
 * run for several rounds, with names and ranges chosen by round, never at random.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { weftOnEach } from '../helpers/race.ts';
import { ipJson } from '../helpers/sh.ts';
import type { CliRun } from '../helpers/weft-cli.ts';

const HOSTS = [1, 2, 3, 4, 5, 6] as const;
const ROUNDS = 3;

async function sixHosts(tag: string): Promise<SimCluster> {
  const c = await testCluster(tag);
  for (const n of HOSTS) await c.addHost(n);
  await c.startAll();
  return c;
}

/** The one host whose run succeeded; every other run failed with exactly `refusal(winner)` on stderr. */
function oneWinner(runs: readonly CliRun[], refusal: (winner: number) => string): number {
  const won = runs.flatMap((r, i) => (r.ok ? [i + 1] : []));
  expect(won, runs.map((r, i) => `h${i + 1}: ${r.ok ? 'ok' : r.stderr.trim()}`).join('\n')).toHaveLength(1);
  const winner = won[0]!;
  for (const [i, r] of runs.entries()) if (!r.ok) expect(r.stderr, `h${i + 1}`).toBe(`weft: ${refusal(winner)}\n`);
  return winner;
}

/** The claims a creation's transaction makes in etcd: names/<name> -> id and vnis/<vni> -> id. */
async function claims(c: SimCluster): Promise<{ names: Record<string, string>; vnis: Record<string, string> }> {
  const read = async (dir: string) =>
    Object.fromEntries(
      (await c.etcd.client.getPrefix(`${c.weftPrefix}/${dir}/`)).kvs.map((kv) => [kv.key.split('/').pop()!, kv.value] as const),
    );
  return { names: await read('names'), vnis: await read('vnis') };
}

/** A network's meta as the winning creation wrote it. */
async function metaOf(c: SimCluster, id: string): Promise<{ Name: string; Subnet: string; VNI: number } | null> {
  const kv = await c.etcd.client.get(`${c.weftPrefix}/networks/${id}/meta`);
  return kv ? (JSON.parse(kv.value) as { Name: string; Subnet: string; VNI: number }) : null;
}

/** Removes named networks and waits until no host serves any: their agents would cost the next round's CPU. */
async function removeAll(c: SimCluster, names: readonly string[]): Promise<void> {
  for (const [i, net] of names.entries()) {
    const [rm] = await weftOnEach(c, [HOSTS[i % HOSTS.length]!], () => ['network', 'rm', net]);
    expect(rm!.ok, rm!.stderr).toBe(true);
  }
  for (const n of HOSTS)
    await eventually(
      `no named network left on h${n}`,
      () =>
        readdirSync(c.daemon(n).cniConfDir).length === 0 &&
        !ipJson<Array<{ ifname: string }>>(c.hosts[n - 1]!.name, ['link', 'show']).some((l) => /^(w-|weft)/.test(l.ifname)),
    );
}

/** Waits until every host serves exactly these networks (their conflists): what each daemon acted on. */
async function servedOnEveryHost(c: SimCluster, names: readonly string[]): Promise<void> {
  const want = names.map((n) => `weft-${n}.conflist`).sort();
  for (const n of HOSTS)
    await eventually(`h${n} to serve ${names.join(', ')} and nothing else`, () => {
      const have = readdirSync(c.daemon(n).cniConfDir).sort();
      return have.length === want.length && have.every((f, i) => f === want[i]);
    });
}

describe('network names, six hosts at once', () => {
  it('one name created from every host: exactly one network, the others told it already exists', async () => {
    const c = await sixHosts('rnn');
    for (let r = 0; r < ROUNDS; r++) {
      const name = `SAME${r}`;
      // Distinct ranges: the name is the only thing the requests share.
      const runs = await weftOnEach(c, HOSTS, (n) => ['network', 'create', '--subnet', `10.8${r}.${n}.0/24`, name]);
      const winner = oneWinner(runs, () => `network with name ${name} already exists`);
      const id = runs[winner - 1]!.stdout.trim();
      expect(await claims(c)).toEqual({ names: { [name]: id }, vnis: { 256: id } });
      expect(await metaOf(c, id)).toMatchObject({ Name: name, Subnet: `10.8${r}.${winner}.0/24`, VNI: 256 });
      await servedOnEveryHost(c, [name]);
      await removeAll(c, [name]);
    }
  }, 180_000);

  it('one range under six names: exactly one network, the others told whose range it is', async () => {
    const c = await sixHosts('rnr');
    for (let r = 0; r < ROUNDS; r++) {
      const range = `10.9${r}.0.0/24`;
      const runs = await weftOnEach(c, HOSTS, (n) => ['network', 'create', '--subnet', range, `R${r}H${n}`]);
      const winner = oneWinner(runs, (w) => `subnet ${range} overlaps with network R${r}H${w} (${range})`);
      const id = runs[winner - 1]!.stdout.trim();
      expect(await claims(c)).toEqual({ names: { [`R${r}H${winner}`]: id }, vnis: { 256: id } });
      expect(await metaOf(c, id)).toMatchObject({ Name: `R${r}H${winner}`, Subnet: range, VNI: 256 });
      await servedOnEveryHost(c, [`R${r}H${winner}`]);
      await removeAll(c, [`R${r}H${winner}`]);
    }
  }, 180_000);

  it('six names without --vni: six networks with six distinct VNIs', async () => {
    // One round: six new networks are 36 agents starting on two cores (and as many to tear down for another
    // round), and the six creations already retry against one another in it, each losing the generation compare
    // to whichever committed first.
    const c = await sixHosts('rnv');
    const name = (n: number) => `V${n}`;
    const runs = await weftOnEach(c, HOSTS, (n) => ['network', 'create', '--subnet', `10.100.${n}.0/24`, name(n)]);
    for (const [i, run] of runs.entries()) expect(run.ok, `h${i + 1}: ${run.stderr}`).toBe(true);
    const ids = runs.map((run) => run.stdout.trim());
    const { names, vnis } = await claims(c);
    expect(names).toEqual(Object.fromEntries(HOSTS.map((n) => [name(n), ids[n - 1]])));
    // Each network's VNI claim is its own, and its meta (what inspect shows, what agents use) says the same.
    expect(Object.keys(vnis).sort()).toEqual(['256', '257', '258', '259', '260', '261']);
    expect(Object.values(vnis).sort()).toEqual([...ids].sort());
    const [inspect] = await weftOnEach(c, [1], () => ['network', 'inspect', ...HOSTS.map(name)]);
    const views = JSON.parse(inspect!.stdout) as Array<{ Id: string; Options: Record<string, string> }>;
    expect(views).toHaveLength(HOSTS.length);
    for (const v of views) expect(vnis[v.Options['com.docker.network.driver.overlay.vxlanid_list']!]).toBe(v.Id);
  }, 180_000);
});

describe('container names, six hosts at once', () => {
  it('one name attached on every host: one attachment holds it, the others fail and leave nothing behind', async () => {
    const c = await sixHosts('rnc');
    const [made] = await weftOnEach(c, [1], () => [
      'network',
      'create',
      '--ipv6',
      '--subnet',
      '10.83.0.0/24',
      '--subnet',
      'fd00:83::/64',
      'WEB',
    ]);
    expect(made!.ok, made!.stderr).toBe(true);
    const id = made!.stdout.trim();
    for (const n of HOSTS) await eventually(`WEB served on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-WEB.conflist')));
    const state = (n: number, dir: string) => {
      const path = join(c.daemon(n).cniDataDir, dir);
      return existsSync(path) ? readdirSync(path) : [];
    };
    const endpoints = async () =>
      (await c.etcd.client.getPrefix(`${c.weftPrefix}/networks/${id}/endpoints/`)).kvs.map((kv) => ({
        key: kv.key.split('/').pop(),
        ...(JSON.parse(kv.value) as { Host: string; ContainerID: string; IPv4Address: string; IPv6Address: string }),
      }));

    for (let r = 0; r < ROUNDS; r++) {
      const ns = await Promise.all(HOSTS.map((n) => c.sim.namespace(`h${n}-web${r}`)));
      const runs = await weftOnEach(c, HOSTS, (n) => ['network', 'connect', 'WEB', '--netns', ns[n - 1]!.path, '--name', 'web']);
      const winner = oneWinner(runs, () => 'service endpoint with name web already exists');
      const result = JSON.parse(runs[winner - 1]!.stdout) as { ips: Array<{ address: string }> };

      // The name's one record is the winner's, with the addresses its container has.
      const eps = await endpoints();
      expect(eps).toEqual([expect.objectContaining({ key: 'web', Host: `h${winner}` })]);
      expect([eps[0]!.IPv4Address, eps[0]!.IPv6Address].sort()).toEqual(result.ips.map((i) => i.address).sort());
      const records = state(winner, 'WEB/attachments');
      expect(records).toHaveLength(1);
      expect(eps[0]!.ContainerID).toBe(records[0]!.split('@')[0]);

      // Every host holds exactly what its run left: the winner one attachment, each loser nothing.
      for (const n of HOSTS) {
        const mine = n === winner ? 1 : 0;
        const where = `h${n} (${n === winner ? 'winner' : 'loser'}), round ${r + 1}`;
        const addresses = state(n, 'WEB/ips').filter((f) => !f.startsWith('last_reserved_ip.') && f !== 'lock');
        expect(addresses, `${where}: address files`).toHaveLength(2 * mine);
        expect(state(n, 'WEB/attachments'), `${where}: attachment records`).toHaveLength(mine);
        expect(
          state(n, 'results').filter((f) => f.startsWith('WEB-')),
          `${where}: cached results`,
        ).toHaveLength(mine);
        const veths = ipJson<Array<{ ifname: string }>>(c.hosts[n - 1]!.name, ['link', 'show', 'type', 'veth']);
        // (the host's own eth0, its underlay uplink, is a veth too)
        expect(
          veths.filter((l) => l.ifname !== 'eth0'),
          `${where}: host veths`,
        ).toHaveLength(mine);
        expect(
          ipJson<Array<{ ifname: string }>>(ns[n - 1]!.name, ['link', 'show']).map((l) => l.ifname),
          `${where}: the container's links`,
        ).toEqual(mine ? ['lo', 'eth0'] : ['lo']);
      }

      // Detached, the name is free for the next round.
      const [off] = await weftOnEach(c, [winner], () => ['network', 'disconnect', 'WEB', 'web']);
      expect(off!.ok, off!.stderr).toBe(true);
      expect(await endpoints()).toEqual([]);
    }
  }, 180_000);
});
