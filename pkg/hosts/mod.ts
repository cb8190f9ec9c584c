export {
  decideIdentity,
  decodeHostRecord,
  encodeHostRecord,
  hostKey,
  hostsPrefix,
  shortHostId,
  HOST_ID,
  type ExistingHosts,
  type HostRecord,
  type IdentityDecision,
} from './identity.ts';
