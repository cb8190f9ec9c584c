export { FirewallKeeper, nftCommand, type Adopted, type NftRunner, type SyncReport } from './keeper.ts';
export { isolationTable, ISOLATION_TABLE, type IsolatedRange } from './isolation.ts';
export { masqueradeTable, masqTableName, type MasqSpec } from './masquerade.ts';
export { replaceScript, deleteScript, splitRuleset, tableKey, type NftTable, type NftFamily } from './table.ts';
export { applyNft, nft, type NftResult } from './nft.ts';
