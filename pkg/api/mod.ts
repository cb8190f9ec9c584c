export { daemonCall, registerEndpoint, unregisterEndpoint, DEFAULT_SOCKET, type EndpointRequest } from './client.ts';
