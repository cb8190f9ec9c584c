export * from './schema.ts';
export { validateCreate, networkConfigOf, nextVni, defaultHostSubnetLen, NETWORK_NAME, DEFAULT_NETWORK_NAME, FIRST_VNI, type CreateRequest, type ValidCreate, type ExistingNetwork } from './spec.ts';
export { bridgeName, vxlanDeviceName, leaseFileName, conflistFileName } from './names.ts';
export { lsTable, inspectObject, firstAddress, type LsRow } from './inspect.ts';
