/**
 * The CNI plugin applies its `ipMasq` chain once per boot and leaves a marker holding the boot ID and the
 * script it applied, in the network's state directory. An ordinary ADD reads the marker instead of running
 * nft; the daemon reads every marker to keep those chains in place after a firewall reload.
 */
import { join } from 'node:path';
import { listDir, readIfExists, writeFileAtomic } from '../files/mod.ts';

const MARKER = 'masq.applied';

/** Whether `script` was applied in this boot for the network whose state is in `dir`. */
export function masqueradeMarked(dir: string, bootId: string, script: string): boolean {
  return readIfExists(join(dir, MARKER)) === `${bootId}\n${script}`;
}

export function markMasquerade(dir: string, bootId: string, script: string): void {
  writeFileAtomic(join(dir, MARKER), `${bootId}\n${script}`, 0o600);
}

/** The scripts applied in this boot, per network key, under a data directory. */
export function appliedMasquerades(dataDir: string, bootId: string): Array<{ readonly key: string; readonly script: string }> {
  return listDir(dataDir).flatMap((key) => {
    const text = readMarker(join(dataDir, key, MARKER));
    return text?.startsWith(`${bootId}\n`) ? [{ key, script: text.slice(bootId.length + 1) }] : [];
  });
}

/** A marker's text; undefined also under a plain file where a network's directory belongs (not weft's to judge). */
function readMarker(path: string): string | undefined {
  try {
    return readIfExists(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}
