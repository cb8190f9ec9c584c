/**
 * What went wrong talking to one etcd endpoint, as one line an operator can act on (R7), and whether the
 * request may be sent to another endpoint. Node's socket and TLS errors and the gateway's gRPC status codes
 * come in; a WeftError naming the endpoint and the cause goes out:
 *
 *   etcd at https://192.0.2.100:2379: its certificate is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE); check --etcd-cafile
 *
 * Pure, so every case is unit-tested without an etcd.
 */
import { WeftError } from '../../errors/mod.ts';

/**
 * `unsent`: the request never reached etcd (refused, unresolvable, TLS handshake failed): any request may
 * go to another endpoint. `unhealthy`: the endpoint failed mid-request (timeout, reset, "no leader"): reads
 * may be retried elsewhere, a write may have been applied and is not. `final`: etcd answered and refused.
 */
export type Retry = 'unsent' | 'unhealthy' | 'final';

export interface Failure {
  readonly error: WeftError;
  readonly retry: Retry;
}

export interface FailureContext {
  readonly endpoint: string;
  readonly timeoutMs: number;
  /** Whether this host presents a client certificate. */
  readonly clientCert: boolean;
  readonly username: string | undefined;
  /** Whether the connection was established before the failure. */
  readonly connected: boolean;
}

/** Our own deadline on a request (Node has none for a whole request). */
export const DEADLINE = 'WEFT_ETCD_DEADLINE';

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no such socket',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'cannot resolve the host name',
  EAI_AGAIN: 'cannot resolve the host name',
  EACCES: 'permission denied on the socket',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'the connection timed out',
};

interface NodeishError {
  readonly code?: string;
  readonly message?: string;
  readonly reason?: string;
}

function tls(ctx: FailureContext, why: string, fix: string): Failure {
  return { error: new WeftError('WEFT_STORE_TLS', `etcd at ${ctx.endpoint}: ${why}; ${fix}`), retry: 'unsent' };
}

/** A failure below HTTP: connecting, TLS, or the socket going away. */
export function socketFailure(ctx: FailureContext, e: unknown): Failure {
  const err = (e ?? {}) as NodeishError;
  const code = err.code ?? '';
  const at = `etcd at ${ctx.endpoint}`;
  if (code === DEADLINE) {
    const error = new WeftError('WEFT_STORE_UNAVAILABLE', `${at} did not answer within ${ctx.timeoutMs / 1000} s`);
    return { error, retry: ctx.connected ? 'unhealthy' : 'unsent' };
  }
  if (UNTRUSTED.has(code)) return tls(ctx, `its certificate is not signed by a trusted CA (${code})`, 'check --etcd-cafile');
  if (code === 'CERT_HAS_EXPIRED') return tls(ctx, 'its certificate has expired (CERT_HAS_EXPIRED)', "renew etcd's server certificate");
  if (code === 'CERT_NOT_YET_VALID')
    return tls(ctx, 'its certificate is not valid yet (CERT_NOT_YET_VALID)', 'check the clocks of this host and etcd');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = /altnames: (.*)$/.exec(err.reason ?? err.message ?? '')?.[1];
    return tls(
      ctx,
      `its certificate is not for this address${names ? ` (it names ${names})` : ''}`,
      'use an endpoint the certificate names',
    );
  }
  if (
    /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|ACCESS_DENIED|HANDSHAKE_FAILURE)/.test(
      code,
    )
  ) {
    return ctx.clientCert
      ? tls(
          ctx,
          `etcd refused this host's client certificate (${code.replace(/^ERR_SSL_/, '')})`,
          "check --etcd-certfile/--etcd-keyfile: etcd's --trusted-ca-file must have signed it and it must be valid",
        )
      : tls(ctx, 'etcd requires a client certificate', 'set --etcd-certfile and --etcd-keyfile');
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'EPROTO') {
    return tls(ctx, 'it does not speak TLS there', `use http://${ctx.endpoint.replace(/^https:\/\//, '')}`);
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) {
    return tls(ctx, `TLS failed (${code}: ${err.message ?? ''})`, 'check the etcd certificate flags');
  }
  const known = UNREACHABLE[code];
  const what = known
    ? `${code}: ${known}`
    : /socket hang up/.test(err.message ?? '')
      ? 'the connection was closed'
      : `${code ? `${code}: ` : ''}${err.message ?? String(e)}`;
  const sent = ctx.connected || code === 'ECONNRESET' || code === 'EPIPE';
  return { error: new WeftError('WEFT_STORE_UNAVAILABLE', `${at} is unreachable (${what})`), retry: sent ? 'unhealthy' : 'unsent' };
}

/** etcd answered with an error (the gateway's JSON: gRPC code and message). */
export function answerFailure(ctx: FailureContext, status: number, body: string): Failure {
  const at = `etcd at ${ctx.endpoint}`;
  let code = -1;
  let message = body.trim().slice(0, 200);
  try {
    const j = JSON.parse(body) as { code?: number; message?: string; error?: string };
    code = typeof j.code === 'number' ? j.code : -1;
    message = j.message ?? j.error ?? message;
  } catch {
    // not the gateway's JSON: a proxy, or a plain HTTP server on that port
  }
  if (status === 400 && /HTTP request to an HTTPS server/i.test(message)) {
    return tls(ctx, 'it expects TLS', `use https://${ctx.endpoint.replace(/^http:\/\//, '')}`);
  }
  if (status === 404 && code === -1) {
    return {
      error: new WeftError(
        'WEFT_STORE',
        `${at} has no v3 JSON gateway (HTTP 404); weft needs etcd 3.4 or later with its gateway on (the default)`,
      ),
      retry: 'unsent',
    };
  }
  if (/user name is empty|authentication is not enabled|token is not provided/.test(message) && !ctx.username) {
    return {
      error: new WeftError('WEFT_STORE_AUTH', `${at} requires authentication; set --etcd-username and --etcd-password`),
      retry: 'final',
    };
  }
  if (/authentication failed, invalid user ID or password/.test(message)) {
    return {
      error: new WeftError('WEFT_STORE_AUTH', `${at} refused user ${ctx.username ?? '(none)'}: wrong user name or password`),
      retry: 'final',
    };
  }
  if (code === 7 || /permission denied/.test(message)) {
    return {
      error: new WeftError(
        'WEFT_STORE_AUTH',
        `${at}: user ${ctx.username ?? '(none)'} is not allowed this (${message}); grant its role read and write on weft's prefixes`,
      ),
      retry: 'final',
    };
  }
  // UNAVAILABLE (no leader, not started, request timed out) and DEADLINE_EXCEEDED: the member, not the request.
  if (code === 14 || code === 4 || status === 503) {
    // "no leader" is answered before anything is proposed: even a write may go elsewhere.
    const retry = /no leader|not started|too many requests/.test(message) ? 'unsent' : 'unhealthy';
    return { error: new WeftError('WEFT_STORE_UNAVAILABLE', `${at} cannot serve now (${message})`), retry };
  }
  return { error: new WeftError('WEFT_STORE', `${at} refused the request: ${message}`), retry: 'final' };
}
