/**
 * The daemon programs links, routes, neighbours and the firewall: all need CAP_NET_ADMIN. Without it, it
 * would lease a subnet in etcd and then fail on its first netlink request with a bare EPERM (issue 11), so it
 * checks its effective capabilities first and says what to do.
 */
import { readFileSync } from 'node:fs';
import { WeftError } from '../errors/mod.ts';

const CAP_NET_ADMIN = 12;

/** Whether a /proc/<pid>/status text grants CAP_NET_ADMIN in the effective set. Pure. */
export function hasNetAdmin(status: string): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n;
}

export function requireNetAdmin(status = readFileSync('/proc/self/status', 'utf8')): void {
  if (hasNetAdmin(status)) return;
  throw new WeftError(
    'WEFT_KERNEL',
    'weft daemon needs CAP_NET_ADMIN to program its devices, routes and firewall: run it as root, or grant the capability ' +
      '(systemd: AmbientCapabilities=CAP_NET_ADMIN; Kubernetes: securityContext.capabilities.add: [NET_ADMIN])',
  );
}
