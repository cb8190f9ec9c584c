/**
 * Published ports (`docker run -p 8080:80`) of containers on weft networks. Docker leaves them to a remote
 * driver (ProgramExternalConnectivity carries the bindings), and weft's CNI conflists already chain the
 * reference `portmap` plugin for them, so the driver runs that same plugin: ADD with the bindings as its
 * runtimeConfig and the endpoint's address as the previous result, DEL on RevokeExternalConnectivity or Leave.
 * The mapping to portmap's terms is pure (portMappings); runPortmap is the one side effect, a child process
 * through weft's CNI runtime that the daemon waits for without blocking (it used to stop DNS, lease
 * keep-alives and the API for as long as portmap ran, up to 30 s).
 */
import { CniRuntime, PluginError } from '../cni/runtime.ts';
import { CNI_PATH } from '../defaults.ts';
import { isWeftError, messageOf, WeftError } from '../errors/mod.ts';

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

/** A Docker request waits this long for portmap at most; the daemon's loop never waits (pkg/cni's runtime). */
const PORTMAP_TIMEOUT_MS = 30_000;

const defaultRuntime = new CniRuntime({ cniPath: CNI_PATH, timeoutMs: PORTMAP_TIMEOUT_MS });

/**
 * Runs portmap for one endpoint: ADD installs its rules, DEL removes them (DEL never fails the caller's step).
 * No result is cached: the endpoint's record keeps the bindings for the DEL.
 */
export async function runPortmap(
  verb: 'ADD' | 'DEL',
  e: { network: string; endpointID: string; sandboxKey: string; address: string; mappings: readonly PortMapping[] },
  runtime: Pick<CniRuntime, 'invoke'> = defaultRuntime,
): Promise<void> {
  const conf = {
    cniVersion: '1.0.0',
    name: e.network,
    type: 'portmap',
    snat: true,
    runtimeConfig: { portMappings: e.mappings },
    prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: e.sandboxKey }], ips: [{ address: e.address, interface: 0 }] },
  };
  try {
    await runtime.invoke(verb, conf, { containerID: e.endpointID, netns: e.sandboxKey, ifname: 'eth0', args: {} });
  } catch (err) {
    const failed = err instanceof PluginError;
    if (!failed && isWeftError(err) && err.code === 'WEFT_NOT_FOUND')
      throw new WeftError(
        'WEFT_NOT_FOUND',
        `published ports need the reference portmap plugin in ${CNI_PATH.join(' or ')} (containernetworking-plugins)`,
        { cause: err },
      );
    if (verb === 'DEL') return;
    const ports = e.mappings.map((m) => `${m.hostPort}/${m.protocol}`).join(', ');
    throw new WeftError('WEFT_KERNEL', `portmap could not publish ${ports}: ${failed ? err.reason : messageOf(err)}`, { cause: err });
  }
}
