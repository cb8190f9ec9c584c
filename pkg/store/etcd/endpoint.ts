/**
 * etcd endpoints as flanneld takes them: `http://host:port`, `https://host:port` (host a name, an IPv4
 * address or a bracketed IPv6 address), and `unix:///path` or `unix:/path` for a local socket (etcd's own
 * `unix://name` listener form). Anything else is refused when the daemon starts, with the forms it accepts,
 * rather than failing on the first request.
 */
import { WeftError } from '../../errors/mod.ts';

export type Endpoint =
  | { readonly kind: 'http' | 'https'; readonly url: string; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly url: string; readonly socketPath: string };

export function parseEndpoint(text: string): Endpoint {
  const t = text.trim();
  if (t.startsWith('unix:')) {
    const socketPath = t.replace(/^unix:(\/\/)?/, '');
    if (!socketPath.startsWith('/'))
      throw new WeftError('WEFT_INVALID_CONFIG', `etcd endpoint ${t}: a Unix socket needs an absolute path (unix:///run/etcd.sock)`);
    return { kind: 'unix', url: t, socketPath };
  }
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      `etcd endpoint ${JSON.stringify(t)} is not a URL; use http://HOST:2379, https://HOST:2379 or unix:///PATH`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      `etcd endpoint ${t}: scheme ${u.protocol.slice(0, -1)} is not supported; use http, https or unix`,
    );
  }
  if (u.pathname !== '/' || u.search !== '' || u.username !== '') {
    throw new WeftError(
      'WEFT_INVALID_CONFIG',
      `etcd endpoint ${t}: give only scheme, host and port (credentials go in --etcd-username/--etcd-password)`,
    );
  }
  const kind = u.protocol === 'https:' ? 'https' : 'http';
  const port = u.port === '' ? 2379 : Number(u.port);
  return { kind, url: `${kind}://${u.host}`, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Parses every endpoint, refusing an empty list. */
export function parseEndpoints(list: readonly string[]): Endpoint[] {
  const out = list
    .flatMap((s) => s.split(','))
    .filter((s) => s.trim() !== '')
    .map(parseEndpoint);
  if (out.length === 0) throw new WeftError('WEFT_INVALID_CONFIG', 'no etcd endpoint given; set --etcd-endpoints');
  return out;
}
