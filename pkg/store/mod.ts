export { openEtcd, type EtcdOptions } from './etcd.ts';
export { SubnetRegistry, type Listing, type SubnetChange } from './registry.ts';
export { LeaseFeed } from './lease-feed.ts';
