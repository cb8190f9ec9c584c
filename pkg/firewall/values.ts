/**
 * What weft's nft scripts may carry (issue 25). A script is text that `nft -f` runs as root, and some of its
 * values come from etcd (a network's ranges and name) or from files (a host's lease): a network named
 * `x" ; } ; } ; table ip weftpwn { ...` once ended a rule's comment, the chain and the table, and opened a
 * table of its own on every host. Those values are judged where they are read (pkg/networks record.ts); each
 * script builder also passes every one of them through these checks, so nothing but a parser's own output or
 * a plain name can reach a script whatever a caller forgot: a builder throws instead.
 */
import { WeftError } from '../errors/mod.ts';
import { formatPrefix, parsePrefix } from '../netaddr/cidr.ts';
import type { Family } from '../netaddr/family.ts';

/** nft's name of an address family: its `ip` and `ip6` tables, and the `ip`/`ip6` of saddr and daddr matches. */
export const nftFamily = (f: Family): 'ip' | 'ip6' => (f === 4 ? 'ip' : 'ip6');

/** `s` if it is a CIDR exactly as weft's parser writes it (digits, hex, `.`, `:` and `/` only). */
export function nftCidr(s: string): string {
  const p = parsePrefix(s);
  if (!p.ok || formatPrefix(p.value) !== s)
    throw new WeftError('WEFT_INVALID_ARGUMENT', `${JSON.stringify(s)} is not a range in canonical form; it is kept out of nft rules`);
  return s;
}

/** `s` if it may stand inside a rule's quoted comment: a network name's characters and spaces, at most 64 (a rule comment holds 128). */
export function nftCommentText(s: string): string {
  if (!/^[A-Za-z0-9_. :-]{0,64}$/.test(s))
    throw new WeftError('WEFT_INVALID_ARGUMENT', `${JSON.stringify(s)} cannot be an nft comment; it is kept out of nft rules`);
  return s;
}
