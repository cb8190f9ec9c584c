/**
 * Forwarding on the host (IPv4, and IPv6 for networks that carry it): without it no container traffic
 * leaves the host. Turning IPv6 forwarding on makes the kernel ignore router advertisements on interfaces
 * with accept_ra 1, and an underlay configured by them would lose its default route; 2 keeps accepting them.
 */
import { messageOf } from '../errors/mod.ts';
import type { KernelOps } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';

const FORWARDING: Readonly<Record<4 | 6, string>> = { 4: 'net/ipv4/ip_forward', 6: 'net/ipv6/conf/all/forwarding' };

/**
 * Turns forwarding of `family` on; the sysctl's name (`net.ipv4.ip_forward`) when it was off (a caller past its
 * start calls that a repair), undefined when it was on or cannot be set (logged).
 */
export function keepForwarding(
  nl: Pick<KernelOps, 'readSysctl' | 'writeSysctl'>,
  log: Logger,
  family: 4 | 6,
  underlay: string,
): string | undefined {
  const key = FORWARDING[family];
  const name = key.replace(/\//g, '.');
  try {
    if (nl.readSysctl(key) === '1') return undefined;
    if (family === 6) keepRouterAdvertisements(nl, log, underlay);
    nl.writeSysctl(key, '1');
    return name;
  } catch (e) {
    log.warn(`cannot keep ${name} on: ${messageOf(e)}`);
    return undefined;
  }
}

function keepRouterAdvertisements(nl: Pick<KernelOps, 'readSysctl' | 'writeSysctl'>, log: Logger, underlay: string): void {
  const key = `net/ipv6/conf/${underlay}/accept_ra`;
  try {
    if (nl.readSysctl(key) !== '1') return;
    nl.writeSysctl(key, '2');
    log.info(`set net.ipv6.conf.${underlay}.accept_ra to 2 before turning IPv6 forwarding on, to keep its router advertisements`);
  } catch (e) {
    log.warn(`cannot keep router advertisements on ${underlay}: ${messageOf(e)}`);
  }
}
