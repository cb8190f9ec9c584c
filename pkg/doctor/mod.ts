export { diagnose, type Check, type Verdict } from './checks.ts';
export { gatherFacts, type HostFacts, type NetworkFacts } from './facts.ts';
export { parsePing, probeVerdict } from './probe.ts';
export { runDoctor, type DoctorOptions } from './run.ts';
