/**
 * `weft daemon`: one process per host. It finds the underlay interface and runs an agent for the flannel
 * default network with its leases in etcd, or, with --kube-subnet-mgr, in the Kubernetes API (Node podCIDR
 * and annotations). In etcd mode it first claims this host's public address (pkg/hosts: a second live host at
 * the same address is refused), and it also runs the named networks and the local API (docs/adr/0003). It
 * keeps weft's firewall tables (checked every resync period), follows the kernel's change notifications so
 * agents repair what is changed behind their back within a moment, serves health endpoints, and on SIGTERM
 * or SIGINT stops cleanly, keeping its lease (flanneld does the same: peers keep their routes and a restart
 * finds the same subnet).
 */
import { VERSION } from '../version.ts';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { DaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { findExternalInterface, NetworkAgent, type AgentSpec, type ExternalInterface, type RepairKind } from '../agent/mod.ts';
import { appliedMasquerades, currentBootId, networkState } from '../contract/mod.ts';
import { isWeftError, messageOf, WeftError } from '../errors/mod.ts';
import { chainPresent, CNI_MASQ_TABLE, cniMasqChainName, FirewallKeeper } from '../firewall/mod.ts';
import { bridgeName, DEFAULT_NETWORK_KEY } from '../networks/mod.ts';
import { KernelWatcher, Netlink, sdNotify } from '../kernel/mod.ts';
import { EtcdLeaseSource, type LeaseSource } from '../lease/mod.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { EtcdClient, HostRegistry, NetworkStore, parseEndpoints, SubnetRegistry } from '../store/mod.ts';
import { startApiServer } from './api-server.ts';
import { DaemonMetrics } from './metrics.ts';
import { daemonStatus, statusFile, writeStatusFile, type StatusSources } from './status.ts';
import type { NetworkStatus, StoreStatus } from '../contract/status.ts';
import { requireNetAdmin } from './capabilities.ts';
import { reclaimEarlierBoots } from './previous-boot.ts';
import { readiness, startHealthServer } from './health-server.ts';
import { gateLeaseSource, HostIdentity, loadHostId } from './host-identity.ts';
import { NetworkManager } from './network-manager.ts';
import { HostFirewall } from './host-firewall.ts';
import { startDockerSide, type DockerSide } from '../docker/mod.ts';

/**
 * How long the start waits for the first claim of this host's address before going on without it (etcd slow
 * or down: the health endpoints and the API then say why; no lease is taken until the claim is made).
 */
const FIRST_CLAIM_WAIT_MS = 3000;

type Shared = Pick<AgentSpec, 'stateDir' | 'ipMasqFullyRandom' | 'forwardRules' | 'renewMarginMs' | 'leaseTtlSeconds' | 'resyncMs'>;

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
  const nodeName = flags.nodeName ?? process.env.NODE_NAME;
  // A label for people; in etcd mode a host is its public address (pkg/hosts), whatever its name.
  const label = nodeName ?? hostname();
  // The networks' statuses for the metrics' gauges, once the status sources exist.
  let statusOf: () => readonly NetworkStatus[] = () => [];
  const metrics = new DaemonMetrics({
    networks: () => statusOf(),
    attachments: (n) => attachments(flags.cniDataDir, n === 'default' ? '' : n),
  });
  const firewall = new FirewallKeeper({ log, onRepair: () => metrics.repair('host', 'firewall') });
  const shared: Shared = {
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
  const agentDeps = (source: (l: Logger) => LeaseSource) => ({
    source,
    nl,
    iface,
    log,
    firewall,
    protectedAddrs,
    ports: defaultPorts,
    onPass: (s: number) => metrics.pass('default', s),
    onRepair: (k: RepairKind) => metrics.repair('default', k),
    onVxlanPeers: () => hostFirewall?.admitPeers(),
  });
  // The port guard and the VXLAN filter (issue 25), made once the networks are: they span all of them.
  let hostFirewall: HostFirewall | undefined;
  let agent: NetworkAgent;
  let etcd: EtcdClient | undefined;
  let store: () => StoreStatus;
  let networks: NetworkManager | undefined;
  let identity: HostIdentity | undefined;
  const starting = { version: VERSION, iface: iface.name, address: iface.address, publicIP: iface.publicIP, mtu: iface.mtu };
  if (flags.kubeSubnetMgr) {
    if (!nodeName)
      throw new WeftError(
        'WEFT_INVALID_CONFIG',
        "--kube-subnet-mgr needs this node's name: set NODE_NAME (the downward API's spec.nodeName) or --node-name",
      );
    const { KubeNodes } = await import('../kube/mod.ts');
    const { KubeLeaseSource } = await import('../lease/kube-source.ts');
    const nodes = new KubeNodes({ kubeconfigFile: flags.kubeconfigFile, apiUrl: flags.kubeApiUrl });
    log.info('starting', { ...starting, kubernetes: nodes.server, node: nodeName });
    const kube = {
      nodeName,
      annotationPrefix: flags.kubeAnnotationPrefix,
      netConfigPath: flags.netConfigPath,
      setNetworkUnavailable: flags.setNodeNetworkUnavailable,
    };
    agent = new NetworkAgent(
      defaultSpec,
      agentDeps((l) => new KubeLeaseSource(nodes, kube, l)),
    );
    store = () => ({ kind: 'kubernetes', server: nodes.server });
  } else {
    const client = new EtcdClient({
      endpoints: flags.etcdEndpoints,
      certFile: flags.etcdCertFile,
      keyFile: flags.etcdKeyFile,
      caFile: flags.etcdCAFile,
      username: flags.etcdUsername,
      password: flags.etcdPassword,
      onSwitch: (to, why) => log.warn(`etcd: now using ${to} (${why})`),
      onRequest: (op, error) => metrics.etcdRequest(op, error),
      onWatchEnd: (why) => metrics.watchRestart(why),
    });
    log.info('starting', { ...starting, etcd: client.endpoints.join(',') });
    etcd = client;
    const me = { HostID: loadHostId(flags.stateDir), NodeName: label, PublicIP: iface.publicIP, Started: new Date().toISOString() };
    const id = new HostIdentity(me, { registry: new HostRegistry(client, flags.weftPrefix), log });
    identity = id;
    // Refused here, nothing of this host's has started yet: the one line is the daemon's exit message.
    try {
      await Promise.race([id.start(), new Promise((r) => setTimeout(r, FIRST_CLAIM_WAIT_MS).unref())]);
    } catch (e) {
      await id.stop();
      client.close();
      nl.close();
      throw e;
    }
    store = () => ({ kind: 'etcd', endpoints: client.state() });
    agent = new NetworkAgent(
      defaultSpec,
      agentDeps((l) => gateLeaseSource(new EtcdLeaseSource(new SubnetRegistry(client, flags.etcdPrefix), l), id)),
    );
    const dflt = agent;
    networks = new NetworkManager(
      {
        store: new NetworkStore(client, flags.weftPrefix, `${flags.etcdPrefix}/config`),
        nl,
        iface,
        log,
        firewall,
        metrics,
        protectedAddrs,
      },
      {
        root: flags.weftPrefix,
        runDir: flags.runDir,
        cniConfDir: flags.cniConfDir || undefined,
        cniDataDir: flags.cniDataDir,
        nodeName: label,
        dns: flags.dns,
        socket: join(flags.runDir, 'weft.sock'),
        agent: shared,
        defaultRanges: () => [dflt.clusterNetwork(), dflt.clusterNetwork6()].filter((r): r is string => r !== undefined),
        defaultDevices: () => {
          const s = dflt.status();
          return s.device ? [bridgeName(''), s.device, ...(s.device6 ? [s.device6] : [])] : [];
        },
        flannelConfigKey: `${flags.etcdPrefix}/config`,
      },
    );
  }
  logNat(log, iface);
  const named = networks;
  const guards = new HostFirewall({
    nl,
    firewall,
    log,
    dataDir: flags.cniDataDir,
    sources: {
      networks: () => [
        { network: '', exclusive: false },
        ...(named?.networkNames() ?? []).map((network) => ({ network, exclusive: true })),
      ],
      vxlan: () => [agent.vxlanSource() ?? [], named?.vxlanSources() ?? []].flat(),
    },
  });
  hostFirewall = guards;
  if (named) named.onVxlanPeers = () => guards.admitPeers();
  void guards.start();
  const watcher = new KernelWatcher((e) => {
    agent.onKernelEvent(e);
    networks?.onKernelEvent(e);
    guards.onKernelEvent(e);
  });
  let docker: DockerSide | undefined;
  const sources: StatusSources = {
    node: label,
    startedAt: new Date(),
    store,
    firewall,
    defaultAgent: agent,
    cni: { confDir: flags.cniConfDir || undefined, dataDir: flags.cniDataDir },
    named: (verbose) => networks?.reports(verbose) ?? [],
    docker: () => docker?.status(),
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
  }, shared.resyncMs);
  const status = () => [agent.status(), ...(networks?.statuses() ?? [])];
  statusOf = () => daemonStatus(sources, false).networks;
  // systemd's Type=notify: READY=1 once the daemon serves (what /readyz says), once.
  let notified = false;
  const notifyReady = () => {
    if (notified || !readiness(status()).ready) return;
    notified = true;
    clearInterval(readyPoll);
    try {
      if (
        sdNotify(
          `READY=1\nSTATUS=serving ${statusOf()
            .map((n) => `${n.name} ${n.subnet}`)
            .join(', ')}`,
        )
      )
        log.info('told systemd: ready');
    } catch (e) {
      log.warn(`cannot tell systemd the daemon is ready: ${messageOf(e)}`);
    }
  };
  const readyPoll = setInterval(notifyReady, 1000);
  const health =
    flags.healthzPort > 0
      ? await startHealthServer({ host: flags.healthzIP, port: flags.healthzPort, status, metrics: () => metrics.registry.render() })
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
  if (networks) {
    const nm = networks;
    // Named networks' agents take leases and their repair removes endpoint records: not before the claim.
    void (identity?.whenClaimed() ?? Promise.resolve())
      .then(() => nm.start())
      .catch((e: unknown) => log.error(`named networks: ${(e as Error).message}`));
  }
  if (flags.docker && !networks) log.warn('--docker has no effect with --kube-subnet-mgr: Docker networks are weft networks, kept in etcd');
  else if (flags.docker && networks) {
    docker = await startDockerSide(
      { socket: flags.dockerPluginSocket, dockerHost: flags.dockerHost, dnsAddress: flags.dockerDns },
      { networks, nl, log, onRequest: (m, r) => metrics.dockerRequest(m, r), onRepair: () => metrics.repair('host', 'docker_plugin') },
    );
    networks.onNetworksChanged = docker.changed;
  }

  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string, failure?: unknown) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping; the lease is kept', { signal });
      clearInterval(resync);
      clearInterval(readyPoll);
      watcher.close();
      guards.stop();
      void Promise.all([agent.stop(), networks?.stop(), docker?.stop(), identity?.stop()]).finally(() => {
        health?.close();
        api.close();
        etcd?.close();
        nl.close();
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
    const dataDir = flags.cniDataDir;
    void reclaimEarlierBoots({ dataDir, network: '', nl, log })
      .then(() => agent.start())
      .then(saveStatus, (e: unknown) => {
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
