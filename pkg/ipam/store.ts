/**
 * Address reservations on disk, one file per address named after it (the layout of host-local, whose
 * store this mirrors): the file is created with O_EXCL, so two concurrent ADDs can never take the same
 * address, and holds its owner, `<containerID>\r\n<ifname>`. `last_reserved_ip.<n>` remembers where the
 * round-robin stopped, per family.
 */
import { join } from 'node:path';
import { createExclusive, listDir, overwriteInPlace, readIfExists, removeIfExists } from '../files/mod.ts';
import type { Family } from '../netaddr/ip.ts';

export const ownerOf = (containerID: string, ifname: string): string => `${containerID}\r\n${ifname}`;

/**
 * The owner of addresses Docker got from weft's IPAM driver: Docker holds them from RequestAddress to
 * ReleaseAddress, not an attachment, so CNI GC leaves them alone.
 */
export const DOCKER_IPAM_OWNER = ownerOf('docker-ipam', 'docker');

const LAST = 'last_reserved_ip.';
const isAddressFile = (n: string) => !n.startsWith(LAST) && n !== 'lock';

export class AddressStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Claims `ip` for `owner`; false when someone holds it. */
  reserve(ip: string, owner: string): boolean {
    return createExclusive(join(this.dir, ip), owner, 0o600);
  }

  holder(ip: string): string | undefined {
    return readIfExists(join(this.dir, ip))?.trim();
  }

  /** Releases `ip` if `owner` holds it; true when a file was removed. */
  release(ip: string, owner: string): boolean {
    if (this.holder(ip) !== owner) return false;
    return removeIfExists(join(this.dir, ip));
  }

  /** Every reservation: address -> owner. */
  reservations(): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of listDir(this.dir).filter(isAddressFile)) {
      const owner = this.holder(n);
      if (owner !== undefined) out.set(n, owner);
    }
    return out;
  }

  /** The addresses `owner` holds (a full scan: used when no record says which). */
  heldBy(owner: string): string[] {
    return [...this.reservations()].filter(([, o]) => o === owner).map(([ip]) => ip);
  }

  lastReserved(family: Family): string | undefined {
    return readIfExists(join(this.dir, `${LAST}${family === 4 ? 0 : 1}`))?.trim() || undefined;
  }

  /** Only a hint where to look next (a torn one starts the scan elsewhere), so written in place, not replaced. */
  setLastReserved(family: Family, ip: string): void {
    overwriteInPlace(join(this.dir, `${LAST}${family === 4 ? 0 : 1}`), ip, 0o600);
  }
}
