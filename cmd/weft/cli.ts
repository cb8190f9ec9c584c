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
    if (argv[0] === 'man') return void process.stdout.write(await manPage());
    await (await parser(completionArgs(argv))).parseAsync();
  } catch (e) {
    process.stderr.write(`weft: ${debug ? causeChain(e) : messageOf(e)}\n`);
    process.exitCode = e instanceof UsageError ? 2 : isWeftError(e) ? 1 : 1;
  }
}

/**
 * The CLI's parser for `argv`: every command, yargs' completion, one line of error for any refusal. Exported
 * so that the docs test (cmd/weft/docs.test.ts) can check the commands the docs show without running them.
 */
export async function parser(argv: readonly string[]) {
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
    .completion('completion', 'print a shell completion script: weft completion [bash|zsh] >> ~/.bashrc (or ~/.zshrc)')
    .fail((msg, err) => {
      // yargs wraps its own refusals and a coerce's in YError: those are usage errors too.
      throw err && err.name !== 'YError' ? err : new UsageError(msg ?? err?.message ?? 'invalid command line');
    });
  y = y.command('daemon', 'run the per-host controller (flanneld-compatible flags; weft daemon --help)');
  y = y.command('man', 'print the manual page (roff): weft man > /usr/share/man/man8/weft.8');
  for (const c of commands) y = y.command(c);
  return y;
}

/**
 * `weft completion bash|zsh`: yargs picks the script by $SHELL, so the shell named on the command line is
 * passed that way.
 */
function completionArgs(argv: readonly string[]): readonly string[] {
  if (argv[0] !== 'completion' || (argv[1] !== 'bash' && argv[1] !== 'zsh')) return argv;
  process.env.SHELL = `/bin/${argv[1]}`;
  delete process.env.ZSH_NAME;
  return [argv[0], ...argv.slice(2)];
}

/** Every command's help, as yargs prints it, for the manual page. */
async function helpOf(words: readonly string[]): Promise<string> {
  const y = (await parser([...words, '--help'])).exitProcess(false);
  return new Promise((resolve) => void y.parse([...words, '--help'], {}, (_err, _argv, output) => resolve(output)));
}

const MAN_COMMANDS = [
  ['network'],
  ...['create', 'ls', 'inspect', 'rm', 'prune', 'connect', 'disconnect'].map((c) => ['network', c]),
  ['status'],
  ['doctor'],
  ['install'],
  ['uninstall'],
  ['lab'],
  ['version'],
];

/** The manual page (section 8), generated from the same help the commands print. */
async function manPage(): Promise<string> {
  const { DAEMON_USAGE } = await import('../../flannel-compat/daemon-flags.ts');
  // roff: a backslash is an escape, and a line starting with . or ' a request.
  const verbatim = (text: string) =>
    `.nf\n${text
      .trimEnd()
      .split('\n')
      .map((l) => l.replaceAll('\\', '\\e').replace(/^([.'])/, '\\&$1'))
      .join('\n')}\n.fi\n`;
  const sections = [`.SS weft\n${verbatim(await helpOf([]))}`, `.SS weft daemon\n${verbatim(DAEMON_USAGE)}`];
  for (const words of MAN_COMMANDS) sections.push(`.SS weft ${words.join(' ')}\n${verbatim(await helpOf(words))}`);
  sections.push('.SS weft completion [bash|zsh]\nPrints a completion script for the shell (by default the one in $SHELL).\n');
  return [
    `.TH WEFT 8 "" "weft ${VERSION}" "System Administration"`,
    '.SH NAME',
    'weft \\- a VXLAN overlay network over etcd: CNI plugin, per-host daemon and CLI',
    '.SH SYNOPSIS',
    '.B weft',
    '.I command',
    '[options]',
    '.SH DESCRIPTION',
    'Containers on different hosts talk over a VXLAN overlay whose state lives in etcd (or the Kubernetes API).',
    'A container runtime runs weft as its CNI plugin (CNI_COMMAND set); people run the commands below.',
    '.SH COMMANDS',
    ...sections,
    '.SH FILES',
    '/run/flannel/subnet.env, /run/weft/weft.sock, /var/lib/weft, /var/lib/cni/weft, /etc/cni/net.d/10-weft.conflist',
    '.SH SEE ALSO',
    'flanneld(8), podman-network(1), docker-network(1)',
    '',
  ].join('\n');
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
