/**
 * The CNI dispatcher (the reference skel's job): read CNI_COMMAND and the environment, read and check the
 * config, gate on its cniVersion, call the verb, and print the result or a spec error. Checks run in skel's
 * order, so the same bad input gets the same code as from a reference plugin:
 *
 *   unknown command (4) -> VERSION -> missing/invalid env (4) -> stdin not a JSON object (6)
 *   -> missing/invalid name (7) -> cniVersion (1, or 6 when unparsable on CHECK/STATUS/GC) -> the verb.
 *
 * Every failure is one JSON object on stdout and exit code 1; a one-line copy goes to stderr for people
 * reading logs. Nothing else is ever written to stdout.
 */
import { isWeftError, messageOf, WeftError } from '../errors/mod.ts';
import { isVerb, readEnv, type CniEnv, type Verb } from './env.ts';
import type { CniIo } from './io.ts';
import { renderResult } from './result.ts';
import type { CniResult } from './types.ts';
import { versionReply } from './version-reply.ts';
import { compareVersions, CURRENT_VERSION, isSupported, parseVersion, SUPPORTED_VERSIONS, type CniVersion } from './versions.ts';

export interface CniRequest {
  readonly env: CniEnv;
  readonly version: CniVersion;
  /** The config object from stdin, as the runtime sent it. */
  readonly config: Readonly<Record<string, unknown>>;
}

export interface CniPlugin {
  add(req: CniRequest): Promise<CniResult>;
  del(req: CniRequest): Promise<void>;
  check(req: CniRequest): Promise<void>;
  status(req: CniRequest): Promise<void>;
  gc(req: CniRequest): Promise<void>;
}

// SPEC.md, Configuration format: "name": alphanumeric first, then alphanumerics, _ . -; no length limit (weft's own
// network names, Docker's rule, add one: pkg/networks NETWORK_NAME).
const CNI_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const MIN_VERSION: Partial<Record<Verb, string>> = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' };

function parseConfig(stdin: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(stdin.toString('utf8'));
  } catch (e) {
    throw new WeftError('WEFT_DECODE', `error unmarshall network config: ${messageOf(e)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new WeftError('WEFT_DECODE', 'error unmarshall network config: the config must be a JSON object');
  }
  return v as Record<string, unknown>;
}

function gateVersion(command: Verb, config: Record<string, unknown>): CniVersion {
  const raw = config.cniVersion ?? '0.1.0';
  if (typeof raw !== 'string') throw new WeftError('WEFT_DECODE', 'cniVersion must be a string');
  const min = MIN_VERSION[command];
  if (min !== undefined) {
    if (!parseVersion(raw)) throw new WeftError('WEFT_DECODE', `cniVersion "${raw}" is not a version`);
    if (compareVersions(raw, min) < 0)
      throw new WeftError('WEFT_CNI_VERSION', `config version does not allow ${command}`, {
        details: `config is "${raw}"; ${command} needs ${min} or later`,
      });
  }
  if (!isSupported(raw)) {
    throw new WeftError('WEFT_CNI_VERSION', 'incompatible CNI versions', {
      details: `config is "${raw}", plugin supports [${SUPPORTED_VERSIONS.map((v) => `"${v}"`).join(' ')}]`,
    });
  }
  return raw;
}

function errorJson(e: unknown, version: string): string {
  const code = isWeftError(e) ? e.cniCode : 999;
  const details = isWeftError(e) ? e.details : undefined;
  return JSON.stringify({ cniVersion: version, code, msg: messageOf(e), ...(details !== undefined && { details }) }, null, 4);
}

/** Runs one plugin invocation; returns the process exit code. */
export async function dispatch(io: CniIo, plugin: CniPlugin, about: string): Promise<number> {
  const command = io.env.CNI_COMMAND ?? '';
  let version: string = CURRENT_VERSION;
  try {
    if (command === '') {
      io.writeStderr(`${about}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`);
      return 0;
    }
    if (!isVerb(command)) throw new WeftError('WEFT_INVALID_ENV', `unknown CNI_COMMAND: ${command}`);
    if (command === 'VERSION') {
      io.writeStdout(versionReply(io.readStdin()));
      return 0;
    }
    const env = readEnv(command, io.env);
    const config = parseConfig(io.readStdin());
    const cv = config.cniVersion;
    if (typeof cv === 'string' && isSupported(cv)) version = cv;
    if (typeof config.name !== 'string' || config.name === '') throw new WeftError('WEFT_INVALID_CONFIG', 'missing network name');
    if (!CNI_NAME.test(config.name))
      throw new WeftError('WEFT_INVALID_CONFIG', 'invalid characters found in network name', { details: config.name });
    const req: CniRequest = { env, version: gateVersion(command, config), config };
    switch (command) {
      case 'ADD':
        io.writeStdout(JSON.stringify(renderResult(await plugin.add(req), req.version), null, 4));
        return 0;
      case 'DEL':
        await plugin.del(req);
        return 0;
      case 'CHECK':
        await plugin.check(req);
        return 0;
      case 'STATUS':
        await plugin.status(req);
        return 0;
      case 'GC':
        await plugin.gc(req);
        return 0;
    }
  } catch (e) {
    io.writeStdout(errorJson(e, version));
    io.writeStderr(`weft: CNI ${command || '(none)'}: ${messageOf(e)}\n`);
    return 1;
  }
}
