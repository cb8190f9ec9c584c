/**
 * `weft daemon`: one process per host. It finds the underlay interface, connects to etcd, runs an agent for
 * the flannel default network (weft's named networks join in a later release), serves health endpoints, and
 * on SIGTERM or SIGINT stops cleanly, keeping its lease (flanneld does the same: peers keep their routes and a
 * restart finds the same subnet).
 */
import { WeftError } from '../errors/mod.ts';
import type { DaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { Netlink } from '../kernel/mod.ts';
import { createLogger } from '../log/logger.ts';
import { openEtcd, SubnetRegistry } from '../store/mod.ts';
import { NetworkAgent } from './agent.ts';
import { startHealthServer } from './health.ts';
import { findExternalInterface } from './iface.ts';

export async function runDaemon(flags: DaemonFlags): Promise<void> {
  const log = createLogger({ level: flags.logLevel });
  for (const w of flags.warnings) log.warn(w);
  if (flags.kubeSubnetMgr) throw new WeftError('WEFT_INVALID_CONFIG', '--kube-subnet-mgr is not available in this release; weft takes subnets from etcd (--etcd-endpoints)');
  const nl = Netlink.open();
  const iface = await findExternalInterface(nl, { ifaces: flags.ifaces, ifaceRegexes: flags.ifaceRegexes, publicIP: flags.publicIP });
  log.info('starting', { iface: iface.name, address: iface.address, publicIP: iface.publicIP, mtu: iface.mtu, etcd: flags.etcdEndpoints.join(',') });
  if (iface.vtepLocal !== iface.publicIP) log.info('the public address is not on this host (NAT?); VXLAN packets leave from the interface address', { local: iface.vtepLocal });
  const etcd = openEtcd({
    endpoints: flags.etcdEndpoints, certFile: flags.etcdCertFile, keyFile: flags.etcdKeyFile, caFile: flags.etcdCAFile,
    username: flags.etcdUsername, password: flags.etcdPassword,
  });
  const agent = new NetworkAgent(
    {
      key: '_default', subnetFile: flags.subnetFile, stateDir: flags.stateDir, ipMasq: flags.ipMasq, ipMasqFullyRandom: flags.ipMasqFullyRandom,
      forwardRules: flags.forwardRules, renewMarginMs: flags.subnetLeaseRenewMargin * 60_000, leaseTtlSeconds: flags.subnetLeaseTtl, resyncMs: flags.resyncPeriod * 1000,
    },
    { registry: new SubnetRegistry(etcd, flags.etcdPrefix), nl, iface, log },
  );
  const health = flags.healthzPort > 0 ? await startHealthServer({ host: flags.healthzIP, port: flags.healthzPort, status: () => [agent.status()] }) : undefined;
  if (health) log.info('health endpoints listening', { address: `${flags.healthzIP}:${flags.healthzPort}` });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping; the lease is kept', { signal });
      void agent.stop().finally(() => {
        health?.close();
        etcd.close();
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
