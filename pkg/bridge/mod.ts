export { ensureBridge, bridgeMac, bridgeDrift, attachPorts, type BridgeSpec } from './bridge.ts';
