export { Sim, destroyByPrefix, UNDERLAY_PREFIX, type SimHost, type SimNs, type PodSpec } from './topology.ts';
