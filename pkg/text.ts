/**
 * Ordinal string order, for the lists weft prints and compares. localeCompare would make the order depend
 * on the host's locale, and its first call maps ICU's collation data into the process: 8 MiB of resident
 * memory that a long-running daemon keeps for nothing.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
