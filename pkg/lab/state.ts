/**
 * What a lab is made of, written to `<dir>/lab.json` by `up` so that `bench`, `status` and `down` (separate
 * processes) find it. `down` does not need it to be complete: it also removes by name prefix and by the lab
 * directory appearing in a process's command line, so a crashed or half-finished `up` is cleaned too.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WeftError } from '../errors/mod.ts';
import { writeFileAtomic } from '../files/mod.ts';
import type { EtcdAccess } from '../sim/mod.ts';

export const LAB_ETCD_PREFIX = '/coreos.com/network';

export interface LabContainer {
  readonly name: string;
  readonly host: number;
  /** Its network namespace (a named one, or /proc/<pid>/ns/net of a podman container). */
  readonly netns: string;
  /** network name -> address */
  readonly addresses: Record<string, string>;
  /** network name -> IPv6 address, on dual-stack networks */
  readonly addresses6?: Record<string, string>;
  readonly via: 'podman' | 'weft network connect' | 'docker run' | 'containerd (CRI)';
  /** Its name on its networks when not `name` (a CRI pod's is `<pod>.<namespace>`). */
  readonly endpoint?: string;
  /** A resolv.conf from its ADD result, bind-mounted when a check runs in it by name. */
  readonly resolvConf: string;
}

export interface LabState {
  readonly dir: string;
  readonly created: string;
  readonly bin: string;
  readonly hosts: ReadonlyArray<{ n: number; name: string; ip: string; dir: string; socket: string }>;
  /** How daemons reach etcd (with TLS: its CA and their client certificate), and the local socket. */
  readonly etcd: EtcdAccess & { socketEndpoint: string };
  readonly networks: ReadonlyArray<{ name: string; subnet: string; subnet6?: string }>;
  readonly containers: LabContainer[];
  /** Namespaces podman made for its containers (netns-<uuid>), to remove if podman cannot. */
  readonly podmanNetns: string[];
  /** The dockerd of host 1 (`unix://...`), when the lab runs Docker. */
  readonly docker?: string;
  /** The containerd whose CRI ran container6: its host, socket and the pod's sandbox ID. */
  readonly containerd?: { readonly host: number; readonly socket: string; readonly sandbox: string };
}

export function labDir(dir: string | undefined): string {
  return resolve(dir ?? process.env.WEFT_LAB_DIR ?? 'lab');
}

export function readState(dir: string): LabState {
  try {
    return JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabState;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeftError(
      'WEFT_NOT_FOUND',
      code === 'ENOENT'
        ? `no lab in ${dir}; start one with weft lab up --dir ${dir}`
        : `cannot read ${join(dir, 'lab.json')}: ${code ?? (e as Error).message}`,
    );
  }
}

export function writeState(s: LabState): void {
  writeFileAtomic(join(s.dir, 'lab.json'), `${JSON.stringify(s, null, 2)}\n`);
}

export { selfExecutable } from '../install/self.ts';
