/**
 * The weft command line: one line of error and a non-zero exit for any failure (`--debug` prints the cause
 * chain); each command lives in commands/<verb>.ts.
 */
import { causeChain, isWeftError, messageOf } from '../../pkg/errors/mod.ts';
import { VERSION } from '../../pkg/version.ts';
import { UsageError } from './usage.ts';

export async function runCli(argv: readonly string[]): Promise<void> {
  const debug = argv.includes('--debug');
  // Output piped into `head` and the like: a closed pipe ends the command quietly, as for any Unix tool.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    // The daemon takes flanneld's flags (single-dash forms, FLANNELD_* env), so it bypasses the CLI parser.
    if (argv[0] === 'daemon') return await daemon(argv.slice(1));
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
        // yargs wraps its own refusals and a coerce's in YError: those are usage errors too.
        throw err && err.name !== 'YError' ? err : new UsageError(msg ?? err?.message ?? 'invalid command line');
      });
    y = y.command('daemon', 'run the per-host controller (flanneld-compatible flags; weft daemon --help)');
    for (const c of commands) y = y.command(c);
    await y.parseAsync();
  } catch (e) {
    process.stderr.write(`weft: ${debug ? causeChain(e) : messageOf(e)}\n`);
    process.exitCode = e instanceof UsageError ? 2 : isWeftError(e) ? 1 : 1;
  }
}

async function daemon(args: readonly string[]): Promise<void> {
  const { parseDaemonFlags, DAEMON_USAGE } = await import('../../flannel-compat/daemon-flags.ts');
  const parsed = parseDaemonFlags(args, process.env);
  if ('help' in parsed) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return;
  }
  if ('version' in parsed) {
    // What flanneld --version prints: the version alone, for scripts.
    process.stdout.write(`v${VERSION}\n`);
    return;
  }
  if (!parsed.ok) throw new UsageError(parsed.reason);
  // A long-running process that idles: V8 then keeps its heap close to what is live instead of letting
  // garbage accumulate between collections (V8 reads this flag when it sizes the heap, so setting it
  // now, after start-up, is enough; on the command line it would also slow every CNI invocation).
  (await import('node:v8')).setFlagsFromString('--optimize-for-size');
  const { runDaemon } = await import('../../pkg/daemon/mod.ts');
  await runDaemon(parsed.value);
}
