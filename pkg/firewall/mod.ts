export { FirewallKeeper, nftCommand, type Adopted, type NftRunner, type SyncReport } from './keeper.ts';
export { isolationTable, ISOLATION_TABLE, type IsolatedDevices, type IsolatedRange } from './isolation.ts';
export {
  GUARD_SETS,
  GUARD_TABLE,
  guardElements,
  guardTable,
  nftIfName,
  portKeys,
  portOf,
  quarantineKeys,
  portScript,
  type GuardedPort,
  type GuardSet,
} from './guard.ts';
export { KERNEL_VXLAN_PORT, VXLAN_TABLE, vxlanElements, vxlanKeys, vxlanTable, type VxlanSource } from './underlay.ts';
export { CNI_MASQ_TABLE, cniMasqChain, cniMasqChainName, flannelMasqTable, masqTableName, type MasqSpec } from './masquerade.ts';
export {
  canonicalElement,
  chainPresent,
  chainScript,
  deleteScript,
  elementsScript,
  listedElements,
  replaceScript,
  splitRuleset,
  tableKey,
  withoutElements,
  type NftChain,
  type NftElements,
  type NftFamily,
  type NftTable,
} from './table.ts';
export { applyNftAsync, nftAsync, type NftResult } from './nft.ts';
export { nftFamily } from './values.ts';
