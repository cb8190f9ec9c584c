export {
  parseQuery,
  buildResponse,
  buildQuery,
  answersOf,
  isTruncated,
  fitUdp,
  MAX_UDP_ANSWER,
  RCODE,
  type Query,
  type Question,
} from './message.ts';
export { isEndpointOf, isLocalAsker, localScope, EMPTY_SCOPE, type LocalScope } from './askers.ts';
export { resolve, resolvePtr, reverseAddress, type DirectoryEntry, type Decision } from './directory.ts';
export { DnsServer, hostResolvers, MAX_FORWARDS, type DnsAnswer } from './server.ts';
