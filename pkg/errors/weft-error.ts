/**
 * The one error type weft throws on purpose. It carries a stable `code` (see codes.ts), a one-line
 * `message` that names the thing, the value and the fix (R7), optional `details` for context, and the
 * original `cause`. The brand is a global symbol rather than `instanceof`, so an error thrown by one bundled
 * copy of this module is still recognised by another (undici, execa do the same).
 */
import { CODES, type WeftCode } from './codes.ts';

const kWeftError = Symbol.for('weft.error');

export interface WeftErrorOptions {
  readonly details?: string;
  readonly cause?: unknown;
}

export class WeftError extends Error {
  readonly code: WeftCode;
  readonly details: string | undefined;

  constructor(code: WeftCode, message: string, options: WeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeftError';
    this.code = code;
    this.details = options.details;
    Object.defineProperty(this, kWeftError, { value: true });
  }

  /** The CNI error code this error is reported with. */
  get cniCode(): number {
    return CODES[this.code].cni;
  }
}

export function isWeftError(e: unknown): e is WeftError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kWeftError] === true;
}

/** The message of any thrown value, for logs. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The message followed by each `cause` in turn: what `--debug` prints. */
export function causeChain(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 8; depth++) {
    parts.push(messageOf(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join('\n  caused by: ');
}
