export { openEtcd, type EtcdClient, type EtcdOptions } from './etcd.ts';
export { SubnetRegistry, type Listing } from './registry.ts';
export { PrefixFeed, type Change, type FeedHandlers } from './prefix-feed.ts';
export { NetworkStore, type CreatedNetwork } from './networks.ts';
