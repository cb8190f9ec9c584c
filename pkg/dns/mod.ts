export { parseQuery, buildResponse, buildQuery, answersOf, TYPE, RCODE, type Query, type Question } from './message.ts';
export { resolve, type DirectoryEntry, type Decision } from './directory.ts';
export { DnsServer, hostResolvers, type DnsAnswer } from './server.ts';
