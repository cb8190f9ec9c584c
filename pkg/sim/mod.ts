export { Sim, destroyByPrefix, UNDERLAY_PREFIX, type SimHost, type SimNs, type PodSpec } from './topology.ts';
export { SimEtcd, ETCD_HOST } from './etcd.ts';
export { SimDaemon, HEALTH_PORT, healthGet } from './daemon.ts';
export { waitFor } from './wait.ts';
export { SimCluster, DEFAULT_CONFIG, clusterDaemonArgs, weftPrefixBeside, type SimPod, type ClusterOptions } from './cluster.ts';
