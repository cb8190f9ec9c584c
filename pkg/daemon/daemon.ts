/**
 * `weft daemon`: one process per host. It finds the underlay interface and runs an agent for the flannel
 * default network with its leases in etcd, or, with --kube-subnet-mgr, in the Kubernetes API (Node podCIDR
 * and annotations). In etcd mode it first claims this host's public address (pkg/hosts: a second live host at
 * the same address is refused), and it also runs the named networks and the local API (docs/adr/0003). It
 * keeps weft's firewall tables (checked every resync period), follows the kernel's change notifications so
 * agents repair what is changed behind their back within a moment, serves health endpoints, and on SIGTERM
 * or SIGINT stops cleanly, keeping its lease (flanneld does the same: peers keep their routes and a restart
 * finds the same subnet).
 *
 * This file is the start-up order and the stop; the lease backend is chosen in lease-backend.ts, the named
 * networks run in network-manager.ts, and systemd is told of readiness by ready-notifier.ts.
 */
import { VERSION } from '../version.ts';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { DaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { findExternalInterface, type AgentSpec, type AgentStatus, type ExternalInterface, type RepairKind } from '../agent/mod.ts';
import { appliedMasquerades, currentBootId, networkState } from '../contract/mod.ts';
import { isWeftError, messageOf } from '../errors/mod.ts';
import { chainPresent, CNI_MASQ_TABLE, cniMasqChainName, FirewallKeeper } from '../firewall/mod.ts';
import { DEFAULT_NETWORK_KEY } from '../networks/mod.ts';
import { KernelWatcher, Netlink, sdNotify } from '../kernel/mod.ts';
import { realClock, type LeaseSource } from '../lease/mod.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { parseEndpoints } from '../store/mod.ts';
import { startApiServer } from './api-server.ts';
import { DaemonMetrics } from './metrics.ts';
import { daemonStatus, statusFile, writeStatusFile, type StatusSources } from './status.ts';
import type { NetworkStatus } from '../contract/status.ts';
import { requireNetAdmin } from './capabilities.ts';
import { reclaimEarlierBoots } from './previous-boot.ts';
import { readiness, startHealthServer } from './health-server.ts';
import { HostFirewall } from './host-firewall.ts';
import { startDockerSide, type DockerSide } from '../docker/mod.ts';
import { etcdBackend, kubeBackend, type Backend, type BackendContext, type SharedSpec } from './lease-backend.ts';
import { ReadyNotifier } from './ready-notifier.ts';

export async function runDaemon(flags: DaemonFlags): Promise<void> {
  const log = createLogger({ level: flags.logLevel, format: flags.logFormat });
  for (const w of flags.warnings) log.warn(w);
  // What can be refused without touching anything is refused first: a bad endpoint, missing privileges.
  if (!flags.kubeSubnetMgr) parseEndpoints(flags.etcdEndpoints);
  requireNetAdmin();
  const nl = Netlink.open();
  const iface = await findExternalInterface(nl, {
    ifaces: flags.ifaces,
    ifaceRegexes: flags.ifaceRegexes,
    publicIP: flags.publicIP,
    publicIPv6: flags.publicIPv6,
  });
  const later: Later = {};
  await startupJitter(flags, log);
  const backend = await chooseBackend(flags, { log, nl, iface, later });
  const { agent, networks } = backend;
  logNat(log, iface);
  const { firewall } = backend.host;
  const guards = new HostFirewall({
    nl,
    firewall,
    log,
    dataDir: flags.cniDataDir,
    sources: {
      networks: () => [
        { network: '', exclusive: false },
        ...(networks?.networkNames() ?? []).map((network) => ({ network, exclusive: true })),
      ],
      vxlan: () => [agent.vxlanSource() ?? [], networks?.vxlanSources() ?? []].flat(),
    },
  });
  later.guards = guards;
  if (networks) networks.onVxlanPeers = () => guards.admitPeers();
  void guards.start();
  const watcher = new KernelWatcher((e) => {
    agent.onKernelEvent(e);
    networks?.onKernelEvent(e);
    guards.onKernelEvent(e);
  });
  const sources: StatusSources = {
    node: backend.label,
    startedAt: new Date(),
    store: backend.store,
    firewall,
    defaultAgent: agent,
    cni: { confDir: flags.cniConfDir || undefined, dataDir: flags.cniDataDir },
    named: (verbose) => networks?.reports(verbose) ?? [],
    docker: () => later.docker?.status(),
  };
  const saveStatus = () => {
    try {
      writeStatusFile(statusFile(flags.runDir), daemonStatus(sources, true));
    } catch (e) {
      log.warn(`cannot write ${statusFile(flags.runDir)}: ${messageOf(e)}`);
    }
  };
  const resync = setInterval(() => {
    keepPluginMasquerades(firewall, flags.cniDataDir);
    // The keeper's pass, after listing the ports (the guard's quarantine is from that listing).
    void guards.refresh().then(saveStatus);
  }, backend.host.resyncMs);
  const status = () => [agent.status(), ...(networks?.statuses() ?? [])];
  const statusOf = () => daemonStatus(sources, false).networks;
  later.statusOf = statusOf;
  const ready = new ReadyNotifier({
    ready: () => readiness(status()).ready,
    status: () =>
      `serving ${statusOf()
        .map((n) => `${n.name} ${n.subnet}`)
        .join(', ')}`,
    notify: (state) => sdNotify(state),
    log,
  });
  ready.start();
  const { health, api } = await startLocalServers(flags, { log, backend, iface, sources, status });
  const docker = await startNamedSide(flags, { log, nl, backend });
  later.docker = docker;

  await serveUntilStopped({
    log,
    backend,
    startDefault: () =>
      reclaimEarlierBoots({ dataDir: flags.cniDataDir, network: '', nl, log })
        .then(() => agent.start())
        .then(saveStatus),
    stopFirst: () => {
      clearInterval(resync);
      ready.stop();
      watcher.close();
      guards.stop();
    },
    stopAsync: () => [docker?.stop()],
    closeLast: () => {
      health?.close();
      api.close();
      backend.etcd?.close();
      nl.close();
    },
  });
}

/** Parts made later that earlier ones call back into. */
interface Later {
  /** The networks' statuses, for the metrics' gauges. */
  statusOf?: () => readonly NetworkStatus[];
  /** The port guard and the VXLAN filter (issue 25), made once the networks are: they span all of them. */
  guards?: HostFirewall;
  docker?: DockerSide | undefined;
}

interface ChosenBackend extends Backend {
  readonly host: { readonly metrics: DaemonMetrics; readonly firewall: FirewallKeeper; readonly resyncMs: number };
  readonly label: string;
}

/** The host's parts every agent shares, and the lease backend --kube-subnet-mgr chooses. */
async function chooseBackend(
  flags: DaemonFlags,
  o: {
    log: Logger;
    nl: Netlink;
    iface: ExternalInterface;
    later: Later;
  },
): Promise<ChosenBackend> {
  const { log, later } = o;
  const nodeName = flags.nodeName ?? process.env.NODE_NAME;
  // A label for people; in etcd mode a host is its public address (pkg/hosts), whatever its name.
  const label = nodeName ?? hostname();
  const metrics = new DaemonMetrics({
    networks: () => later.statusOf?.() ?? [],
    attachments: (n) => attachments(flags.cniDataDir, n === 'default' ? '' : n),
  });
  const firewall = new FirewallKeeper({ log, onRepair: () => metrics.repair('host', 'firewall') });
  const shared: SharedSpec = {
    stateDir: flags.stateDir,
    ipMasqFullyRandom: flags.ipMasqFullyRandom,
    forwardRules: flags.forwardRules,
    renewMarginMs: flags.subnetLeaseRenewMargin * 60_000,
    leaseTtlSeconds: flags.subnetLeaseTtl,
    resyncMs: flags.resyncPeriod * 1000,
  };
  const defaultSpec: AgentSpec = {
    ...shared,
    key: DEFAULT_NETWORK_KEY,
    network: '',
    ownsBridge: false,
    subnetFile: flags.subnetFile,
    ipMasq: flags.ipMasq,
  };
  // The flannel default network's containers, as the plugin recorded them (under the same data directory).
  const defaultPorts = () => {
    const boot = currentBootId();
    return networkState({ dataDir: flags.cniDataDir, network: '' })
      .records.list()
      .flatMap((e) => (e.record?.bootId === boot ? [e.record.hostVeth] : []));
  };
  // No peer's lease may route etcd's addresses into the overlay (issue 25): the endpoints given as addresses.
  const protectedAddrs = flags.kubeSubnetMgr
    ? []
    : parseEndpoints(flags.etcdEndpoints).flatMap((e) =>
        e.kind !== 'unix' && isIP(e.host.replace(/^\[|\]$/g, '')) ? [e.host.replace(/^\[|\]$/g, '')] : [],
      );
  const iface = o.iface;
  const c: BackendContext = {
    flags,
    log,
    nl: o.nl,
    iface,
    nodeName,
    label,
    metrics,
    firewall,
    shared,
    defaultSpec,
    protectedAddrs,
    agentDeps: (source: (l: Logger) => LeaseSource) => ({
      source,
      nl: o.nl,
      iface,
      log,
      firewall,
      protectedAddrs,
      ports: defaultPorts,
      onPass: (s: number) => metrics.pass('default', s),
      onRepair: (k: RepairKind) => metrics.repair('default', k),
      onVxlanPeers: () => later.guards?.admitPeers(),
    }),
    starting: { version: VERSION, iface: iface.name, address: iface.address, publicIP: iface.publicIP, mtu: iface.mtu },
  };
  const backend = flags.kubeSubnetMgr ? await kubeBackend(c) : await etcdBackend(c);
  return { ...backend, host: { metrics, firewall, resyncMs: shared.resyncMs }, label };
}

/** The health endpoints (with --healthz-port) and the local API on `<run-dir>/weft.sock`. */
async function startLocalServers(
  flags: DaemonFlags,
  o: { log: Logger; backend: ChosenBackend; iface: ExternalInterface; sources: StatusSources; status: () => AgentStatus[] },
): Promise<{ health: Server | undefined; api: Server }> {
  const { log, backend, iface, sources } = o;
  const { agent, networks } = backend;
  const { metrics } = backend.host;
  const health =
    flags.healthzPort > 0
      ? await startHealthServer({
          host: flags.healthzIP,
          port: flags.healthzPort,
          status: o.status,
          metrics: () => metrics.registry.render(),
        })
      : undefined;
  if (health) log.info('health endpoints listening', { address: `${flags.healthzIP}:${flags.healthzPort}` });
  const socket = join(flags.runDir, 'weft.sock');
  const defaultId = createHash('sha256').update(`flannel:${flags.etcdPrefix}`).digest('hex');
  const api: Server = await startApiServer(socket, {
    networks,
    defaultNetwork: () => ({
      id: defaultId,
      subnet: agent.clusterNetwork(),
      served: agent.served(),
      publicIP: iface.publicIP,
      peers: agent.peerLeases(),
    }),
    status: (verbose) => daemonStatus(sources, verbose),
    onRequest: (route, code) => metrics.apiRequest(route, code),
  });
  log.info('API listening', { socket });
  return { health, api };
}

/** The named networks, once this host's address is claimed, and with --docker, Docker's plugin side over them. */
async function startNamedSide(
  flags: DaemonFlags,
  o: { log: Logger; nl: Netlink; backend: ChosenBackend },
): Promise<DockerSide | undefined> {
  const { log, backend } = o;
  const { networks, identity } = backend;
  const { metrics } = backend.host;
  if (networks) {
    // Named networks' agents take leases and their repair removes endpoint records: not before the claim.
    void (identity?.whenClaimed() ?? Promise.resolve())
      .then(() => networks.start())
      .catch((e: unknown) => log.error(`named networks: ${(e as Error).message}`));
  }
  if (flags.docker && !networks) log.warn('--docker has no effect with --kube-subnet-mgr: Docker networks are weft networks, kept in etcd');
  else if (flags.docker && networks) {
    const docker = await startDockerSide(
      { socket: flags.dockerPluginSocket, dockerHost: flags.dockerHost, dnsAddress: flags.dockerDns },
      {
        networks,
        nl: o.nl,
        log,
        onRequest: (m, r) => metrics.dockerRequest(m, r),
        onRepair: () => metrics.repair('host', 'docker_plugin'),
      },
    );
    networks.onNetworksChanged = docker.changed;
    return docker;
  }
  return undefined;
}

/**
 * Starts the default network's agent and waits for SIGTERM, SIGINT, the agent failing, or this host's claim
 * on its address being refused; then stops every part, keeping the lease (flanneld does the same: peers keep
 * their routes and a restart finds the same subnet).
 */
function serveUntilStopped(o: {
  log: Logger;
  backend: Backend;
  startDefault: () => Promise<void>;
  /** Synchronous stops: timers, the kernel watcher, the guards. */
  stopFirst: () => void;
  /** Stops awaited beside the agents'. */
  stopAsync: () => Array<Promise<void> | undefined>;
  /** Closes what the agents used, once they stopped. */
  closeLast: () => void;
}): Promise<void> {
  const { log, backend } = o;
  const { agent, networks, identity } = backend;
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string, failure?: unknown) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping; the lease is kept', { signal });
      o.stopFirst();
      void Promise.all([agent.stop(), networks?.stop(), ...o.stopAsync(), identity?.stop()]).finally(() => {
        o.closeLast();
        if (failure === undefined) resolve();
        else reject(failure);
      });
    };
    // A claim refused after the start went on without it (etcd was slow): the daemon stops with that one line.
    identity?.start().catch((e: unknown) => {
      if (isWeftError(e) && e.code === 'WEFT_HOST_CONFLICT') stop('error', e);
    });
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    void o.startDefault().catch((e: unknown) => {
      if (agent.signal.aborted) return;
      log.error(`network agent failed: ${(e as Error).message}`);
      process.exitCode = 1;
      stop('error');
    });
  });
}

