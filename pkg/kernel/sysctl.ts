/**
 * The few /proc/sys/net settings weft needs (forwarding, per-interface accept_ra, arp_notify...). Keys use
 * the slash form (`net/ipv4/conf/flannel.1/forwarding`) because interface names may contain dots. Files under
 * /proc/sys/net belong to the namespace of the thread that opens them, so inside another namespace the read or
 * write happens synchronously within `withNetns`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { WeftError } from '../errors/mod.ts';
import { KernelError } from './errors.ts';
import { withNetns, type Netns } from './netns.ts';

function pathOf(key: string): string {
  if (!key.startsWith('net/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new WeftError('WEFT_INVALID_ARGUMENT', `sysctl key "${key}" must be a path under net/, e.g. net/ipv4/ip_forward`);
  }
  return `/proc/sys/${key}`;
}

function inNs<T>(netns: Netns | undefined, fn: () => T): T {
  return netns ? withNetns(netns, fn) : fn();
}

function wrap(op: string, key: string, e: unknown): never {
  const errno = (e as NodeJS.ErrnoException).errno;
  if (typeof errno === 'number') throw new KernelError(op, `sysctl ${key}`, -errno, e);
  throw e;
}

export function readSysctl(key: string, opts: { netns?: Netns } = {}): string {
  const path = pathOf(key);
  return inNs(opts.netns, () => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (e) {
      return wrap('read', key, e);
    }
  });
}

export function writeSysctl(key: string, value: string, opts: { netns?: Netns } = {}): void {
  const path = pathOf(key);
  inNs(opts.netns, () => {
    try {
      writeFileSync(path, value);
    } catch (e) {
      wrap('write', key, e);
    }
  });
}
