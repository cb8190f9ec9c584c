/**
 * Makes the host hold a plan of rule.ts through the one sysctl layer (pkg/kernel), in the plan's order: the
 * underlay's accept_ra before the IPv6 forwarding that would make the kernel ignore its router advertisements.
 * One setting that cannot be read or written does not stop the rest; the caller decides how to log each.
 */
import type { KernelOps } from '../kernel/mod.ts';
import { holds, type HostSysctl } from './rule.ts';

export type SysctlOps = Pick<KernelOps, 'readSysctl' | 'writeSysctl'>;

export interface KeepReport {
  /** What was changed, with the value it had. */
  readonly changed: ReadonlyArray<{ readonly setting: HostSysctl; readonly was: string }>;
  readonly failed: ReadonlyArray<{ readonly setting: HostSysctl; readonly error: unknown }>;
}

export function keepHostSysctls(k: SysctlOps, plan: readonly HostSysctl[]): KeepReport {
  const changed: Array<KeepReport['changed'][number]> = [];
  const failed: Array<KeepReport['failed'][number]> = [];
  for (const setting of plan) {
    try {
      const was = k.readSysctl(setting.key);
      if (holds(setting, was)) continue;
      k.writeSysctl(setting.key, setting.value);
      changed.push({ setting, was });
    } catch (error) {
      failed.push({ setting, error });
    }
  }
  return { changed, failed };
}
