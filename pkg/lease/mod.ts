export {
  decodeLease,
  subnetOfKey,
  isReservation,
  leaseOfFamily,
  NO_IPV4_SUBNET,
  type RawKv,
  type SubnetLease,
  type Decoded,
} from './lease.ts';
export { halvesOf, rivalOf, screenPeers, sharesHalf, type Claim, type Screened } from './conflicts.ts';
export { chooseSubnet, fitsConfig, type Choice, type ChooseInput, type ChooseResult } from './choose.ts';
export { realClock, type Clock, type Timer } from './clock.ts';
export { LeaseKeeper, type HeldLease, type KeeperSpec, type KeeperState } from './keeper.ts';
export { EtcdLeaseSource } from './etcd-source.ts';
export type { AcquireSpec, LeaseSource, PeerHandlers } from './source.ts';
export type { SubnetStore, Listing, Change, FeedHandlers, CreateResult } from './store.ts';
