/**
 * A host only ever removes what it owns (issue 24). Hosts left at one host name (cloned VMs) each ran the
 * endpoint repair every resync period, took the others' endpoint records for their own ("no attachment on
 * this host"), removed them, and the owners registered them again: names vanished and came back every
 * period. A host is its public address now, as its lease is; the node name is only a label.
 *
 * The property is that nothing disappears, so the first case watches etcd over a bounded window of three
 * repair periods (the sim's --resync-period is 2 s) and records every poll that misses a record. The second
 * case starts a fourth daemon that claims host 1's public address: it must refuse to start, in one line,
 * before it takes anything of host 1's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { attach, type Pod } from '../chaos/harness.ts';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { inNetns } from '../helpers/sh.ts';
import { weftOk } from '../helpers/weft-cli.ts';

/** The sim's --resync-period (pkg/sim/cluster.ts clusterDaemonArgs), the endpoint repair's period. */
const REPAIR_MS = 2000;
const NODE_NAME = 'clone';

/** Hosts 1..3, all named NODE_NAME, started one after another (so the later ones see the earlier ones' records). */
async function sameNameCluster(tag: string): Promise<SimCluster> {
  const c = await testCluster(tag);
  for (const n of [1, 2, 3]) await c.addHost(n, [`--node-name=${NODE_NAME}`]);
  for (const n of [1, 2, 3]) {
    c.daemon(n).start();
    await c.daemon(n).ready();
  }
  return c;
}

const endpointNames = async (c: SimCluster, id: string): Promise<string[]> =>
  (await c.etcd.client.getPrefix(`${c.weftPrefix}/networks/${id}/endpoints/`)).kvs.map((kv) => kv.key.split('/').pop()!).sort();

/** An A query for `name` from inside `pod`, to its own host's DNS server (the gateway); the addresses. */
function resolve(pod: Pod, gateway: string, name: string): string[] {
  const r = inNetns(pod.ns.name, process.execPath, [join(import.meta.dirname, '../helpers/dns-query.ts'), gateway, name, 'A', 'udp']);
  if (!r.ok) throw new Error(`DNS A ${name} from ${pod.name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { ips: string[] }).ips;
}

describe('hosts sharing one node name (issue 24)', () => {
  it('every endpoint record stays through several repair periods, and every name resolves on every host', async () => {
    const c = await sameNameCluster('hn');
    const id = weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']).trim();
    const pods: Pod[] = [];
    for (const n of [1, 2, 3]) {
      await eventually(`RED served on h${n}`, () => existsSync(join(c.daemon(n).cniConfDir, 'weft-RED.conflist')));
      pods.push(await attach(c, n, 'RED', `red${n}`));
    }
    const want = pods.map((p) => p.name).sort();
    await eventually('the three records in etcd', async () => (await endpointNames(c, id)).join() === want.join());

    const missed: string[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 3 * REPAIR_MS) {
      const have = await endpointNames(c, id);
      for (const name of want) if (!have.includes(name)) missed.push(`${name} missing at ${Date.now() - t0} ms`);
      await sleep(200);
    }
    expect(missed).toEqual([]);
    for (const n of [1, 2, 3]) expect(c.daemon(n).log()).not.toContain('removed an endpoint record with no attachment');

    const gateway = (n: number) =>
      (JSON.parse(weftOk(c, n, ['network', 'inspect', 'RED'])) as Array<{ Peers: Array<{ IP: string; Gateway?: string }> }>)[0]!.Peers.find(
        (p) => p.IP === c.hosts[n - 1]!.ip,
      )?.Gateway;
    for (const from of pods) {
      const gw = gateway(from.host);
      expect(gw, `h${from.host}'s gateway on RED`).toBeDefined();
      for (const to of pods) expect(resolve(from, gw!, to.name), `${to.name} from ${from.name}`).toEqual([to.ip]);
    }
    // The name is shared; each host was told so once for each other host carrying it.
    expect(
      c
        .daemon(3)
        .log()
        .match(/also named clone/g)?.length,
    ).toBe(2);
  }, 120_000);

  it("a daemon claiming a live host's public address refuses to start in one line; the host keeps what it has", async () => {
    const c = await sameNameCluster('hp');
    const h1 = c.hosts[0]!.ip;
    const leases = async () => (await c.etcd.client.getPrefix(`${c.prefix}/subnets/`)).kvs.filter((kv) => kv.value.includes(`"${h1}"`));
    const before = (await leases()).map((kv) => `${kv.key}@${kv.modRevision}`);
    expect(before).toHaveLength(1);
    const record = async () => (await c.etcd.client.get(`${c.weftPrefix}/hosts/${h1}`))?.value;
    const h1Record = await record();
    expect(h1Record).toBeDefined();

    const d4 = await c.addHost(4, [`--public-ip=${h1}`, '--node-name=h4']);
    d4.start();
    await eventually('h4 to exit', () => d4.status.startsWith('exited'), 20_000);
    expect(d4.status).toBe('exited with 1');
    const hostId = (JSON.parse(h1Record!) as { HostID: string }).HostID;
    const lines = d4
      .log()
      .split('\n')
      .filter((l) => l.includes('already runs weft'));
    expect(lines).toEqual([
      `weft: another host (node ${NODE_NAME}, host ID ${hostId.slice(0, 8)}…) already runs weft with public address ${h1}; ` +
        'give this host its own --public-ip or --iface',
    ]);
    // Nothing of host 1's was touched: its lease, its host record.
    expect((await leases()).map((kv) => `${kv.key}@${kv.modRevision}`)).toEqual(before);
    expect(await record()).toBe(h1Record);

    // Host 1 itself, restarted before its record expires, takes the record over (same host ID).
    c.daemon(1).kill();
    c.daemon(1).start();
    await c.daemon(1).ready();
    expect(JSON.parse((await record())!)).toMatchObject({ HostID: hostId, PublicIP: h1, NodeName: NODE_NAME });
  }, 120_000);
});
