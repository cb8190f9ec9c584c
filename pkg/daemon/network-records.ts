/**
 * The named networks' records as this host sees them: every meta and endpoint record as etcd has it (kept by
 * the watch), and the ones that pass the rules the API writes by (pkg/networks record.ts, issue 25: etcd is
 * untrusted input). Only what passed reaches an agent, the firewall, DNS or a file path. No I/O but the log,
 * so the judging is unit-tested on records alone.
 */
import type { DirectoryEntry } from '../dns/mod.ts';
import type { Change, RawKv } from '../lease/mod.ts';
import {
  acceptEndpoint,
  acceptNetworks,
  classifyKey,
  printable,
  type DefaultNetwork,
  type Endpoint,
  type NetworkMeta,
} from '../networks/mod.ts';
import type { Result } from '../netaddr/result.ts';

export class NetworkRecords {
  readonly #root: string;
  readonly #warn: (msg: string) => void;
  /** The records as etcd has them: metas by ID, endpoints by ID and name. */
  readonly #metaRecords = new Map<string, RawKv>();
  readonly #endpointRecords = new Map<string, Map<string, RawKv>>();
  /** The records that passed (judge). */
  readonly #metas = new Map<string, NetworkMeta>();
  readonly #endpoints = new Map<string, Map<string, Endpoint>>();
  /** Each endpoint record's judgment, kept while neither it nor its network's meta changes. */
  #judgedEndpoints = new Map<string, { readonly at: string; readonly result: Result<Endpoint> }>();
  /** Refused records and what was logged of each, so a refusal is said once (again only if it changes). */
  readonly #refused = new Map<string, string>();

  constructor(root: string, warn: (msg: string) => void) {
    this.#root = root;
    this.#warn = warn;
  }

  /** The accepted networks, by ID. */
  get metas(): ReadonlyMap<string, NetworkMeta> {
    return this.#metas;
  }

  endpointsOf(id: string): Endpoint[] {
    return [...(this.#endpoints.get(id)?.values() ?? [])];
  }

  /** Replaces every record with a snapshot's (after a list); judge() decides what passes. */
  reset(kvs: readonly RawKv[]): void {
    this.#metaRecords.clear();
    this.#endpointRecords.clear();
    for (const kv of kvs) this.#apply(kv);
  }

  /** Applies a watch's changes; judge() decides what passes. */
  change(changes: readonly Change[]): void {
    for (const c of changes) this.#apply(c.type === 'put' ? c.kv : { key: c.key, deleted: true });
  }

  /** Keeps a record as etcd has it; what passes is decided by judge, over every record at once. */
  #apply(kv: RawKv | { key: string; deleted: true }): void {
    const k = classifyKey(this.#root, kv.key);
    const deleted = 'deleted' in kv;
    if (k.kind === 'meta') {
      if (deleted) this.#metaRecords.delete(k.id);
      else this.#metaRecords.set(k.id, kv);
    } else if (k.kind === 'endpoint') {
      const eps = this.#endpointRecords.get(k.id) ?? new Map<string, RawKv>();
      this.#endpointRecords.set(k.id, eps);
      if (deleted) eps.delete(k.name);
      else eps.set(k.name, kv);
    }
  }

  /**
   * Judges every record as the API judges what it writes: the networks in the order they were created, each
   * against those before it and the default network; then each accepted network's endpoints. A refused record
   * is logged once with its key and why.
   */
  judge(dflt: DefaultNetwork | undefined): void {
    const { accepted, refused } = acceptNetworks(this.#root, [...this.#metaRecords.values()], dflt);
    const said = new Map(refused.map((r) => [r.key, `refusing the network record ${r.key}: ${r.reason}`]));
    this.#metas.clear();
    for (const m of accepted) this.#metas.set(m.Id, m);
    this.#endpoints.clear();
    const judged = new Map<string, { readonly at: string; readonly result: Result<Endpoint> }>();
    for (const [id, records] of this.#endpointRecords) {
      const meta = this.#metas.get(id);
      // Endpoints of a network not (or no longer) accepted are not served; the network's refusal says why.
      if (!meta) continue;
      const eps = new Map<string, Endpoint>();
      for (const [name, kv] of records) {
        const at = `${kv.modRevision}/${this.#metaRecords.get(id)?.modRevision}`;
        const before = this.#judgedEndpoints.get(kv.key);
        const j = before?.at === at ? before : { at, result: acceptEndpoint(this.#root, kv, meta) };
        judged.set(kv.key, j);
        if (j.result.ok) eps.set(name, j.result.value);
        else said.set(kv.key, `refusing the endpoint record ${printable(kv.key)}: ${j.result.reason}`);
      }
      this.#endpoints.set(id, eps);
    }
    this.#judgedEndpoints = judged;
    for (const [key, msg] of said) if (this.#refused.get(key) !== msg) this.#warn(msg);
    for (const key of [...this.#refused.keys()]) if (!said.has(key)) this.#refused.delete(key);
    for (const [key, msg] of said) this.#refused.set(key, msg);
  }

  /** Every accepted endpoint of every accepted network, for the DNS servers. */
  directory(): DirectoryEntry[] {
    const out: DirectoryEntry[] = [];
    for (const [id, eps] of this.#endpoints) {
      const net = this.#metas.get(id)?.Name;
      if (!net) continue;
      for (const e of eps.values())
        out.push({
          network: net,
          name: e.Name,
          aliases: e.Aliases,
          containerID: e.ContainerID,
          address: e.IPv4Address.split('/')[0]!,
          ...(e.IPv6Address && { address6: e.IPv6Address.split('/')[0]! }),
        });
    }
    return out;
  }
}
