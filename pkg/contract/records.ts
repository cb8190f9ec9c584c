/**
 * One record per attachment, written before the plugin changes anything (write-ahead), so DEL, GC and a
 * rollback know what to undo without the container's namespace, a prevResult, or the config of the day.
 * A record starts as `adding` and becomes `added` with the result once the attachment is complete; a DEL of a
 * named attachment marks it `removing` before it removes the name (so the daemon does not restore it). File:
 * `<dir>/<containerID>@<ifname, URI-encoded>.json`; `@` cannot occur in a container ID, so the name decodes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createExclusive, listDir, readIfExists, removeIfExists, writeFileAtomic } from '../files/mod.ts';
import type { CniResult } from '../cni/types.ts';

export interface AttachmentRecord {
  readonly v: 1;
  readonly cniNetwork: string;
  readonly network: string;
  readonly containerID: string;
  readonly ifname: string;
  readonly netns: string;
  readonly hostVeth: string;
  readonly bridge: string;
  /** The kernel boot the attachment was made in: a record from an earlier boot describes nothing live. */
  readonly bootId: string;
  readonly state: 'adding' | 'added' | 'removing';
  /** Addresses with their pool's prefix length, e.g. 10.244.1.2/24. */
  readonly ips: readonly string[];
  /**
   * The container end's MAC, saved once the veth exists and before the container's end comes up: the port
   * guard (pkg/firewall/guard.ts) lets the port send with it alone.
   */
  readonly mac?: string;
  /** On a named network: the name (and aliases) this attachment is registered under in etcd, and its MAC. */
  readonly endpoint?: { readonly name: string; readonly aliases: readonly string[]; readonly mac: string };
  readonly result?: CniResult;
  /** A Docker endpoint's published ports, as the portmap plugin was given them (to remove them again). */
  readonly ports?: ReadonlyArray<{
    readonly hostPort: number;
    readonly containerPort: number;
    readonly protocol: 'tcp' | 'udp' | 'sctp';
    readonly hostIP?: string;
  }>;
  readonly created: string;
}

export interface RecordEntry {
  readonly containerID: string;
  readonly ifname: string;
  /** undefined when the file could not be read as a record (torn or foreign). */
  readonly record: AttachmentRecord | undefined;
}

const fileName = (containerID: string, ifname: string) => `${containerID}@${encodeURIComponent(ifname)}.json`;

function parse(text: string | undefined): AttachmentRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as AttachmentRecord;
    return r && r.v === 1 && typeof r.containerID === 'string' && Array.isArray(r.ips) ? r : undefined;
  } catch {
    return undefined;
  }
}

let bootIdCache: string | undefined;
export function currentBootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return bootIdCache;
}

export class Records {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Writes a new record; false when one exists for the same attachment. */
  create(r: AttachmentRecord): boolean {
    return createExclusive(join(this.dir, fileName(r.containerID, r.ifname)), JSON.stringify(r), 0o600);
  }

  save(r: AttachmentRecord): void {
    writeFileAtomic(join(this.dir, fileName(r.containerID, r.ifname)), JSON.stringify(r), 0o600);
  }

  /** The entry for an attachment, or undefined when there is no file. */
  read(containerID: string, ifname: string): RecordEntry | undefined {
    const text = readIfExists(join(this.dir, fileName(containerID, ifname)));
    return text === undefined ? undefined : { containerID, ifname, record: parse(text) };
  }

  list(): RecordEntry[] {
    const out: RecordEntry[] = [];
    for (const name of listDir(this.dir)) {
      const m = /^(.+)@(.*)\.json$/.exec(name);
      if (!m) continue;
      let ifname: string;
      try {
        ifname = decodeURIComponent(m[2]!);
      } catch {
        continue;
      }
      out.push({ containerID: m[1]!, ifname, record: parse(readIfExists(join(this.dir, name))) });
    }
    return out;
  }

  remove(containerID: string, ifname: string): void {
    removeIfExists(join(this.dir, fileName(containerID, ifname)));
  }
}
