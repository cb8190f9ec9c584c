/**
 * The one weft executable. A container runtime runs it as the CNI plugin (CNI_COMMAND set, even if empty);
 * a person runs it as the CLI. Each path is loaded only when taken, so a CNI invocation never pays for the
 * CLI's argument parser. No top-level await: the single-file build is CommonJS.
 */
async function main(): Promise<void> {
  if (process.env.CNI_COMMAND !== undefined) {
    const { runPlugin } = await import('./cni.ts');
    process.exitCode = await runPlugin();
  } else {
    const { runCli } = await import('./cli.ts');
    await runCli(process.argv.slice(2));
  }
}

void main();
