export { weftPlugin, ABOUT } from './plugin.ts';
export { parseAttachConfig, DEFAULT_DATA_DIR, type AttachConfig } from './config.ts';
export { hostVethName, defaultBridge, defaultSubnetFile, networkKey, DEFAULT_NETWORK_KEY } from './names.ts';
export { networkState, type NetworkState } from './state.ts';
export { currentBootId, type AttachmentRecord } from './records.ts';
export { appliedMasquerades, MASQ_TABLE } from './masq.ts';
export { reclaimPreviousBoot } from './teardown.ts';
