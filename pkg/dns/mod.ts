export { parseQuery, buildResponse, buildQuery, answersOf, isTruncated, RCODE, type Query, type Question } from './message.ts';
export { resolve, resolvePtr, reverseAddress, type DirectoryEntry, type Decision } from './directory.ts';
export { DnsServer, hostResolvers, type DnsAnswer } from './server.ts';
