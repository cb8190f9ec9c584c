export * from './schema.ts';
export {
  validateCreate,
  validateMeta,
  vniTaken,
  networkConfigOf,
  nextVni,
  defaultHostSubnetLen,
  DEFAULT_NETWORK_NAME,
  FIRST_VNI,
  NETWORK_ID,
  type CreateRequest,
  type CreateCheck,
  type ValidCreate,
  type ExistingNetwork,
} from './spec.ts';
export {
  bridgeName,
  vxlanDeviceName,
  vxlanDeviceName6,
  leaseFileName,
  conflistFileName,
  hostVethName,
  networkKey,
  DEFAULT_NETWORK_KEY,
  NETWORK_NAME,
} from './names.ts';
export {
  acceptEndpoint,
  acceptNetworks,
  configProblem,
  endpointNameProblem,
  printable,
  validateEndpoint,
  MAX_ALIASES,
  type DefaultNetwork,
  type Refusal,
  type StoredKv,
} from './record.ts';
export { inspectObject, defaultInspectObject, inspectPeer, firstAddress, type InspectPeer } from './inspect.ts';
export { lsView, parseFilters, filterRows, LS_FORMAT, type LsRow, type LsView } from './list.ts';
