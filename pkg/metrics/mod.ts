export { Counter, Gauge, Histogram, Registry, CONTENT_TYPE, type Labels } from './registry.ts';
export { processMetrics } from './process.ts';
