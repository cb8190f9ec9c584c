import { describe, expect, it } from 'vitest';
import { parser } from './cli.ts';

class Parsed extends Error {
  readonly argv: Record<string, unknown>;
  constructor(argv: Record<string, unknown>) {
    super('parsed');
    this.argv = argv;
  }
}

/** What the parser hands a command for `args`, stopped before the command runs. */
async function parsed(args: readonly string[]): Promise<Record<string, unknown>> {
  const y = (await parser(args)).exitProcess(false).middleware((argv) => {
    throw new Parsed(argv);
  }, false);
  try {
    await y.parseAsync();
  } catch (e) {
    if (e instanceof Parsed) return e.argv;
    throw e;
  }
  throw new Error('the parser reached no command');
}

describe('the CLI parser', () => {
  it('keeps a network named or ID-prefixed like a number as it was typed (a fresh-clone run met "5253e7")', async () => {
    expect((await parsed(['network', 'inspect', '5253e7', '123456'])).networks).toEqual(['5253e7', '123456']);
    expect((await parsed(['network', 'rm', '0x10'])).networks).toEqual(['0x10']);
    expect((await parsed(['network', 'disconnect', '1e3', '42'])).name).toBe('42');
    expect((await parsed(['network', 'create', '--subnet', '10.10.10.0/24', '2024'])).name).toBe('2024');
  });
});
