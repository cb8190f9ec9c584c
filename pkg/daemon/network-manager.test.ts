/**
 * NetworkManager's rules, over the real NetworkStore on an in-memory etcd (store/etcd/testing/memory-kv.ts),
 * the real FirewallKeeper over a fake nft, a fake clock, and stand-in agents (the agent's own rules are
 * pkg/agent's tests; here what matters is when the manager starts and tears one down). What is checked is
 * the manager's decisions: which networks run here, what is torn down, the watch's retries, each period.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentDeps, AgentSpec, AgentStatus, ExternalInterface, Served } from '../agent/mod.ts';
import { currentBootId, networkState } from '../contract/mod.ts';
import { record } from '../contract/testing/record.ts';
import { FirewallKeeper, ISOLATION_TABLE } from '../firewall/mod.ts';
import { FakeNft } from '../firewall/testing/fake-nft.ts';
import type { NetworkStatus } from '../contract/status.ts';
import type { Netlink } from '../kernel/mod.ts';
import { FakeClock } from '../lease/testing/fake-clock.ts';
import { createLogger } from '../log/logger.ts';
import { conflistFileName, keys, type NetworkMeta } from '../networks/mod.ts';
import { MemoryKv, overriding } from '../store/etcd/testing/memory-kv.ts';
import type { KvClient, WatchHandlers } from '../store/etcd/mod.ts';
import { NetworkStore } from '../store/mod.ts';
import { endpointRecord } from './local-endpoints.ts';
import { NetworkManager } from './network-manager.ts';
import type { ManagedAgent } from './running-network.ts';

const ROOT = '/p/weft';
const FLANNEL_CONFIG = '/coreos.com/network/config';
const RESYNC_MS = 30_000;
const PUBLIC_IP = '192.0.2.1';

/** A network's agent without a kernel: it serves once started, and says how it was stopped. */
class StandInAgent implements ManagedAgent {
  readonly spec: AgentSpec;
  readonly deps: AgentDeps;
  readonly #abort = new AbortController();
  started = false;
  stopped: { teardown?: boolean } | undefined;

  constructor(spec: AgentSpec, deps: AgentDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(o: { teardown?: boolean } = {}): Promise<void> {
    this.stopped = o;
    this.#abort.abort();
  }

  served(): Served | undefined {
    return this.started && !this.stopped
      ? { subnet: '10.10.1.0/24', gateway: '10.10.1.1', subnet6: undefined, gateway6: undefined, device: 'v', bridge: 'b', mtu: 1450 }
      : undefined;
  }

  report(): NetworkStatus {
    return { name: this.spec.network } as NetworkStatus;
  }

  status(): AgentStatus {
    return { network: this.spec.network } as AgentStatus;
  }

  vxlanSource(): undefined {
    return undefined;
  }

  onKernelEvent(): void {}
}

/** The in-memory etcd as the manager's client, with the failures a test asks for. */
class FaultyKv {
  readonly kv: MemoryKv;
  /** How many of the next lists fail. */
  failLists = 0;
  /** When each list was asked for (fake time). */
  readonly listedAt: number[] = [];
  /** While deaf, the open watches hear nothing (events are lost, as when etcd went away). */
  deaf = false;
  readonly watches: WatchHandlers[] = [];
  readonly #now: () => number;

  constructor(kv: MemoryKv, now: () => number) {
    this.kv = kv;
    this.#now = now;
  }

