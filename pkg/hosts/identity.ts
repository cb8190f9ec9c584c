/**
 * A host's identity (issue 24). A host is its public address, as in flannel, whose leases are keyed by
 * PublicIP: every "is this mine?" (a lease, an endpoint record) is decided by it, and the node name is a
 * label for people. Hosts left at one host name (cloned VMs) used to take each other's endpoint records for
 * their own; two hosts at one public address would do the same with everything, so the second is refused.
 *
 * Each running daemon keeps a record under `<root>/hosts/<publicIP>` on a short etcd lease:
 *
 *   {"HostID":"<random, from the state dir>","NodeName":"h1","PublicIP":"192.0.2.1","Started":"<ISO time>"}
 *
 * The HostID tells a restart of this host (same ID: it takes its record over) from another host claiming the
 * same address (another ID: refused). This module decides, from the records that exist, and decodes them;
 * pkg/store/hosts.ts reads and writes them, pkg/daemon/host-identity.ts keeps this host's alive. Pure.
 */
import { fail, ok, type Result } from '../netaddr/result.ts';

export interface HostRecord {
  readonly HostID: string;
  readonly NodeName: string;
  readonly PublicIP: string;
  /** When this host's daemon started (ISO 8601), for people reading etcd. */
  readonly Started: string;
}

/** `<root>/hosts/`, and a host's key under it. */
export const hostsPrefix = (root: string): string => `${root}/hosts/`;
export const hostKey = (root: string, publicIP: string): string => `${root}/hosts/${publicIP}`;

/** A host ID: 32 hex digits (128 random bits). */
export const HOST_ID = /^[0-9a-f]{32}$/;

/** How a host ID is shown in messages: enough to tell two apart, short enough to read. */
export const shortHostId = (id: string): string => `${id.slice(0, 8)}…`;

export const encodeHostRecord = (r: HostRecord): string =>
  JSON.stringify({ HostID: r.HostID, NodeName: r.NodeName, PublicIP: r.PublicIP, Started: r.Started });

/** A record as stored; values from etcd are untrusted, so a bad one is a reason, never an exception. */
export function decodeHostRecord(text: string): Result<HostRecord> {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return fail('host record is not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return fail('host record is not an object');
  const v = o as Record<string, unknown>;
  for (const k of ['HostID', 'NodeName', 'PublicIP'] as const)
    if (typeof v[k] !== 'string' || v[k] === '') return fail(`host record lacks ${k}`);
  return ok({
    HostID: v.HostID as string,
    NodeName: v.NodeName as string,
    PublicIP: v.PublicIP as string,
    Started: typeof v.Started === 'string' ? v.Started : '',
  });
}

/** What is in etcd when this host claims its address: the record at its key, and every other host's. */
export interface ExistingHosts {
  /** The record at this host's key; 'unreadable' when a value is there that is not a host record. */
  readonly atMyAddress: HostRecord | 'unreadable' | undefined;
  /** The other live records (keys of other addresses), decodable ones only. */
  readonly others: readonly HostRecord[];
}

export type IdentityDecision =
  /** Claim the key (create it, or take it over). */
  | { readonly kind: 'ok' }
  /** Claim it, and log each reason once: worth an operator's look, no reason to refuse. */
  | { readonly kind: 'warn'; readonly reasons: readonly string[] }
  /** Do not start: another live host is this address. */
  | { readonly kind: 'refuse'; readonly reason: string };

export function decideIdentity(me: HostRecord, existing: ExistingHosts): IdentityDecision {
  const at = existing.atMyAddress;
  // A record exists only while its daemon keeps its etcd lease alive, so another ID there is a live host.
  if (at !== undefined && at !== 'unreadable' && at.HostID !== me.HostID)
    return {
      kind: 'refuse',
      reason:
        `another host (node ${at.NodeName}, host ID ${shortHostId(at.HostID)}) already runs weft with public address ` +
        `${me.PublicIP}; give this host its own --public-ip or --iface`,
    };
  const reasons: string[] = [];
  if (at === 'unreadable') reasons.push(`the host record of ${me.PublicIP} in etcd was not a host record; replacing it`);
  for (const o of existing.others) {
    if (o.PublicIP === me.PublicIP) continue;
    // The usual case of a clone: its state directory was copied too, and with it the host ID.
    if (o.HostID === me.HostID)
      reasons.push(
        `host ${o.PublicIP} (node ${o.NodeName}) has this host's host ID ${shortHostId(me.HostID)}: a copied state directory? ` +
          'delete host-id in one of them and restart it',
      );
    // Ownership goes by address, so a shared name is harmless to weft; people reading logs and inspect may be misled.
    else if (o.NodeName === me.NodeName)
      reasons.push(
        `host ${o.PublicIP} (host ID ${shortHostId(o.HostID)}) is also named ${me.NodeName}; weft tells hosts apart by ` +
          'public address, but logs and inspect show both as one name (set --node-name)',
      );
  }
  return reasons.length > 0 ? { kind: 'warn', reasons } : { kind: 'ok' };
}
