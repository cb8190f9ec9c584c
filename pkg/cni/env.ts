/**
 * The CNI_* environment, validated per verb (SPEC.md "Parameters"; names and rules as the reference skel
 * checks them). Runtimes set every variable, empty when unused, so "unset" and "empty" are the same here.
 * CNI_PATH is not required: weft delegates to no other plugin.
 */
import { WeftError } from '../errors/mod.ts';
import { ifNameProblem } from '../kernel/ifname.ts';

export type Verb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
export const VERBS: readonly Verb[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

export interface CniEnv {
  readonly command: Verb;
  readonly containerID: string;
  readonly netns: string;
  readonly ifname: string;
  readonly args: string;
  readonly path: string;
}

const REQUIRED: Record<Verb, ReadonlyArray<'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME'>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  STATUS: [],
  GC: [],
  VERSION: [],
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isVerb(s: string): s is Verb {
  return (VERBS as readonly string[]).includes(s);
}

/** Validates the environment for `command`; reports every missing variable at once. */
export function readEnv(command: Verb, env: Readonly<Record<string, string | undefined>>): CniEnv {
  const get = (k: string) => env[k] ?? '';
  const missing = REQUIRED[command].filter((k) => get(k) === '');
  if (missing.length > 0) throw new WeftError('WEFT_INVALID_ENV', `required env variables [${missing.join(',')}] missing`);
  const containerID = get('CNI_CONTAINERID');
  if (containerID !== '' && !CONTAINER_ID.test(containerID)) {
    throw new WeftError('WEFT_INVALID_ENV', 'invalid characters in containerID', { details: containerID });
  }
  const ifname = get('CNI_IFNAME');
  if (ifname !== '') {
    const problem = ifNameProblem(ifname);
    if (problem) throw new WeftError('WEFT_INVALID_ENV', problem, { details: 'CNI_IFNAME' });
  }
  return { command, containerID, netns: get('CNI_NETNS'), ifname, args: get('CNI_ARGS'), path: get('CNI_PATH') };
}
