export { ensureBridge, bridgeMac, hasAddress, type BridgeSpec } from './bridge.ts';
