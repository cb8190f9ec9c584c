export { labUp, type UpOptions } from './up.ts';
export { labBench, type BenchOptions } from './bench.ts';
export { labStatus } from './status.ts';
export { labDown, cleanLeftovers } from './down.ts';
export { labDir, readState, selfExecutable, type LabState } from './state.ts';
export { labPrefix } from './names.ts';
