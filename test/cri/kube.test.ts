/**
 * Kubernetes' runtime path with the daemon in Kubernetes mode (issue 26): `weft daemon --kube-subnet-mgr`
 * against the stand-in API server (pkg/sim/fake-kube.ts), each node's subnet its podCIDRs (IPv4 and IPv6), and
 * a real containerd per host whose CRI plugin runs weft's conflist. The test plays kubelet over CRI; a
 * dual-stack pod's PodSandboxStatus carries both families, exactly the pod's addresses.
 */
import { describe, expect, it } from 'vitest';
import { criCluster } from '../helpers/containerd.ts';
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
} from '../helpers/cri.ts';

describe('containerd CRI pods on weft (Kubernetes mode)', () => {
  it("dual-stack pods on three nodes: both podCIDRs' addresses reported, reach across nodes and by hostPort, released", async () => {
    const { hosts, fake } = await criCluster('ck', { hosts: 3, kube: true, ipv6: true });
    const [h1, h2, h3] = hosts as [(typeof hosts)[0], (typeof hosts)[0], (typeof hosts)[0]];
    expect(fake!.node('h1')!.metadata.annotations).toMatchObject({ 'flannel.alpha.coreos.com/public-ip': '192.0.2.1' });

    const pods = await Promise.all([
      runPod(h1, 'web', { hostPorts: [[8080, 80]] }),
      runPod(h2, 'client', { namespace: 'kube-system' }),
      runPod(h3, 'other'),
    ]);
    const [web, p2, p3] = pods as [(typeof pods)[0], (typeof pods)[0], (typeof pods)[0]];
    for (const [i, p] of pods.entries()) {
      const n = i + 1;
      // containerd prefers IPv4 (ip_pref): the IPv4 address first, the IPv6 one in additional_ips.
      expect(p.status.ip).toMatch(new RegExp(`^10\\.244\\.${n}\\.\\d+$`));
      expect(p.status.additionalIps).toHaveLength(1);
      expect(p.status.additionalIps[0]).toMatch(new RegExp(`^fd00:244:0:${n}:`));
      expect(kernelAddrs(p.netns).sort()).toEqual([...p.ips].sort());
      expect(heldAddresses(p.host).sort()).toEqual([...p.ips].sort());
    }

    // Across nodes in both families; TCP over IPv6.
    expect(pingIn(web.netns, p2.status.ip)).toBe(true);
    expect(pingIn(p2.netns, p3.status.additionalIps[0]!)).toBe(true);
    expect(pingIn(p3.netns, web.status.additionalIps[0]!)).toBe(true);
    expect(await tcpExchange(web.netns, 7070, p3.netns, web.status.additionalIps[0]!)).toBe(true);

    // hostPort from another node (h3, the node itself) through h1's address.
    expect(await tcpExchange(web.netns, 80, h3.host.path, h1.host.ip, 8080)).toBe(true);

    // Stop releases both addresses, the veth and the hostPort rules; remove leaves nothing.
    await deletePod(web);
    expect(heldAddresses(h1)).toEqual([]);
    expect(attachmentRecords(h1)).toEqual([]);
    expect(hostVeths(h1)).toEqual([]);
    expect(hostPortChains(h1)).toEqual([]);
    expect(podNamespaces(h1)).toEqual([]);
    expect(await h1.containerd.cri.listPodSandbox()).toEqual([]);
    expect(pingIn(p2.netns, web.status.ip)).toBe(false);

    await Promise.all([deletePod(p2), deletePod(p3)]);
    for (const h of [h2, h3]) {
      expect(heldAddresses(h)).toEqual([]);
      expect(hostVeths(h)).toEqual([]);
    }
  }, 120_000);
});
