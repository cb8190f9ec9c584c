/**
 * The containers' root filesystem in the lab and the tests: the machine's static busybox and links for the
 * applets the checks use, no image and no registry. podman runs it as `--rootfs`; Docker imports it as a tar.
 */
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const APPLETS = ['sh', 'ip', 'ping', 'sleep', 'cat', 'nc', 'hostname', 'wget', 'nslookup', 'route'];

/** Makes `root` (once; a later call finds it made). */
export function busyboxRootfs(root: string): void {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  if (existsSync(join(root, 'bin/busybox'))) return;
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
}
