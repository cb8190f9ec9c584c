/**
 * The one weft executable. A container runtime runs it as the CNI plugin (CNI_COMMAND set, even if empty);
 * a person runs it as the CLI. Each path is loaded only when taken, so a CNI invocation never pays for the
 * CLI's argument parser.
 */
import { runCli } from './cli.ts';

await runCli(process.argv.slice(2));
