/**
 * The host's part of weft as Docker's network plugin (`weft install --docker`), as data: a systemd drop-in
 * that turns the daemon's plugin API on (and starts weft before dockerd, which then finds the plugin when it
 * restores its networks), and dockerd's `dns` setting pointing at weft's link-local resolver, merged into
 * /etc/docker/daemon.json with everything else in it kept. `weft uninstall` takes back exactly these.
 */
import { join } from 'node:path';
import { DOCKER_CONFIG, DOCKER_DNS_ADDRESS } from '../defaults.ts';
import { WeftError } from '../errors/mod.ts';
import { UNIT_NAME } from './systemd.ts';

export { DOCKER_CONFIG };
export const dropInPath = (systemdDir: string): string => join(systemdDir, `${UNIT_NAME}.d`, 'docker.conf');

export const DROP_IN_TEXT = `# Written by weft install --docker: weft's daemon serves Docker's plugin API (driver and IPAM "weft").
[Unit]
Before=docker.service

[Service]
Environment=WEFT_DOCKER=true
`;

function parseConfig(text: string | undefined, path: string): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new WeftError('WEFT_DECODE', `${path} is not JSON (${(e as Error).message}); fix it, then run weft install --docker again`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WeftError('WEFT_DECODE', `${path} is not a JSON object`);
  return v as Record<string, unknown>;
}

const dnsList = (c: Record<string, unknown>, path: string): string[] => {
  const d = c.dns ?? [];
  if (!Array.isArray(d) || !d.every((x) => typeof x === 'string'))
    throw new WeftError('WEFT_DECODE', `"dns" in ${path} is not a list of addresses`);
  return d;
};

/**
 * dockerd's config with weft's resolver first in `dns` (servers already there stay, after it, as fallbacks
 * Docker's embedded DNS tries when one does not answer); undefined when it is already so.
 */
export function withWeftDns(text: string | undefined, path = DOCKER_CONFIG, address = DOCKER_DNS_ADDRESS): string | undefined {
  const c = parseConfig(text, path);
  const dns = dnsList(c, path);
  if (dns[0] === address) return undefined;
  return `${JSON.stringify({ ...c, dns: [address, ...dns.filter((x) => x !== address)] }, null, 2)}\n`;
}

/** dockerd's config without weft's resolver (the key goes when it empties); undefined when it has none. */
export function withoutWeftDns(text: string | undefined, path = DOCKER_CONFIG, address = DOCKER_DNS_ADDRESS): string | undefined {
  const c = parseConfig(text, path);
  const dns = dnsList(c, path);
  if (!dns.includes(address)) return undefined;
  const { dns: _, ...rest } = c;
  const left = dns.filter((x) => x !== address);
  return `${JSON.stringify(left.length > 0 ? { ...rest, dns: left } : rest, null, 2)}\n`;
}
