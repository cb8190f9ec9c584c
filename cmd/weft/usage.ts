/** A command line the CLI cannot run as given: printed as one line, exit status 2 (as yargs' own refusals). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
