export { decodeLease, subnetOfKey, isReservation, type RawKv, type SubnetLease, type Decoded } from './lease.ts';
export { chooseSubnet, fitsConfig, type Choice, type ChooseInput } from './choose.ts';
