/**
 * One CNI plugin invocation timed the way a runtime pays for it: a new process, started inside the host's
 * namespace with nsenter, the config on stdin. Throws with the plugin's output when it fails.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface TimedPlugin {
  readonly name: string;
  readonly bin: string;
  readonly conf: string;
}

export function timeCni(
  p: TimedPlugin,
  hostNs: string,
  command: 'ADD' | 'DEL' | 'VERSION',
  cid: string,
  containerNs: string,
  extraArgs: readonly string[] = [],
  env: Readonly<Record<string, string>> = {},
): number {
  const t0 = performance.now();
  const r = spawnSync('nsenter', [`--net=${hostNs}`, p.bin, ...extraArgs], {
    input: p.conf,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: cid,
      CNI_NETNS: containerNs,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      ...env,
    },
  });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${p.name} ${command} failed: ${r.stdout}${r.stderr}`);
  return t;
}

/** Debian's reference plugins doing what weft's ADD does: a bridge with a gateway, a veth, an address from a /24, a default route. */
export function referencePlugin(bridge: string, subnet: string, dataDir: string): TimedPlugin {
  return {
    name: 'bridge+host-local',
    bin: '/usr/lib/cni/bridge',
    conf: JSON.stringify({
      cniVersion: '1.0.0',
      name: 'bench',
      type: 'bridge',
      bridge,
      isGateway: true,
      mtu: 1450,
      ipam: { type: 'host-local', subnet, routes: [{ dst: '0.0.0.0/0' }], dataDir },
    }),
  };
}
