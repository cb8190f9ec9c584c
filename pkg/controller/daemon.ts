/**
 * `weft daemon`: one process per host. It finds the underlay interface and runs an agent for the flannel
 * default network with its leases in etcd, or, with --kube-subnet-mgr, in the Kubernetes API (Node podCIDR
 * and annotations). In etcd mode it also runs the named networks and the local API (docs/adr/0003). It
 * serves health endpoints, and on SIGTERM or SIGINT stops cleanly, keeping its lease (flanneld does the
 * same: peers keep their routes and a restart finds the same subnet).
 */
import { createHash } from 'node:crypto';
import { WeftError } from '../errors/mod.ts';
import type { DaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { Netlink } from '../kernel/mod.ts';
import { createLogger } from '../log/logger.ts';
import { EtcdClient, SubnetRegistry } from '../store/mod.ts';
import type { Server } from 'node:http';
import { EtcdLeaseSource } from './lease-source.ts';
import { NetworkAgent } from './agent.ts';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from './api.ts';
import { startHealthServer } from './health.ts';
import { findExternalInterface } from './iface.ts';
import { NetworkManager } from './networks.ts';

export async function runDaemon(flags: DaemonFlags): Promise<void> {
  const log = createLogger({ level: flags.logLevel });
  for (const w of flags.warnings) log.warn(w);
  const nl = Netlink.open();
  const iface = await findExternalInterface(nl, { ifaces: flags.ifaces, ifaceRegexes: flags.ifaceRegexes, publicIP: flags.publicIP });
  const nodeName = flags.nodeName ?? process.env.NODE_NAME;
  const shared = {
    stateDir: flags.stateDir, ipMasqFullyRandom: flags.ipMasqFullyRandom, forwardRules: flags.forwardRules,
    renewMarginMs: flags.subnetLeaseRenewMargin * 60_000, leaseTtlSeconds: flags.subnetLeaseTtl, resyncMs: flags.resyncPeriod * 1000,
  };
  const defaultSpec = { ...shared, key: '_default', network: '', preCreateBridge: false, subnetFile: flags.subnetFile, ipMasq: flags.ipMasq };
  let agent: NetworkAgent;
  let etcd: EtcdClient | undefined;
  let networks: NetworkManager | undefined;
  if (flags.kubeSubnetMgr) {
    if (!nodeName) throw new WeftError('WEFT_INVALID_CONFIG', '--kube-subnet-mgr needs this node\'s name: set NODE_NAME (the downward API\'s spec.nodeName) or --node-name');
    const { KubeNodes } = await import('../kube/mod.ts');
    const { KubeLeaseSource } = await import('./kube-source.ts');
    const nodes = new KubeNodes({ kubeconfigFile: flags.kubeconfigFile, apiUrl: flags.kubeApiUrl });
    log.info('starting', { iface: iface.name, address: iface.address, publicIP: iface.publicIP, mtu: iface.mtu, kubernetes: nodes.server, node: nodeName });
    const kube = { nodeName, annotationPrefix: flags.kubeAnnotationPrefix, netConfigPath: flags.netConfigPath, setNetworkUnavailable: flags.setNodeNetworkUnavailable };
    agent = new NetworkAgent(defaultSpec, { source: (l) => new KubeLeaseSource(nodes, kube, l), nl, iface, log });
  } else {
    log.info('starting', { iface: iface.name, address: iface.address, publicIP: iface.publicIP, mtu: iface.mtu, etcd: flags.etcdEndpoints.join(',') });
    const client = new EtcdClient({
      endpoints: flags.etcdEndpoints, certFile: flags.etcdCertFile, keyFile: flags.etcdKeyFile, caFile: flags.etcdCAFile,
      username: flags.etcdUsername, password: flags.etcdPassword,
      onSwitch: (to, why) => log.warn(`etcd: now using ${to} (${why})`),
    });
    etcd = client;
    agent = new NetworkAgent(defaultSpec, { source: (l) => new EtcdLeaseSource(new SubnetRegistry(client, flags.etcdPrefix), l), nl, iface, log });
    const dflt = agent;
    networks = new NetworkManager({ client, nl, iface, log }, {
      root: flags.weftPrefix, runDir: flags.runDir, cniConfDir: flags.cniConfDir || undefined, cniDataDir: flags.cniDataDir,
      nodeName: nodeName ?? hostname(), dns: flags.dns, socket: join(flags.runDir, 'weft.sock'), agent: shared,
      defaultRange: () => dflt.clusterNetwork(), flannelConfigKey: `${flags.etcdPrefix}/config`,
    });
  }
  if (iface.vtepLocal !== iface.publicIP) log.info('the public address is not on this host (NAT?); VXLAN packets leave from the interface address', { local: iface.vtepLocal });
  const status = () => [agent.status(), ...(networks?.statuses() ?? [])];
  const health = flags.healthzPort > 0 ? await startHealthServer({ host: flags.healthzIP, port: flags.healthzPort, status }) : undefined;
  if (health) log.info('health endpoints listening', { address: `${flags.healthzIP}:${flags.healthzPort}` });
  let api: Server | undefined;
  if (networks) {
    const socket = join(flags.runDir, 'weft.sock');
    const defaultId = createHash('sha256').update(`flannel:${flags.etcdPrefix}`).digest('hex');
    api = await startApiServer(socket, networks, () => ({ id: defaultId, subnet: agent.clusterNetwork() }));
    log.info('API listening', { socket });
    const nm = networks;
    void nm.start().catch((e: unknown) => log.error(`named networks: ${(e as Error).message}`));
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping; the lease is kept', { signal });
      void Promise.all([agent.stop(), networks?.stop()]).finally(() => {
        health?.close();
        api?.close();
        etcd?.close();
        nl.close();
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    agent.start().catch((e: unknown) => {
      if ((e as Error).message !== 'stopped') {
        log.error(`network agent failed: ${(e as Error).message}`);
        process.exitCode = 1;
        stop('error');
      }
    });
  });
}
