/**
 * The local daemon's API (HTTP with JSON over its Unix socket), as the CNI plugin and the CLI call it. Errors
 * come back typed: the daemon's own (with its code), or WEFT_TRY_AGAIN when the daemon cannot be reached,
 * which a CNI runtime reads as "retry later" (code 11).
 */
import { WeftError, type WeftCode } from '../errors/mod.ts';
import { unixRequest, type UnixResponse } from './unix-http.ts';

export { DAEMON_SOCKET as DEFAULT_SOCKET } from '../defaults.ts';

export async function daemonCall<T>(
  socketPath: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  let res: UnixResponse;
  try {
    res = await unixRequest(socketPath, method, path, payload, timeoutMs);
  } catch (e) {
    throw unreachable(socketPath, e as NodeJS.ErrnoException, timeoutMs);
  }
  let parsed: unknown;
  try {
    parsed = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    throw new WeftError('WEFT_INTERNAL', `the weft daemon answered ${method} ${path} with something that is not JSON`);
  }
  if (res.status < 300) return parsed as T;
  const e = parsed as { code?: WeftCode; message?: string; details?: string } | undefined;
  throw new WeftError(
    e?.code ?? 'WEFT_INTERNAL',
    e?.message ?? `the weft daemon answered ${res.status}`,
    e?.details ? { details: e.details } : {},
  );
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
  /** On a dual-stack network. */
  readonly address6?: string | undefined;
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