  client(): KvClient {
    const kv = this.kv;
    return overriding(kv, {
      getPrefix: async (p) => {
        this.listedAt.push(this.#now());
        if (this.failLists > 0) {
          this.failLists--;
          throw new Error('etcd at http://a:2379 is unreachable (ECONNREFUSED: connection refused)');
        }
        return kv.getPrefix(p);
      },
      watchPrefix: (p, r, h) => {
        const heard: WatchHandlers = { events: (e, rev) => this.deaf || h.events(e, rev), end: (why) => h.end(why) };
        this.watches.push(heard);
        return kv.watchPrefix(p, r, heard);
      },
    });
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const clock = new FakeClock();
  const etcd = new FaultyKv(new MemoryKv(() => clock.now()), () => clock.now());
  const store = new NetworkStore(etcd.client(), ROOT, FLANNEL_CONFIG);
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const nft = new FakeNft();
  const firewall = new FirewallKeeper({ log, runner: nft });
  const dir = mkdtempSync(join(tmpdir(), 'weft-manager-'));
  dirs.push(dir);
  const agents: StandInAgent[] = [];
  const cniConfDir = join(dir, 'net.d');
  const cniDataDir = join(dir, 'data');
  let changes = 0;
  const manager = new NetworkManager(
    {
      store,
      nl: {} as Netlink,
      iface: { publicIP: PUBLIC_IP } as ExternalInterface,
      log,
      firewall,
      clock,
      agent: (spec, deps) => {
        const a = new StandInAgent(spec, deps);
        agents.push(a);
        return a;
      },
    },
    {
      root: ROOT,
      runDir: join(dir, 'run'),
      cniConfDir,
      cniDataDir,
      nodeName: 'h1',
      dns: false,
      socket: join(dir, 'weft.sock'),
      agent: {
        stateDir: join(dir, 'state'),
        ipMasqFullyRandom: false,
        forwardRules: true,
        renewMarginMs: 60_000,
        leaseTtlSeconds: 86400,
        resyncMs: RESYNC_MS,
      },
      flannelConfigKey: FLANNEL_CONFIG,
      defaultRanges: () => [],
      defaultDevices: () => [],
    },
  );
  manager.onNetworksChanged = () => changes++;
  const agentOf = (name: string) => agents.filter((a) => a.spec.network === name);
  const conflist = (name: string) => conflistFileName(cniConfDir, name);
  const isolation = () => nft.tables.has(`inet ${ISOLATION_TABLE}`);
  return { clock, etcd, store, lines, manager, agents, agentOf, conflist, isolation, cniDataDir, changes: () => changes };
}

const warnings = (lines: readonly string[], re: RegExp) => lines.filter((l) => re.test(l));

describe('NetworkManager', () => {
  it('joins a network created in etcd: its agent starts, then its conflist is written', async () => {
    const { clock, store, manager, agentOf, conflist, isolation, changes } = setup();
    await manager.start();
    expect(manager.networkNames()).toEqual([]);
    const red = await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await clock.advance(0);
    const [a] = agentOf('red');
    expect(a?.spec).toMatchObject({ key: 'red', network: 'red', ownsBridge: true, ipMasq: true, resyncMs: RESYNC_MS });
    expect(a?.started).toBe(true);
    expect(manager.networkNames()).toEqual(['red']);
    expect(manager.metas().map((m) => m.Id)).toEqual([red.Id]);
    expect(JSON.parse(readFileSync(conflist('red'), 'utf8'))).toMatchObject({
      name: 'red',
      plugins: [{ type: 'weft', network: 'red' }, {}],
    });
    // One network has no other to be isolated from; a second one has.
    expect(isolation()).toBe(false);
    expect(changes()).toBe(1);
    await store.create({ name: 'blue', subnet: '10.20.0.0/16' });
    await clock.advance(0);
    expect(isolation()).toBe(true);
    expect(changes()).toBe(2);
    await manager.stop();
  });

  it('tears down a network removed from etcd: the agent gives up its lease and state, the conflist goes', async () => {
    const { clock, store, manager, agentOf, conflist, isolation, changes } = setup();
    await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await store.create({ name: 'blue', subnet: '10.20.0.0/16' });
    await manager.start();
    await clock.advance(0);
    expect(existsSync(conflist('red'))).toBe(true);
    expect(isolation()).toBe(true);
    await store.remove('red');
    await clock.advance(0);
    expect(agentOf('red')[0]?.stopped).toEqual({ teardown: true });
    expect(manager.networkNames()).toEqual(['blue']);
    expect(agentOf('blue')[0]?.stopped).toBeUndefined();
    expect(existsSync(conflist('red'))).toBe(false);
    expect(isolation()).toBe(false);
    expect(changes()).toBe(2);
    await manager.stop();
  });

  it('stops every agent on stop() keeping its lease, and runs no period after', async () => {
    const { clock, store, manager, agentOf, etcd } = setup();
    await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await manager.start();
    await clock.advance(0);
    await manager.stop();
    expect(agentOf('red')[0]?.stopped).toEqual({});
    const reads = etcd.listedAt.length;
    await clock.advance(5 * RESYNC_MS);
    expect(etcd.listedAt.length).toBe(reads);
  });

  it('refuses a network record written past the API, saying so once, and runs nothing of it', async () => {
    const { clock, etcd, store, lines, manager, agents } = setup();
    const red = await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    // A second network over red's range, written straight into etcd.
    const forged: NetworkMeta = { ...red, Id: 'f'.repeat(64), Name: 'forged', VNI: red.VNI + 1, Created: '2099-01-01T00:00:00Z' };
    await etcd.kv.put(keys.meta(ROOT, forged.Id), JSON.stringify(forged));
    await manager.start();
    await clock.advance(0);
    expect(agents.map((a) => a.spec.network)).toEqual(['red']);
    await store.create({ name: 'blue', subnet: '10.20.0.0/16' });
    await clock.advance(0);
    expect(agents.map((a) => a.spec.network)).toEqual(['red', 'blue']);
    expect(warnings(lines, /refusing the network record .*fffff/)).toHaveLength(1);
    await manager.stop();
  });

  it('retries a failing list after 100 ms, doubling to 5 s, and says the same problem once', async () => {
    const { clock, etcd, lines, manager } = setup();
    etcd.failLists = 9;
    const t0 = clock.now();
    let started = false;
    void manager.start().then(() => (started = true));
    await clock.advance(30_000);
    expect(started).toBe(true);
    const waits = etcd.listedAt.map((t, i) => t - (etcd.listedAt[i - 1] ?? t0));
    expect(waits).toEqual([0, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(warnings(lines, /cannot list or watch \/p\/weft\/networks\/: .*ECONNREFUSED.*; retrying with backoff/)).toHaveLength(1);
    expect(warnings(lines, /listing and watching \/p\/weft\/networks\/ again/)).toHaveLength(1);
    await manager.stop();
  });

  it('lists again when the watch ends, and acts on what changed while it heard nothing', async () => {
    const { clock, etcd, store, manager, agentOf } = setup();
    await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await manager.start();
    await clock.advance(0);
    etcd.deaf = true;
    await store.remove('red');
    await store.create({ name: 'blue', subnet: '10.20.0.0/16' });
    await clock.advance(0);
    expect(manager.networkNames()).toEqual(['red']);
    etcd.deaf = false;
    etcd.watches.at(-1)?.end({ kind: 'ended', reason: 'etcd at http://a:2379 closed the watch' });
    await clock.advance(0);
    expect(agentOf('red')[0]?.stopped).toEqual({ teardown: true });
    expect(manager.networkNames()).toEqual(['blue']);
    await manager.stop();
  });

  it('puts back a missing or changed conflist every period, and not before', async () => {
    const { clock, store, lines, manager, conflist } = setup();
    await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await manager.start();
    await clock.advance(0);
    unlinkSync(conflist('red'));
    await clock.advance(RESYNC_MS - 1);
    expect(existsSync(conflist('red'))).toBe(false);
    await clock.advance(1);
    const text = readFileSync(conflist('red'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ name: 'red' });
    writeFileSync(conflist('red'), '{}');
    await clock.advance(RESYNC_MS);
    expect(readFileSync(conflist('red'), 'utf8')).toBe(text);
    expect(warnings(lines, /the conflist .*red.conflist was changed; wrote it again/)).toHaveLength(1);
    await manager.stop();
  });

  it("each period, makes this host's endpoint records in etcd follow the plugin's records here", async () => {
    const { clock, store, manager, cniDataDir } = setup();
    const red = await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await manager.start();
    await clock.advance(0);
    // A record with no attachment here (its DEL could not reach the daemon), and another host's.
    await manager.register('red', {
      name: 'gone',
      aliases: [],
      containerID: 'c1',
      ifname: 'eth0',
      address: '10.10.1.5/24',
      mac: '02:00:00:00:00:05',
    });
    const peer = { name: 'peer', aliases: [], containerID: 'p1', ifname: 'eth0', address: '10.10.2.5/24', mac: '02:00:00:00:00:02' };
    await store.registerEndpoint(red, endpointRecord(red, peer, { nodeName: 'h2', publicIP: '192.0.2.2' }));
    // An attachment here whose name etcd lacks (etcd was unreachable at ADD), and one being removed.
    const records = networkState({ dataDir: cniDataDir, network: 'red' }).records;
    const boot = currentBootId();
    records.save(
      record({
        containerID: 'c2',
        network: 'red',
        bootId: boot,
        ips: ['10.10.1.6/24'],
        endpoint: { name: 'web', aliases: ['w'], mac: '02:00:00:00:00:06' },
      }),
    );
    records.save(
      record({
        containerID: 'c3',
        network: 'red',
        bootId: boot,
        state: 'removing',
        endpoint: { name: 'db', aliases: [], mac: '02:00:00:00:00:07' },
      }),
    );
    await clock.advance(0);
    expect((await store.endpoints(red)).map((e) => e.Name).sort()).toEqual(['gone', 'peer']);
    await clock.advance(RESYNC_MS);
    const after = await store.endpoints(red);
    expect(after.map((e) => e.Name).sort()).toEqual(['peer', 'web']);
    expect(after.find((e) => e.Name === 'web')).toMatchObject({
      HostIP: PUBLIC_IP,
      ContainerID: 'c2',
      IPv4Address: '10.10.1.6/24',
      Aliases: ['w'],
    });
    await manager.stop();
  });

  it('judges the named networks again when the default network changes, leaving one it now overlaps', async () => {
    const { clock, etcd, store, lines, manager, agentOf } = setup();
    await store.create({ name: 'red', subnet: '10.10.0.0/16' });
    await manager.start();
    await clock.advance(0);
    await etcd.kv.put(FLANNEL_CONFIG, JSON.stringify({ Network: '10.0.0.0/8', Backend: { Type: 'vxlan' } }));
    await clock.advance(RESYNC_MS);
    expect(agentOf('red')[0]?.stopped).toEqual({ teardown: true });
    expect(manager.networkNames()).toEqual([]);
    expect(warnings(lines, /refusing the network record/)).toHaveLength(1);
    await manager.stop();
  });
});
