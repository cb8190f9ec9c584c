/**
 * The kernel operations the daemon's planners carry out and observe through, as a structural type: the real
 * Netlink handle provides them, and the agent's unit tests give an in-memory kernel instead (flannel's
 * Registry interface and its mock, for the kernel side). Nothing here adds behaviour.
 */
import type { Netlink } from './netlink.ts';

export type KernelOps = Pick<
  Netlink,
  | 'findLink'
  | 'getLink'
  | 'listLinks'
  | 'addVxlan'
  | 'addBridge'
  | 'setLink'
  | 'setMaster'
  | 'setUp'
  | 'setDown'
  | 'deleteLink'
  | 'listAddrs'
  | 'addAddr'
  | 'deleteAddr'
  | 'listNeighs'
  | 'setNeigh'
  | 'deleteNeigh'
  | 'listFdb'
  | 'replaceFdb'
  | 'deleteFdb'
  | 'listRoutes'
  | 'replaceRoute'
  | 'deleteRoute'
  | 'readSysctl'
  | 'writeSysctl'
>;
