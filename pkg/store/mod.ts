export { EtcdClient, parseEndpoints, type EtcdOptions, type EndpointState, type KeyValue } from './etcd/mod.ts';
export { SubnetRegistry, storeError, type Listing } from './registry.ts';
export { PrefixFeed, type Change, type FeedHandlers } from './prefix-feed.ts';
export { NetworkStore, type CreatedNetwork } from './networks.ts';
export { HostRegistry, type HostClaim } from './hosts.ts';
