/**
 * The reply to VERSION: the versions the plugin speaks, answered in the config's version when it is one of
 * them. Its own module, with only the version table beside it, because runtimes ask it constantly (every
 * conflist load, every STATUS probe): the build gives it a bundle of its own (bundle/esbuild.ts).
 */
import { CURRENT_VERSION, isSupported, SUPPORTED_VERSIONS } from './versions.ts';

export function versionReply(stdin: Buffer): string {
  let asked: unknown;
  try {
    asked = (JSON.parse(stdin.toString('utf8') || '{}') as { cniVersion?: unknown }).cniVersion;
  } catch {
    asked = undefined;
  }
  const reply = typeof asked === 'string' && isSupported(asked) ? asked : CURRENT_VERSION;
  return JSON.stringify({ cniVersion: reply, supportedVersions: SUPPORTED_VERSIONS });
}
