/**
 * Subnet leases as weft sees them: an etcd key under `<prefix>/subnets/`, its decoded value, and the etcd
 * lease it is attached to ("0" for a reservation, a key without an etcd lease, which never expires).
 * Decoding never throws: a key or value that does not decode is returned as skipped with the reason, for
 * the caller to log (a bad entry written by anyone must not stop the daemon).
 */
import { decodeLeaseAttrs, type LeaseAttrs } from '../../flannel-compat/lease-attrs.ts';
import { parseSubnetKey } from '../../flannel-compat/subnet-key.ts';
import type { Family } from '../netaddr/family.ts';

export interface RawKv {
  readonly key: string;
  readonly value: string;
  /** etcd lease ID as decimal text; "0" when none. */
  readonly leaseId: string;
  readonly modRevision: string;
  /** The revision that created the key ("0" when unknown): who was first, when two keys claim one subnet. */
  readonly createRevision?: string;
}

export interface SubnetLease {
  readonly key: string;
  readonly subnet: string;
  readonly ipv6Subnet: string | undefined;
  readonly attrs: LeaseAttrs;
  readonly leaseId: string;
  readonly modRevision: string;
  readonly createRevision?: string | undefined;
}

export const isReservation = (l: Pick<SubnetLease, 'leaseId'>): boolean => l.leaseId === '0';

/**
 * The IPv4 half of an IPv6-only network's keys: flannel's empty IPv4 subnet (its MakeSubnetKey writes
 * `0.0.0.0-0&fd00:70::-80` when IPv4 is off).
 */
export const NO_IPV4_SUBNET = '0.0.0.0/0';

/**
 * A lease as an IPv6-only network's keeper and planner see it: its IPv6 half as `subnet`, the family they
 * choose and route (undefined for a key without one). A dual-stack or IPv4 network's lease is itself.
 */
export function leaseOfFamily(l: SubnetLease, family: Family): SubnetLease | undefined {
  if (family === 4) return l;
  return l.ipv6Subnet === undefined ? undefined : { ...l, subnet: l.ipv6Subnet, ipv6Subnet: undefined };
}

export type Decoded =
  | { readonly ok: true; readonly lease: SubnetLease }
  | { readonly ok: false; readonly key: string; readonly reason: string };

/** The subnet of a key under `subnetsPrefix` (which ends without a slash), or undefined. */
export function subnetOfKey(subnetsPrefix: string, key: string): ReturnType<typeof parseSubnetKey> {
  return key.startsWith(`${subnetsPrefix}/`) ? parseSubnetKey(key.slice(subnetsPrefix.length + 1)) : undefined;
}

export function decodeLease(subnetsPrefix: string, kv: RawKv): Decoded {
  const sk = subnetOfKey(subnetsPrefix, kv.key);
  if (!sk) return { ok: false, key: kv.key, reason: 'not a subnet key' };
  const attrs = decodeLeaseAttrs(kv.value);
  if (!attrs.ok) return { ok: false, key: kv.key, reason: attrs.reason };
  return {
    ok: true,
    lease: {
      key: kv.key,
      subnet: sk.ipv4,
      ipv6Subnet: sk.ipv6,
      attrs: attrs.value,
      leaseId: kv.leaseId,
      modRevision: kv.modRevision,
      createRevision: kv.createRevision,
    },
  };
}
