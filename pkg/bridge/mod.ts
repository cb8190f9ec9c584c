export { ensureBridge, bridgeMac, bridgeDrift, attachPorts, noLinkLocalDad, type BridgeSpec } from './bridge.ts';
