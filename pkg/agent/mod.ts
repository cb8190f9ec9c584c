export {
  NetworkAgent,
  type AgentDeps,
  type AgentSpec,
  type AgentStatus,
  type ReconcileSummary,
  type RepairKind,
  type Served,
} from './agent.ts';
export { findExternalInterface, type ExternalInterface } from './iface.ts';
export { Reconciler } from './reconciler.ts';
