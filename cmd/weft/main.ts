/**
 * The one weft executable. A container runtime runs it as the CNI plugin (CNI_COMMAND set, even if empty);
 * a person runs it as the CLI. Each path is loaded only when taken, so a CNI invocation never pays for the
 * CLI's argument parser.
 */
if (process.env.CNI_COMMAND !== undefined) {
  const [{ dispatch, processIo }, { weftPlugin, ABOUT }] = await Promise.all([import('../../pkg/cni/mod.ts'), import('../../pkg/attach/mod.ts')]);
  process.exitCode = await dispatch(processIo(), weftPlugin, ABOUT);
} else {
  const { runCli } = await import('./cli.ts');
  await runCli(process.argv.slice(2));
}