/**
 * The CNI plugin's ipMasq chains of this boot are kept like weft's own tables: the plugin applies each once
 * per boot, so after a firewall reload nothing else would put them back.
 */
function keepPluginMasquerades(firewall: FirewallKeeper, dataDir: string): void {
  for (const m of appliedMasquerades(dataDir, currentBootId())) {
    const name = cniMasqChainName(m.key);
    const rules = m.script.split('\n').flatMap((l) => /^add rule \S+ \S+ \S+ (.*)$/.exec(l)?.[1] ?? []);
    const chain = { family: 'inet', table: CNI_MASQ_TABLE, name, type: '', rules } as const;
    firewall.adopt(`the CNI plugin's chain ${name}`, {
      present: (t) => chainPresent(t.get(`inet ${CNI_MASQ_TABLE}`), chain),
      script: m.script,
    });
  }
}

/** Containers attached in this boot on a network, from the CNI plugin's records. */
function attachments(dataDir: string, network: string): number {
  const boot = currentBootId();
  return networkState({ dataDir, network })
    .records.list()
    .filter((e) => e.record?.bootId === boot && e.record.state === 'added').length;
}

function logNat(log: Logger, iface: ExternalInterface): void {
  if (iface.vtepLocal !== iface.publicIP)
    log.info('the public address is not on this host (NAT?); VXLAN packets leave from the interface address', { local: iface.vtepLocal });
}

/**
 * Hosts restarted together (a fleet-wide upgrade, a reboot after an outage) would all list every network's
 * leases in the same second; etcd serves O(hosts²) bytes then (docs/benchmarks.md, bench:scale). The kernel
 * keeps its routes meanwhile, so a restarted host's containers keep talking while it waits.
 */
async function startupJitter(flags: DaemonFlags, log: Logger): Promise<void> {
  if (flags.startupJitter <= 0 || flags.kubeSubnetMgr) return;
  const ms = Math.round(Math.random() * flags.startupJitter * 1000);
  log.info(`waiting ${ms} ms before contacting etcd (--startup-jitter=${flags.startupJitter})`);
  await realClock.sleep(ms);
}
