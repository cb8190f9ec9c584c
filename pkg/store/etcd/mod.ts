export {
  EtcdClient,
  type EtcdOptions,
  type KvClient,
  type EndpointState,
  type Range,
  type Watch,
  type WatchEnd,
  type WatchHandlers,
} from './client.ts';
export type { Compare, KeyValue, Op, WatchEvent } from './codec.ts';
export { parseEndpoint, parseEndpoints, type Endpoint } from './endpoint.ts';
export type { EtcdTransport, Reply, SendOptions, TransportFactory } from './transport.ts';
