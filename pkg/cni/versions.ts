/**
 * CNI spec versions. The plugin answers in the config's version (libcni: "Plugin must return result in same
 * version as specified in netconf"), so it supports every released result format: 0.1.0/0.2.0 (ip4/ip6),
 * 0.3.x/0.4.0 (ips[].version), 1.0.0 and 1.1.0 (no ips[].version; 1.1.0 adds interface and route fields).
 */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const CURRENT_VERSION: CniVersion = '1.1.0';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** [major, minor, patch], or undefined when `v` is not a plain semantic version. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = SEMVER.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Negative, zero or positive as a < b, a = b, a > b; both must parse. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a)!;
  const y = parseVersion(b)!;
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

export function isSupported(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** Which result family a version renders as. */
export function resultFamily(v: CniVersion): '020' | '040' | '100' {
  if (v === '0.1.0' || v === '0.2.0') return '020';
  if (v === '1.0.0' || v === '1.1.0') return '100';
  return '040';
}
