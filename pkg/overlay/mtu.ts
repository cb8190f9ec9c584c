/**
 * What VXLAN adds to every packet on the underlay, by the underlay's family: the outer IP header (20 bytes for
 * IPv4, 40 for IPv6), UDP (8), VXLAN (8) and the inner Ethernet header (14). A VTEP's MTU is the underlay's
 * minus that, so an encapsulated full-size packet still fits the underlay: 1450 on a 1500 IPv4 underlay, as
 * flannel does, and 1430 on an IPv6 one: the most the kernel allows there (flannel asks 50 less for its pods and
 * device alike; the kernel keeps the device at 70 less, so its pods' full-size packets are dropped, flannel#1781).
 */
import type { Family } from '../netaddr/family.ts';
export const VXLAN_OVERHEAD: Readonly<Record<Family, number>> = { 4: 50, 6: 70 };

export function vtepMtu(underlayMtu: number, underlayFamily: Family): number {
  return underlayMtu - VXLAN_OVERHEAD[underlayFamily];
}
