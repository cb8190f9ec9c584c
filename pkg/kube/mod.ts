export { KubeNodes, type KubeNode, type KubeOptions, type NodeWatchHandlers } from './client.ts';
