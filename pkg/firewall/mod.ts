export { FirewallKeeper, nftCommand, type Adopted, type NftRunner, type SyncReport } from './keeper.ts';
export { isolationTable, ISOLATION_TABLE, type IsolatedRange } from './isolation.ts';
export { CNI_MASQ_TABLE, cniMasqChain, cniMasqChainName, flannelMasqTable, masqTableName, type MasqSpec } from './masquerade.ts';
export {
  chainPresent,
  chainScript,
  deleteScript,
  replaceScript,
  splitRuleset,
  tableKey,
  type NftChain,
  type NftFamily,
  type NftTable,
} from './table.ts';
export { applyNft, nft, type NftResult } from './nft.ts';
