/**
 * The local daemon's API (HTTP with JSON over its Unix socket), as the CNI plugin and the CLI call it. Errors
 * come back typed: the daemon's own (with its code), or WEFT_TRY_AGAIN when the daemon cannot be reached,
 * which a CNI runtime reads as "retry later" (code 11).
 */
import { WeftError, type WeftCode } from '../errors/mod.ts';

export { DAEMON_SOCKET as DEFAULT_SOCKET } from '../defaults.ts';

export async function daemonCall<T>(
  socketPath: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  // node:http is loaded here, not at start-up: only named attachments and the CLI need it.
  const http = process.getBuiltinModule('node:http');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', ...(payload && { 'content-length': Buffer.byteLength(payload) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            return reject(new WeftError('WEFT_INTERNAL', `the weft daemon answered ${method} ${path} with something that is not JSON`));
          }
          if ((res.statusCode ?? 500) < 300) return resolve(parsed as T);
          const e = parsed as { code?: WeftCode; message?: string; details?: string } | undefined;
          reject(
            new WeftError(
              e?.code ?? 'WEFT_INTERNAL',
              e?.message ?? `the weft daemon answered ${res.statusCode}`,
              e?.details ? { details: e.details } : {},
            ),
          );
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(unreachable(socketPath, e, timeoutMs)));
    req.end(payload);
  });
}

/** Why the daemon's socket did not answer, told apart (issue 11: every cause read "is weft daemon running?"). */
function unreachable(socketPath: string, e: NodeJS.ErrnoException, timeoutMs: number): WeftError {
  switch (e.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new WeftError(
        'WEFT_TRY_AGAIN',
        `the weft daemon on this host is not running (${e.code === 'ENOENT' ? 'no socket' : 'nothing listens'} at ${socketPath}); ` +
          'start it (systemctl start weft, or weft daemon)',
        { cause: e },
      );
    case 'EACCES':
    case 'EPERM':
      return new WeftError(
        'WEFT_IO',
        `permission denied on the weft daemon's socket ${socketPath}: it is root's (mode 0660); run this as root`,
        { cause: e },
      );
    case 'ETIMEDOUT':
      return new WeftError(
        'WEFT_TRY_AGAIN',
        `the weft daemon at ${socketPath} did not answer within ${timeoutMs / 1000} s (it may be waiting on etcd: see its log)`,
        { cause: e },
      );
    default:
      return new WeftError('WEFT_TRY_AGAIN', `cannot talk to the weft daemon at ${socketPath} (${e.code ?? e.message})`, { cause: e });
  }
}

const endpointsPath = (network: string) => `/v1/networks/${encodeURIComponent(network)}/endpoints`;

export interface EndpointRequest {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly containerID: string;
  readonly ifname: string;
  readonly address: string | undefined;
  readonly mac: string;
}

/** Claims `name` on `network` (refused with Docker's message when another container holds it). */
export function registerEndpoint(socket: string, network: string, ep: EndpointRequest): Promise<unknown> {
  return daemonCall(socket, 'POST', endpointsPath(network), ep);
}

/** Removes `name`'s record: only `containerID`'s when given, whoever's otherwise (`disconnect --force`). */
export function unregisterEndpoint(socket: string, network: string, name: string, containerID?: string): Promise<unknown> {
  const only = containerID === undefined ? '' : `?containerID=${encodeURIComponent(containerID)}`;
  return daemonCall(socket, 'DELETE', `${endpointsPath(network)}/${encodeURIComponent(name)}${only}`);
}
