export { percentile, summarize, ms, table, type Summary } from './stats.ts';
export { iperf, rtt, type Ns } from './net.ts';
export { timeCni, referencePlugin, type TimedPlugin } from './cni.ts';
export { procStats, PeakMemory, type ProcStats } from './proc.ts';
