import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lease/testing/fake-clock.ts';
import { createLogger } from '../log/logger.ts';
import { ReadyNotifier } from './ready-notifier.ts';

function setup(o: { notify?: (state: string) => boolean } = {}) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const sent: string[] = [];
  let ready = false;
  let asked = 0;
  const notifier = new ReadyNotifier({
    ready: () => {
      asked++;
      return ready;
    },
    status: () => 'serving default 10.5.1.0/24',
    notify:
      o.notify ??
      ((state) => {
        sent.push(state);
        return true;
      }),
    log: createLogger({ write: (l) => lines.push(l) }),
    clock,
  });
  return { clock, lines, sent, notifier, asked: () => asked, becomeReady: () => (ready = true) };
}

describe('ReadyNotifier', () => {
  it('tells systemd READY=1 with the status line once the daemon serves, once, and then stops asking', async () => {
    const { clock, lines, sent, notifier, asked, becomeReady } = setup();
    notifier.start();
    await clock.advance(3000);
    expect(sent).toEqual([]);
    expect(asked()).toBe(3);
    becomeReady();
    await clock.advance(1000);
    expect(sent).toEqual(['READY=1\nSTATUS=serving default 10.5.1.0/24']);
    expect(lines.filter((l) => l.includes('told systemd: ready'))).toHaveLength(1);
    await clock.advance(10_000);
    expect(sent).toHaveLength(1);
    expect(asked()).toBe(4);
  });

  it('says nothing when systemd did not ask (no NOTIFY_SOCKET)', async () => {
    const { clock, lines, notifier, becomeReady } = setup({ notify: () => false });
    becomeReady();
    notifier.start();
    await clock.advance(1000);
    expect(lines).toEqual([]);
  });

  it('warns once when systemd cannot be told, without trying again', async () => {
    let tries = 0;
    const { clock, lines, notifier, becomeReady } = setup({
      notify: () => {
        tries++;
        throw new Error('sendto: ECONNREFUSED');
      },
    });
    becomeReady();
    notifier.start();
    await clock.advance(5000);
    expect(tries).toBe(1);
    expect(lines.filter((l) => l.includes('cannot tell systemd the daemon is ready: sendto: ECONNREFUSED'))).toHaveLength(1);
  });

  it('asks nothing more once stopped', async () => {
    const { clock, notifier, asked } = setup();
    notifier.start();
    await clock.advance(2000);
    notifier.stop();
    await clock.advance(5000);
    expect(asked()).toBe(2);
  });
});
