/**
 * Where the daemon's leases live, as --kube-subnet-mgr chooses: the Kubernetes API (Node podCIDR and
 * annotations), for the flannel default network alone; or etcd, where this host first claims its public
 * address (pkg/hosts: a second live host at the same address is refused) and also runs the named networks.
 * Either way the result is the default network's agent, not started yet, and what the status says of the store.
 */
import { join } from 'node:path';
import type { DaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { NetworkAgent, type AgentDeps, type AgentSpec, type ExternalInterface } from '../agent/mod.ts';
import type { StoreStatus } from '../contract/status.ts';
import { WeftError } from '../errors/mod.ts';
import type { FirewallKeeper } from '../firewall/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import { EtcdLeaseSource, type LeaseSource } from '../lease/mod.ts';
import type { Fields, Logger } from '../log/logger.ts';
import { bridgeName } from '../networks/mod.ts';
import { EtcdClient, HostRegistry, NetworkStore, SubnetRegistry } from '../store/mod.ts';
import { gateLeaseSource, HostIdentity, loadHostId } from './host-identity.ts';
import type { DaemonMetrics } from './metrics.ts';
import { NetworkManager } from './network-manager.ts';

/**
 * How long the start waits for the first claim of this host's address before going on without it (etcd slow
 * or down: the health endpoints and the API then say why; no lease is taken until the claim is made).
 */
const FIRST_CLAIM_WAIT_MS = 3000;

export type SharedSpec = Pick<
  AgentSpec,
  'stateDir' | 'ipMasqFullyRandom' | 'forwardRules' | 'renewMarginMs' | 'leaseTtlSeconds' | 'resyncMs'
>;

/** What the daemon made before choosing: the host's parts every agent shares. */
export interface BackendContext {
  readonly flags: DaemonFlags;
  readonly log: Logger;
  readonly nl: Netlink;
  readonly iface: ExternalInterface;
  /** --node-name or NODE_NAME, and the label for people (that, or the host name). */
  readonly nodeName: string | undefined;
  readonly label: string;
  readonly metrics: DaemonMetrics;
  readonly firewall: FirewallKeeper;
  readonly shared: SharedSpec;
  readonly defaultSpec: AgentSpec;
  /** The default network's agent's dependencies, around its lease source. */
  readonly agentDeps: (source: (l: Logger) => LeaseSource) => AgentDeps;
  readonly protectedAddrs: readonly string[];
  /** What the "starting" line says besides the store. */
  readonly starting: Fields;
}

export interface Backend {
  readonly agent: NetworkAgent;
  readonly store: () => StoreStatus;
  /** In etcd mode: the client, the named networks and this host's claim on its address. */
  readonly etcd?: EtcdClient;
  readonly networks?: NetworkManager;
  readonly identity?: HostIdentity;
}

export async function kubeBackend(c: BackendContext): Promise<Backend> {
  const { flags, nodeName } = c;
  if (!nodeName)
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      "--kube-subnet-mgr needs this node's name: set NODE_NAME (the downward API's spec.nodeName) or --node-name",
    );
  const { KubeNodes } = await import('../kube/mod.ts');
  const { KubeLeaseSource } = await import('../lease/kube-source.ts');
  const nodes = new KubeNodes({ kubeconfigFile: flags.kubeconfigFile, apiUrl: flags.kubeApiUrl });
  c.log.info('starting', { ...c.starting, kubernetes: nodes.server, node: nodeName });
  const kube = {
    nodeName,
    annotationPrefix: flags.kubeAnnotationPrefix,
    netConfigPath: flags.netConfigPath,
    setNetworkUnavailable: flags.setNodeNetworkUnavailable,
  };
  const agent = new NetworkAgent(
    c.defaultSpec,
    c.agentDeps((l) => new KubeLeaseSource(nodes, kube, l)),
  );
  return { agent, store: () => ({ kind: 'kubernetes', server: nodes.server }) };
}

export async function etcdBackend(c: BackendContext): Promise<Backend> {
  const { flags, log, metrics } = c;
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
  log.info('starting', { ...c.starting, etcd: client.endpoints.join(',') });
  const me = { HostID: loadHostId(flags.stateDir), NodeName: c.label, PublicIP: c.iface.publicIP, Started: new Date().toISOString() };
  const identity = new HostIdentity(me, { registry: new HostRegistry(client, flags.weftPrefix), log });
  // Refused here, nothing of this host's has started yet: the one line is the daemon's exit message.
  try {
    await Promise.race([identity.start(), new Promise((r) => setTimeout(r, FIRST_CLAIM_WAIT_MS).unref())]);
  } catch (e) {
    await identity.stop();
    client.close();
    c.nl.close();
    throw e;
  }
  const agent = new NetworkAgent(
    c.defaultSpec,
    c.agentDeps((l) => gateLeaseSource(new EtcdLeaseSource(new SubnetRegistry(client, flags.etcdPrefix), l), identity)),
  );
  const networks = new NetworkManager(
    {
      store: new NetworkStore(client, flags.weftPrefix, `${flags.etcdPrefix}/config`),
      nl: c.nl,
      iface: c.iface,
      log,
      firewall: c.firewall,
      metrics,
      protectedAddrs: c.protectedAddrs,
    },
    {
      root: flags.weftPrefix,
      runDir: flags.runDir,
      cniConfDir: flags.cniConfDir || undefined,
      cniDataDir: flags.cniDataDir,
      nodeName: c.label,
      dns: flags.dns,
      socket: join(flags.runDir, 'weft.sock'),
      agent: c.shared,
      defaultRanges: () => [agent.clusterNetwork(), agent.clusterNetwork6()].filter((r): r is string => r !== undefined),
      defaultDevices: () => {
        const s = agent.status();
        return s.device ? [bridgeName(''), s.device, ...(s.device6 ? [s.device6] : [])] : [];
      },
      flannelConfigKey: `${flags.etcdPrefix}/config`,
    },
  );
  return { agent, store: () => ({ kind: 'etcd', endpoints: client.state() }), etcd: client, networks, identity };
}
