export { daemonCall, DEFAULT_SOCKET } from './client.ts';
