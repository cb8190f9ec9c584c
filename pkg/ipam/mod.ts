export { makePool, candidates, capacity, isAssignable, gatewayOf, prefixLen, type Pool } from './pool.ts';
export { AddressStore, ownerOf, DOCKER_IPAM_OWNER } from './store.ts';
export { allocate } from './allocate.ts';
