/**
 * Published ports (`docker run -p 8080:80`) of containers on weft networks. Docker leaves them to a remote
 * driver (ProgramExternalConnectivity carries the bindings), and weft's CNI conflists already chain the
 * reference `portmap` plugin for them, so the driver runs that same plugin: ADD with the bindings as its
 * runtimeConfig and the endpoint's address as the previous result, DEL on RevokeExternalConnectivity or Leave.
 * The mapping to portmap's terms is pure (portMappings); run() is the one side effect.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_PATH } from '../defaults.ts';
import { WeftError } from '../errors/mod.ts';

/** A binding as Docker sends it (`com.docker.network.portmap`); Proto is the IP protocol number. */
export interface DockerPortBinding {
  readonly Proto: number;
  readonly Port: number;
  readonly HostIP?: string;
  readonly HostPort: number;
  readonly HostPortEnd?: number;
}

/** portmap's `portMappings` entry. */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP?: string;
}

export const PORTMAP_OPTION = 'com.docker.network.portmap';
const PROTOCOLS: Record<number, PortMapping['protocol']> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** Docker's bindings as portmap's; a binding weft cannot serve is refused with what to give instead. */
export function portMappings(options: Readonly<Record<string, unknown>> | null | undefined): PortMapping[] {
  const raw = options?.[PORTMAP_OPTION];
  if (!Array.isArray(raw)) return [];
  return (raw as DockerPortBinding[]).flatMap((b) => {
    const protocol = PROTOCOLS[b.Proto];
    if (!protocol)
      throw new WeftError('WEFT_UNSUPPORTED_FIELD', `published port ${b.Port}: IP protocol ${b.Proto} is not tcp, udp or sctp`);
    if (!b.HostPort)
      throw new WeftError(
        'WEFT_UNSUPPORTED_FIELD',
        `published port ${b.Port}/${protocol} has no host port: weft does not pick one; give it (-p HOSTPORT:${b.Port})`,
      );
    const last = b.HostPortEnd && b.HostPortEnd > b.HostPort ? b.HostPortEnd : b.HostPort;
    const out: PortMapping[] = [];
    for (let p = b.HostPort; p <= last; p++)
      out.push({ hostPort: p, containerPort: b.Port + (p - b.HostPort), protocol, ...(b.HostIP && { hostIP: b.HostIP }) });
    return out;
  });
}

function portmapBinary(): string {
  for (const dir of CNI_PATH) if (existsSync(join(dir, 'portmap'))) return join(dir, 'portmap');
  throw new WeftError(
    'WEFT_NOT_FOUND',
    `published ports need the reference portmap plugin in ${CNI_PATH.join(' or ')} (containernetworking-plugins)`,
  );
}

/** Runs portmap for one endpoint: ADD installs its rules, DEL removes them (DEL never fails the caller's step). */
export function runPortmap(
  verb: 'ADD' | 'DEL',
  e: { network: string; endpointID: string; sandboxKey: string; address: string; mappings: readonly PortMapping[] },
): void {
  const conf = {
    cniVersion: '1.0.0',
    name: e.network,
    type: 'portmap',
    snat: true,
    runtimeConfig: { portMappings: e.mappings },
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: e.sandboxKey }], ips: [{ address: e.address, interface: 0 }] },
  };
  const r = spawnSync(portmapBinary(), [], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: verb,
      CNI_CONTAINERID: e.endpointID,
      CNI_NETNS: e.sandboxKey,
      CNI_IFNAME: 'eth0',
      CNI_PATH: CNI_PATH.join(':'),
    },
  });
  if (r.status !== 0 && verb === 'ADD') {
    const msg = (() => {
      try {
        return (JSON.parse(r.stdout) as { msg?: string; details?: string }).msg ?? r.stdout;
      } catch {
        return r.stdout || r.stderr || `exit ${r.status}`;
      }
    })();
    throw new WeftError(
      'WEFT_KERNEL',
      `portmap could not publish ${e.mappings.map((m) => `${m.hostPort}/${m.protocol}`).join(', ')}: ${msg}`,
    );
  }
}
