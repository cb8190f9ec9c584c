/**
 * Kubernetes' runtime path with the daemon in etcd mode (issue 26): the test plays kubelet and speaks CRI to a
 * real containerd on each of three simulated hosts, whose CRI plugin runs weft through the conflist `weft
 * install` writes, with the K8S_POD_* arguments and hostPort mappings it derives from the sandbox config, and
 * tears pods down again; a second runtime handler (a RuntimeClass) puts pods on the named network RED. What
 * the runtime reports is checked against the kernel inside each pod.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containsIP, parseAddr, parsePrefix } from '../../pkg/netaddr/mod.ts';
import { criCluster } from '../helpers/containerd.ts';
import { eventually } from '../helpers/daemon.ts';
import { weftOk } from '../helpers/weft-cli.ts';
import {
  attachmentRecords,
  deletePod,
  heldAddresses,
  hostPortChains,
  hostVeths,
  kernelAddrs,
  pingIn,
  podNamespaces,
  runPod,
  tcpExchange,
  type CriPod,
} from '../helpers/cri.ts';

const inSubnet = (ip: string, cidr: string | undefined) => {
  const [net, a] = [parsePrefix(cidr ?? ''), parseAddr(ip)];
  return net.ok && a !== undefined && containsIP(net.value, a.family, a.ip);
};

describe('containerd CRI pods on weft (etcd mode)', () => {
  it('pods on three hosts: addresses from each host subnet as reported, reach across hosts and by hostPort, released on stop', async () => {
    // Handler `red` (a RuntimeClass) gets the named network RED's conflist once RED exists.
    const { c, hosts } = await criCluster('ce', { hosts: 3, handlers: { red: undefined } });
    const [h1, h2, h3] = hosts as [(typeof hosts)[0], (typeof hosts)[0], (typeof hosts)[0]];

    // A pod on each host, run as kubelet runs them; web on h1 publishes hostPort 8080 -> 80.
    const [web, p2, p3] = await Promise.all([
      runPod(h1, 'web', { hostPorts: [[8080, 80]] }),
      runPod(h2, 'client'),
      runPod(h3, 'other', { namespace: 'team-b' }),
    ]);
    for (const p of [web, p2, p3] as CriPod[]) {
      const subnet = p.host.daemon.subnetEnv().subnet;
      expect(p.status.state).toBe('SANDBOX_READY');
      expect(p.status.additionalIps).toEqual([]);
      expect(inSubnet(p.status.ip, subnet), `${p.status.ip} in ${subnet}`).toBe(true);
      // Exactly what the pod has: the runtime's report equals the kernel's global addresses in the pod.
      expect(kernelAddrs(p.netns)).toEqual([p.status.ip]);
      expect(heldAddresses(p.host)).toEqual([p.status.ip]);
    }

    // Across hosts over the overlay, both ways, and TCP.
    expect(pingIn(web.netns, p2.status.ip)).toBe(true);
    expect(pingIn(p2.netns, p3.status.ip)).toBe(true);
    expect(pingIn(p3.netns, web.status.ip)).toBe(true);
    expect(await tcpExchange(p3.netns, 7070, web.netns, p3.status.ip)).toBe(true);

    // hostPort: h2 (the node, not a pod) reaches web through h1's address, port 8080.
    expect(hostPortChains(h1)).toHaveLength(1);
    expect(await tcpExchange(web.netns, 80, h2.host.path, h1.host.ip, 8080)).toBe(true);

    // A named network through a runtime handler: containerd passes K8S_POD_NAME and K8S_POD_NAMESPACE in
    // CNI_ARGS, and the pod is registered on RED as NAME.NAMESPACE, seen from every host; its DEL unregisters it.
    weftOk(c, 1, ['network', 'create', '--subnet', '10.10.10.0/24', 'RED']);
    const redConf = join(h2.daemon.cniConfDir, 'weft-RED.conflist');
    await eventually('RED on h2', () => existsSync(redConf));
    copyFileSync(redConf, join(h2.containerd.o.handlers!.red!, '10-weft-RED.conflist'));
    const api = await eventually('containerd to load RED for handler red', () =>
      runPod(h2, 'api', { namespace: 'team-a', handler: 'red' }).catch(() => undefined),
    );
    expect(api.status.ip).toMatch(/^10\.10\.10\.\d+$/);
    expect(kernelAddrs(api.netns)).toEqual([api.status.ip]);
    const endpoints = () =>
      Object.values(
        (
          JSON.parse(weftOk(c, 3, ['network', 'inspect', 'RED'])) as Array<{ Containers: Record<string, { Name: string; Host: string }> }>
        )[0]!.Containers,
      );
    expect(endpoints()).toEqual([expect.objectContaining({ Name: 'api.team-a', Host: 'h2' })]);
    await deletePod(api);
    expect(endpoints()).toEqual([]);

    // A containerd restart (a service restart: pods and shims keep running) keeps pods as they were, reachable.
    await h1.containerd.stop();
    expect(pingIn(p2.netns, web.status.ip)).toBe(true);
    h1.containerd.start();
    await h1.containerd.ready();
    const again = await h1.containerd.cri.podSandboxStatus(web.id);
    expect(again).toMatchObject({ state: 'SANDBOX_READY', ip: web.status.ip });
    expect(pingIn(p2.netns, web.status.ip)).toBe(true);
    expect(await tcpExchange(web.netns, 80, h2.host.path, h1.host.ip, 8080)).toBe(true);

    // StopPodSandbox releases the address, the veth and the hostPort rules; the sandbox stays, not ready.
    await h1.containerd.cri.stopPodSandbox(web.id);
    expect(await h1.containerd.cri.podSandboxStatus(web.id)).toMatchObject({ state: 'SANDBOX_NOTREADY' });
    expect(heldAddresses(h1)).toEqual([]);
    expect(hostVeths(h1)).toEqual([]);
    expect(hostPortChains(h1)).toEqual([]);
    expect(pingIn(p2.netns, web.status.ip)).toBe(false);
    // A second stop is a no-op, as kubelet may send several.
    await h1.containerd.cri.stopPodSandbox(web.id);
    // RemovePodSandbox leaves nothing: no sandbox, record, address, veth or namespace.
    await h1.containerd.cri.removePodSandbox(web.id);
    expect(await h1.containerd.cri.listPodSandbox()).toEqual([]);
    expect(attachmentRecords(h1)).toEqual([]);
    expect(podNamespaces(h1)).toEqual([]);

    // A stop after weft's daemon was killed still releases: the plugin's DEL needs only its own state.
    h3.daemon.kill();
    await deletePod(p3);
    expect(heldAddresses(h3)).toEqual([]);
    expect(attachmentRecords(h3)).toEqual([]);
    expect(hostVeths(h3)).toEqual([]);
    expect(podNamespaces(h3)).toEqual([]);

    await deletePod(p2);
    expect(heldAddresses(h2)).toEqual([]);
    expect(hostVeths(h2)).toEqual([]);
  }, 120_000);

  it('30 pods started in parallel on one host get 30 distinct addresses, all released after removal', async () => {
    const { hosts } = await criCluster('cp', { hosts: 1 });
    const h = hosts[0]!;
    const pods = await Promise.all(Array.from({ length: 30 }, (_, i) => runPod(h, `burst-${i}`)));
    const ips = pods.map((p) => p.status.ip);
    expect(new Set(ips).size).toBe(30);
    const subnet = h.daemon.subnetEnv().subnet;
    for (const p of pods) {
      expect(inSubnet(p.status.ip, subnet)).toBe(true);
      expect(kernelAddrs(p.netns)).toEqual([p.status.ip]);
    }
    expect(heldAddresses(h).sort()).toEqual([...ips].sort());
    expect(hostVeths(h)).toHaveLength(30);

    await Promise.all(pods.map((p) => deletePod(p)));
    expect(await h.containerd.cri.listPodSandbox()).toEqual([]);
    expect(heldAddresses(h)).toEqual([]);
    expect(attachmentRecords(h)).toEqual([]);
    expect(hostVeths(h)).toEqual([]);
    expect(podNamespaces(h)).toEqual([]);
  }, 120_000);
});
