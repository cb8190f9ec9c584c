/**
 * Faults of a host (issue 11): its daemon SIGKILLed again and again while containers come and go, and a
 * reboot (every kernel object and container gone, /run empty, a new boot ID). No address is leaked or
 * handed out twice, the host keeps its subnets and VTEP MACs, and the endpoint records follow what is
 * really attached.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withBinds } from '../../pkg/sim/mod.ts';
import { eventually } from '../helpers/daemon.ts';
import { chaosCluster, converged, dataPathWorks, inventory, settles, type Chaos, type Pod, attach } from './harness.ts';

/** `weft network connect` or `disconnect` on host n, in the background (so the daemon can die under it). */
function weftAsync(x: Chaos, n: number, args: readonly string[]): Promise<{ ok: boolean; stderr: string }> {
  const d = x.c.daemon(n);
  return new Promise((resolve) => {
    const p = spawn('nsenter', [`--net=${d.host.path}`, ...withBinds(d.binds), x.c.opts.bin, ...args], {
      env: { PATH: process.env.PATH, WEFT_SOCKET: d.socket, CNI_PATH: '/usr/lib/cni' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (b) => (stderr += String(b)));
    p.on('exit', (code) => resolve({ ok: code === 0, stderr }));
  });
}

/** Host n's RED allocations and this boot's attachment records, which must match one to one. */
function allocations(x: Chaos, n: number): { addresses: string[]; attached: string[] } {
  const dir = join(x.c.daemon(n).cniDataDir, 'RED');
  const ips = join(dir, 'ips');
  const addresses = existsSync(ips)
    ? readdirSync(ips)
        .filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
        .sort()
    : [];
  const recs = join(dir, 'attachments');
  const attached = existsSync(recs)
    ? readdirSync(recs)
        .filter((f) => f.endsWith('.json'))
        .flatMap((f) => {
          const r = JSON.parse(readFileSync(join(recs, f), 'utf8')) as { state: string; ips: string[] };
          return r.state === 'added' ? r.ips.map((i) => i.split('/')[0]!) : [];
        })
        .sort()
    : [];
  return { addresses, attached };
}

describe('host faults', () => {
  it('the daemon SIGKILLed during container churn: no address leaked or doubled, records match what is attached', async () => {
    const x = await chaosCluster('cd');
    const before = await inventory(x);
    const ns = await Promise.all([0, 1, 2, 3].map((i) => x.c.sim.namespace(`h1-churn${i}`)));
    for (let round = 0; round < 6; round++) {
      const ops = ns.map((n, i) =>
        weftAsync(
          x,
          1,
          (round + i) % 2 === 0
            ? ['network', 'connect', 'RED', '--netns', n.path, '--name', `churn${i}`]
            : ['network', 'disconnect', 'RED', `churn${i}`],
        ),
      );
      await new Promise((r) => setTimeout(r, 100 + 150 * (round % 3)));
      x.c.daemon(1).kill();
      await Promise.all(ops);
      x.c.daemon(1).start();
      await x.c.daemon(1).ready();
    }
    // Whatever each operation's fate, the host's state is consistent: every allocation belongs to an attachment.
    const a = allocations(x, 1);
    expect(a.addresses).toEqual(a.attached);
    // Clean up what churn left attached, then everything is as before.
    for (let i = 0; i < 4; i++) await weftAsync(x, 1, ['network', 'disconnect', 'RED', `churn${i}`]);
    expect(allocations(x, 1).addresses).toEqual(before.addresses['h1/RED']);
    dataPathWorks(x);
    await settles(x, before, 'daemon SIGKILLed during churn');
  }, 180_000);

  it("a reboot: same subnets and VTEP MACs, the last boot's containers released, new ones attach and talk", async () => {
    const x = await chaosCluster('cb');
    const before = await inventory(x);
    const d = await x.c.reboot(2, '7b3e2c4a-0000-4000-8000-00000000beef');
    d.start();
    await d.ready();
    const after = await inventory(x);
    expect(after.hosts).toEqual(before.hosts);
    expect(after.leases).toEqual(before.leases);
    // The container of the last boot is gone: its address and its name on RED are released.
    await converged(
      "reboot: the last boot's attachment released",
      async () => (await inventory(x)).addresses['h2/RED']!.length === 0 && !('RED/red2' in (await inventory(x)).endpoints),
    );
    const again: Pod = await attach(x.c, 2, 'RED', 'red2');
    dataPathWorks(x, [x.pods.find((p) => p.name === 'red1')!, again]);
    expect(d.log()).toMatch(/released 1 attachment\(s\) of containers from before the last reboot/);
    await eventually('the new red2 recorded', async () => (await inventory(x)).endpoints['RED/red2']?.startsWith('h2 '));
  });
});
