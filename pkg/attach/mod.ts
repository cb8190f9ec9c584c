/**
 * The attachment core: what connecting a container to a weft network on this host means, shared by the CNI
 * plugin (pkg/cniplugin, a process per verb) and Docker's network driver (pkg/docker, in the daemon), which
 * use it only through this file (pkg/boundaries.test.ts). It holds the network's settings on this host
 * (config), the subnet file the lease holder writes, the plan (pure), the host's half of the veth and the
 * container's, the port guard's elements, the rollback list and the record's write-ahead lifecycle. It never
 * spawns a process: the daemon loads it (docs/adr/0011).
 */
export { applyAttachment, plugVeth, type AppliedMacs } from './apply.ts';
export { parseAttachConfig, DEFAULT_DATA_DIR, type AttachConfig } from './config.ts';
export { guardPort } from './guard.ts';
export { defaultSubnetFile, macForIPv4 } from './names.ts';
export { bridgeOf, planAttachment, resultOf, type AttachmentPlan, type PlannedRoute } from './plan.ts';
export { readSubnetFile, type SubnetFile } from './subnet-file.ts';
export { Undo } from './undo.ts';
export { writeAhead, type Attaching, type WriteAheadInput } from './write-ahead.ts';
