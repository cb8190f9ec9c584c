/**
 * `weft network connect/disconnect`: attach a namespace a person made (`/proc/PID/ns/net` of a container
 * started without a network) to a named network by running the network's conflist, fetched from the local
 * daemon, exactly as a runtime would; and detach it again by the record the plugin kept. The container ID
 * is derived from the namespace and the name, so a repeated connect is recognised as the same attachment.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CniRuntime, DEFAULT_CNI_PATH, type Conflist } from '../../pkg/cni/runtime.ts';
import { daemonCall, networkState, unregisterEndpoint, type AttachmentRecord } from '../../pkg/contract/mod.ts';
import { WeftError } from '../../pkg/errors/mod.ts';
import { fnvHex } from '../../pkg/hash/fnv.ts';
import { NETWORK_NAME } from '../../pkg/networks/mod.ts';

export interface ConnectRequest {
  readonly network: string;
  readonly netns: string;
  readonly name: string;
  readonly ifname: string;
  readonly aliases: readonly string[];
}

export interface ApiTarget {
  readonly socket: string;
  readonly cniPath: readonly string[];
  /** How to run weft itself as a plugin when it is not installed in the CNI path. */
  readonly self: readonly string[];
}

interface WeftPluginConf {
  readonly network: string;
  readonly dataDir: string;
}

const enc = encodeURIComponent;

async function conflistOf(t: ApiTarget, network: string): Promise<{ list: Conflist; weft: WeftPluginConf }> {
  const list = await daemonCall<Conflist>(t.socket, 'GET', `/v1/networks/${enc(network)}/conflist`);
  const weft = list.plugins.find((p) => p.type === 'weft') as unknown as WeftPluginConf | undefined;
  if (!weft) throw new WeftError('WEFT_INTERNAL', `the conflist of network ${network} has no weft plugin`);
  return { list, weft };
}

function runtimeFor(t: ApiTarget, weft: WeftPluginConf): CniRuntime {
  return new CniRuntime({ cniPath: t.cniPath, cacheDir: join(weft.dataDir, 'results'), fallback: { weft: t.self } });
}

/** The container ID a manual attachment gets: stable for one namespace and name. */
export function manualContainerId(netns: string, name: string): string {
  let inode = '';
  try {
    inode = String(statSync(netns).ino);
  } catch {
    // the plugin reports a missing namespace with the CNI error for it
  }
  return `weft-${fnvHex(`${inode}|${netns}|${name}`, 16)}`;
}

export async function connect(t: ApiTarget, r: ConnectRequest): Promise<Record<string, unknown>> {
  if (!NETWORK_NAME.test(r.name))
    throw new WeftError('WEFT_INVALID_ARGUMENT', `"${r.name}" is not a valid container name (letters, digits, _ . -; at most 63)`);
  if (!existsSync(r.netns)) throw new WeftError('WEFT_UNKNOWN_CONTAINER', `network namespace ${r.netns} does not exist`);
  const { list, weft } = await conflistOf(t, r.network);
  return runtimeFor(t, weft).add(list, {
    containerID: manualContainerId(r.netns, r.name),
    netns: r.netns,
    ifname: r.ifname,
    args: { K8S_POD_NAME: r.name },
    capabilityArgs: r.aliases.length > 0 ? { aliases: { [r.network]: r.aliases } } : {},
  });
}

export interface DisconnectResult {
  /** "detached" (CNI DEL ran here) or "record removed" (--force, the endpoint was on another host or its DEL failed). */
  readonly outcome: 'detached' | 'record removed';
  readonly host?: string;
}

interface InspectView {
  readonly Name: string;
  readonly Containers: Record<string, { Name: string; Host: string; HostIP?: string }>;
}

/** A host as people know it: its node name, with its address (the identity: two hosts may share a name). */
const hostOf = (c: { Host: string; HostIP?: string }): string => (c.HostIP ? `${c.Host} (${c.HostIP})` : c.Host);

/**
 * Runs DEL for this host's attachment of NAME; with `force`, also removes the endpoint record whatever
 * happened (the way to clear the endpoint of a host that died).
 */
export async function disconnect(t: ApiTarget, network: string, name: string, force: boolean): Promise<DisconnectResult> {
  const [view] = await daemonCall<InspectView[]>(t.socket, 'GET', `/v1/networks/${enc(network)}`);
  const remote = Object.values(view?.Containers ?? {}).find((c) => c.Name === name);
  const { list, weft } = await conflistOf(t, network);
  const local = networkState(weft)
    .records.list()
    .map((e) => e.record)
    .find((rec): rec is AttachmentRecord => rec?.endpoint?.name === name);
  if (local) {
    try {
      await runtimeFor(t, weft).del(list, {
        containerID: local.containerID,
        netns: existsSync(local.netns) ? local.netns : '',
        ifname: local.ifname,
        args: { K8S_POD_NAME: name },
        capabilityArgs: {},
      });
      return { outcome: 'detached' };
    } catch (e) {
      if (!force) throw e;
    }
  }
  if (!force) {
    if (remote)
      throw new WeftError(
        'WEFT_INVALID_ARGUMENT',
        `${name} is attached to ${network} on host ${hostOf(remote)}; ` +
          'disconnect it there, or remove its record with --force if that host is gone',
      );
    throw new WeftError('WEFT_NOT_FOUND', `network ${network} has no endpoint ${name}`);
  }
  await unregisterEndpoint(t.socket, network, name);
  return { outcome: 'record removed', ...(remote && { host: remote.Host }) };
}

export { DEFAULT_CNI_PATH };
