export { Sim, destroyByPrefix, UNDERLAY_PREFIX, type SimHost, type SimNs, type PodSpec } from './topology.ts';
export { SimEtcd, SimEtcdMember, ETCD_HOST, type SimEtcdOptions, type SimEtcdTls } from './etcd.ts';
export { SimDaemon, HEALTH_PORT, healthGet, withBinds } from './daemon.ts';
export { SimPki, type CertFiles } from './pki.ts';
export { waitFor } from './wait.ts';
export {
  SimCluster,
  DEFAULT_CONFIG,
  clusterDaemonArgs,
  etcdArgs,
  weftPrefixBeside,
  type EtcdAccess,
  type SimPod,
  type ClusterOptions,
} from './cluster.ts';
