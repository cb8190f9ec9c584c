/**
 * The seed scenario's connectivity checks, run from inside the lab's containers with ordinary tools (ping,
 * getent through the container's resolv.conf, busybox nc), printed as a table as they complete.
 */
import { ETCD_HOST } from '../sim/mod.ts';
import { lookup, pingFrom, tcpExchange, type Where } from './exec.ts';
import type { LabContainer, LabState } from './state.ts';

export interface CheckResult {
  readonly check: string;
  readonly expect: 'reach' | 'blocked';
  readonly ok: boolean;
}

export async function runChecks(s: LabState, out: (l: string) => void): Promise<CheckResult[]> {
  const c = (name: string): LabContainer => {
    const x = s.containers.find((k) => k.name === name);
    if (!x) throw new Error(`the lab has no ${name}`);
    return x;
  };
  const at = (x: LabContainer): Where => ({ netns: x.netns, resolvConf: x.resolvConf });
  const where = (x: LabContainer) => `${x.name}@h${x.host}`;
  const [c1, c2, c3, c4, c5, c6] = ['container1', 'container2', 'container3', 'container4', 'container5', 'container6'].map(c) as [
    LabContainer,
    LabContainer,
    LabContainer,
    LabContainer,
    LabContainer,
    LabContainer,
  ];
  const c6name = c6.endpoint ?? c6.name;
  // Missing, the check fails (a check that throws is FAILED): a 'blocked' check must not pass for want of a target.
  const v6 = (x: LabContainer, net: string): string => {
    const a = x.addresses6?.[net];
    if (!a) throw new Error(`${x.name} has no IPv6 address on ${net}`);
    return a;
  };

  const checks: Array<[string, 'reach' | 'blocked', () => boolean | Promise<boolean>]> = [
    [`${where(c1)} -> ${where(c2)} by IP (RED, ping)`, 'reach', () => pingFrom(at(c1), c2.addresses.RED!)],
    [`${where(c1)} -> container2 by name (ping)`, 'reach', () => pingFrom(at(c1), 'container2')],
    [`${where(c1)} -> container2.RED (ping)`, 'reach', () => pingFrom(at(c1), 'container2.RED')],
    [`${where(c1)} -> container2 by name (TCP)`, 'reach', () => tcpExchange(at(c2), at(c1), 'container2')],
    [`${where(c2)} -> container1.RED (TCP, ${c2.via})`, 'reach', () => tcpExchange(at(c1), at(c2), 'container1.RED', 7071)],
    [`${where(c3)} -> container1 (RED side)`, 'reach', () => pingFrom(at(c3), 'container1')],
    [`${where(c3)} -> container4 (BLUE side)`, 'reach', () => pingFrom(at(c3), 'container4')],
    [`${where(c1)} -> ${where(c4)} by IP (RED to BLUE)`, 'blocked', () => !pingFrom(at(c1), c4.addresses.BLUE!, 1)],
    [`${where(c4)} -> ${where(c1)} by IP (BLUE to RED)`, 'blocked', () => !pingFrom(at(c4), c1.addresses.RED!, 1)],
    [`${where(c1)} resolves container4 (not on its networks)`, 'blocked', () => lookup(at(c1), 'container4') === undefined],
    [`${where(c1)} -> outside the overlay (etcd host, masqueraded)`, 'reach', () => pingFrom(at(c1), `192.0.2.${ETCD_HOST}`)],
    [`${where(c3)} -> ${where(c4)} by IPv6 (BLUE, dual-stack)`, 'reach', () => pingFrom(at(c3), v6(c4, 'BLUE'))],
    [`${where(c3)} resolves container4 to its IPv6 address (AAAA)`, 'reach', () => lookup(at(c3), 'container4', 6) === v6(c4, 'BLUE')],
    [`${where(c5)} -> ${where(c4)} by IPv6 (GREEN to BLUE)`, 'blocked', () => !pingFrom(at(c5), v6(c4, 'BLUE'), 1)],
    [
      `${where(c6)} -> container1 by name (RED, ${c6.via === 'containerd (CRI)' ? 'a CRI pod' : c6.via})`,
      'reach',
      () => pingFrom(at(c6), 'container1'),
    ],
    [`${where(c2)} -> ${c6name} by name (TCP)`, 'reach', () => tcpExchange(at(c6), at(c2), c6name, 7072)],
  ];
  const results: CheckResult[] = [];
  const width = Math.max(...checks.map(([name]) => name.length));
  out(`  ${'check'.padEnd(width)}  expect   result`);
  for (const [check, expect, run] of checks) {
    let ok: boolean;
    try {
      ok = await run();
    } catch {
      ok = false;
    }
    results.push({ check, expect, ok });
    out(`  ${check.padEnd(width)}  ${expect.padEnd(7)}  ${ok ? 'ok' : 'FAILED'}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  out(failed === 0 ? `\nall ${results.length} checks passed` : `\n${failed} of ${results.length} checks FAILED`);
  return results;
}
