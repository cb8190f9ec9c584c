export * from './schema.ts';
export {
  validateCreate,
  networkConfigOf,
  nextVni,
  defaultHostSubnetLen,
  DEFAULT_NETWORK_NAME,
  FIRST_VNI,
  type CreateRequest,
  type CreateCheck,
  type ValidCreate,
  type ExistingNetwork,
} from './spec.ts';
export {
  bridgeName,
  vxlanDeviceName,
  leaseFileName,
  conflistFileName,
  hostVethName,
  networkKey,
  DEFAULT_NETWORK_KEY,
  NETWORK_NAME,
} from './names.ts';
export { lsTable, inspectObject, firstAddress, type LsRow } from './inspect.ts';
