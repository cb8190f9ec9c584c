/**
 * Running under systemd (issue 13): with Type=notify the daemon sends READY=1 to $NOTIFY_SOCKET once it
 * serves, and with --log-format=json every log line is one JSON object a log shipper can read.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { defer } from '../helpers/netns.ts';
import { NotifySocket } from '../helpers/notify-socket.ts';

describe('under systemd', () => {
  it('tells systemd READY=1 once serving, and logs JSON lines with --log-format=json', async () => {
    const c = await testCluster('sd');
    const sock = new NotifySocket(join(c.opts.dir, 'notify.sock'));
    defer(() => sock.close());
    const d = await c.addHost(1, ['--log-format=json'], { env: { NOTIFY_SOCKET: sock.path } });
    d.start();
    await d.ready();
    const got: string[] = [];
    await eventually('READY=1 on the notify socket', () => {
      got.push(...sock.read());
      return got.some((m) => m.split('\n').includes('READY=1'));
    });
    expect(got.join('\n')).toMatch(/^STATUS=serving default 10\.244\.\d+\.0\/24$/m);
    const lines = d.log().trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    const entries = lines.map((l) => JSON.parse(l) as { time: string; level: string; msg: string; network?: string; subnet?: string });
    expect(entries.find((e) => e.msg === 'ready')).toMatchObject({
      level: 'info',
      network: '_default',
      subnet: expect.stringMatching(/^10\.244\./),
    });
    expect(entries.some((e) => e.msg === 'told systemd: ready')).toBe(true);
    for (const e of entries) expect(Date.parse(e.time)).not.toBeNaN();
  });
});
