/**
 * The host rule (issue 27): which sysctls a host needs to route its containers' traffic for a set of address
 * families, planned as data, pure. Without forwarding of a family no container traffic of it leaves the host.
 * Turning IPv6 forwarding on makes the kernel ignore router advertisements on interfaces with accept_ra 1,
 * and an underlay configured by them would lose its default route at the next expiry; 2 keeps accepting them.
 * So where IPv6 forwarding is on, the underlay's accept_ra 1 becomes 2, before the forwarding is turned on and
 * whoever turned it on (the CNI plugin, which does not know the underlay, leaves that to the daemon's next
 * pass). accept_ra 0 is an administrator's choice (no router advertisements) and is left alone; so is 2.
 *
 * Every place that turns forwarding on (the daemon's agents, the CNI plugin, the simulated hosts) plans with
 * `hostSysctls` and applies with keep.ts; `weft doctor` checks the same plan.
 */
import type { Family } from '../netaddr/family.ts';

export interface HostSysctl {
  /** The key in slash form (`net/ipv6/conf/eth0/accept_ra`), as pkg/kernel takes it: interface names may hold dots. */
  readonly key: string;
  readonly value: string;
  /** When set, the setting is changed only from these values: any other is the administrator's choice. */
  readonly from?: readonly string[];
  readonly family: Family;
  readonly kind: 'forwarding' | 'accept_ra';
  /** What goes wrong when the host does not hold it. */
  readonly why: string;
}

const FORWARDING: Readonly<Record<Family, string>> = { 4: 'net/ipv4/ip_forward', 6: 'net/ipv6/conf/all/forwarding' };

/**
 * The sysctls a host routing `families` needs, in the order to apply them; `underlays` are the interfaces
 * whose router advertisements must survive IPv6 forwarding (unknown to the CNI plugin: then none is planned).
 */
export function hostSysctls(o: { readonly families: Iterable<Family>; readonly underlays?: readonly string[] }): HostSysctl[] {
  const families = new Set(o.families);
  const out: HostSysctl[] = [];
  if (families.has(4)) out.push(forwarding(4, 'no container traffic leaves this host'));
  if (families.has(6)) {
    for (const underlay of new Set(o.underlays))
      out.push({
        key: `net/ipv6/conf/${underlay}/accept_ra`,
        value: '2',
        from: ['1'],
        family: 6,
        kind: 'accept_ra',
        why: `with IPv6 forwarding on, ${underlay} ignores router advertisements and can lose the routes they gave it`,
      });
    out.push(forwarding(6, "no container's IPv6 traffic leaves this host"));
  }
  return out;
}

const forwarding = (family: Family, why: string): HostSysctl => ({ key: FORWARDING[family], value: '1', family, kind: 'forwarding', why });

/** Whether a host whose value is `now` holds the setting (a value outside `from` is left as the administrator set it). */
export function holds(s: HostSysctl, now: string): boolean {
  return now === s.value || (s.from !== undefined && !s.from.includes(now));
}

/** The name `sysctl` shows: `net.ipv4.ip_forward`. */
export const sysctlName = (key: string): string => key.replace(/\//g, '.');
