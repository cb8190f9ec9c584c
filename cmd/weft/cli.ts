/**
 * The weft command line: one line of error and a non-zero exit for any failure (`--debug` prints the cause
 * chain); each command lives in commands/<verb>.ts.
 */
import { causeChain, isWeftError, messageOf } from '../../pkg/errors/mod.ts';
import { VERSION } from '../../pkg/version.ts';

export async function runCli(argv: readonly string[]): Promise<void> {
  const debug = argv.includes('--debug');
  try {
    const { default: yargs } = await import('yargs');
    const { commands } = await import('./commands/mod.ts');
    let y = yargs([...argv])
      .scriptName('weft')
      .usage('weft: a VXLAN overlay network over etcd (CNI plugin, host daemon and CLI)\n\nUsage: weft <command> [options]')
      .option('debug', { type: 'boolean', describe: 'print the full cause of an error' })
      .version(VERSION)
      .strict()
      .demandCommand(1, 'name a command; see weft --help')
      .recommendCommands()
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      });
    for (const c of commands) y = y.command(c);
    await y.parseAsync();
  } catch (e) {
    process.stderr.write(`weft: ${debug ? causeChain(e) : messageOf(e)}\n`);
    process.exitCode = e instanceof UsageError ? 2 : isWeftError(e) ? 1 : 1;
  }
}

class UsageError extends Error {}
