export {
  planPeers,
  planPeers6,
  planPeersInner6,
  mergePlans,
  onLinkOf,
  type OverlayDesired,
  type PlannedRoute,
  type PlanInput,
  type PlanInput6,
} from './plan.ts';
export { diffOverlay, describeOp, type OverlayOp, type OverlayObserved, type ObservedRoute } from './diff.ts';
export { observeOverlay, observeOverlayScopes, type OverlayScope } from './observe.ts';
export { diffIntent, eventDrifts, observedOf, type DeviceIntent } from './intent.ts';
export { applyOverlay, type ApplyReport } from './apply.ts';
export { ensureVtep, vtepDrift, vtepIncompatibility, type VtepSpec } from './device.ts';
export { vtepMtu, VXLAN_OVERHEAD } from './mtu.ts';
