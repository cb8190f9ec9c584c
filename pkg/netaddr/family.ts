/**
 * Address families as values (issue 27). A family is decided once, where text becomes a value: a parser
 * (parseIP, parsePrefix) returns it with the address, and `familyOf` reads it off address or prefix text that
 * was already checked (a parsed config, a lease, the kernel's reply). Everything after that passes the family
 * on, and keeps per-family state keyed by it, rather than asking the text again.
 */

/** 4 or 6, as flannel's config keys, `ip -4`/`ip -6` and netlink's AF_INET/AF_INET6 name them. */
export type Family = 4 | 6;

/** Both families, IPv4 first (the order results, subnet files and plans list them in). */
export const FAMILIES: readonly Family[] = [4, 6];

/** One value per family a thing carries; an IPv6-only network has only `6`. */
export type PerFamily<T> = { readonly [F in Family]?: T };

/**
 * The family of address or prefix text (`10.1.0.0/16`, `fd00::1`). It does not validate: IPv6 text always
 * has a colon and IPv4 text never does, so for text that parsed once this is the family; untrusted text
 * goes through parseIP or parsePrefix, which return the family with the checked value.
 */
export const familyOf = (text: string): Family => (text.includes(':') ? 6 : 4);

/** Address bits of a family: 32 or 128. */
export const bitsOf = (f: Family): number => (f === 4 ? 32 : 128);

/** The host prefix of an address: `10.0.0.1/32`, `fd00::1/128`. */
export const hostPrefixOf = (address: string): string => `${address}/${bitsOf(familyOf(address))}`;

/** The addresses (or prefixes) of one family, in their order. */
export const ofFamily = <T extends string>(texts: readonly T[], f: Family): T[] => texts.filter((t) => familyOf(t) === f);

/** The first address (or prefix) of each family in `texts`: a container's IPv4 and IPv6 address, say. */
export function byFamily<T extends string>(texts: readonly T[]): PerFamily<T> {
  const out: { [F in Family]?: T } = {};
  for (const t of texts) out[familyOf(t)] ??= t;
  return out;
}
