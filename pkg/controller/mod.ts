export { runDaemon } from './daemon.ts';
export { NetworkAgent, type AgentSpec, type AgentStatus } from './agent.ts';
export { findExternalInterface, type ExternalInterface } from './iface.ts';
