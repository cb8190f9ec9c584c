export { daemonCall, registerEndpoint, unregisterEndpoint, DEFAULT_SOCKET, type EndpointRequest } from './daemon-client.ts';
export { appliedMasquerades, markMasquerade, masqueradeMarked } from './masq-marker.ts';
export { currentBootId, Records, type AttachmentRecord, type RecordEntry } from './records.ts';
export { networkState, type NetworkState } from './state.ts';
export { reclaimPreviousBoot, teardown } from './teardown.ts';
