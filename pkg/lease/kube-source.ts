/**
 * Leases from the Kubernetes API (`--kube-subnet-mgr`), as flannel's kube subnet manager keeps them: this
 * node's subnet is its `spec.podCIDR` (assigned by the controller manager, so there is nothing to renew);
 * the node publishes its VTEP in flannel's annotations on its status; every other node carrying them is a
 * peer. The network config is a file (the ConfigMap's net-conf.json). A node deleted from the API loses
 * its entries at once; a watch that expired lists again (the client library's informer).
 */
import { readFileSync } from 'node:fs';
import { leaseAttrsOfNode, nodeAnnotations } from '../../flannel-compat/kube-annotations.ts';
import { messageOf } from '../errors/mod.ts';
import type { KubeNode, KubeNodes } from '../kube/mod.ts';
import type { Logger } from '../log/logger.ts';
import { containsPrefix, formatPrefix, parsePrefix, type Prefix } from '../netaddr/cidr.ts';
import { realClock, type Clock } from './clock.ts';
import type { HeldLease, KeeperState } from './keeper.ts';
import type { SubnetLease } from './lease.ts';
import type { AcquireSpec, LeaseSource, PeerHandlers } from './source.ts';
import type { Family } from '../netaddr/family.ts';

export interface KubeSourceOptions {
  readonly nodeName: string;
  readonly annotationPrefix: string;
  readonly netConfigPath: string;
  /** Also mark the node's NetworkUnavailable condition False once the subnet is held (flannel's default). */
  readonly setNetworkUnavailable: boolean;
  readonly retryMs?: number;
}

const RETRY_MS = 5000;

/** A node's pod range of one family (spec.podCIDRs, or the older spec.podCIDR), if it has one. */
function podCidr(node: KubeNode, family: Family): Prefix | undefined {
  for (const c of node.podCIDRs) {
    const p = parsePrefix(c);
    if (p.ok && p.value.family === family) return p.value;
  }
  return undefined;
}

const peerKey = (name: string) => `node/${name}`;

export class KubeLeaseSource implements LeaseSource {
  readonly #nodes: KubeNodes;
  readonly #o: KubeSourceOptions;
  readonly #log: Logger;
  #held: HeldLease | undefined;
  #state: KeeperState | undefined;
  readonly #clock: Clock;
  #watch: { stop(): void } | undefined;
  #stopped = false;
  #timer: { cancel(): void } | undefined;

  constructor(nodes: KubeNodes, o: KubeSourceOptions, log: Logger, clock: Clock = realClock) {
    this.#nodes = nodes;
    this.#o = o;
    this.#log = log;
    this.#clock = clock;
  }

  get configWhere(): string {
    return this.#o.netConfigPath;
  }

  get configHint(): string {
    return "mount the ConfigMap's net-conf.json there (deploy/kubernetes/weft.yaml) or pass --net-config-path";
  }

  async readConfig(): Promise<string | undefined> {
    try {
      return readFileSync(this.#o.netConfigPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  get held(): HeldLease | undefined {
    return this.#held;
  }

  get state(): KeeperState | undefined {
    return this.#state;
  }

  /** Waits for the node's podCIDR (retrying, and saying why), then publishes the annotations. */
  async acquire(s: AcquireSpec, signal: AbortSignal): Promise<HeldLease> {
    const network = parsePrefix(s.config.network);
    const network6 = s.config6 && parsePrefix(s.config6.network);
    for (;;) {
      signal.throwIfAborted();
      let problem: string;
      try {
        const node = await this.#nodes.get(this.#o.nodeName);
        const cidr = podCidr(node, 4);
        const cidr6 = podCidr(node, 6);
        if (!cidr) problem = `node ${this.#o.nodeName} pod cidr not assigned (is the controller manager run with --allocate-node-cidrs?)`;
        else if (network.ok && !containsPrefix(network.value, cidr))
          problem = `node ${this.#o.nodeName} pod cidr ${formatPrefix(cidr)} is not inside the network ${s.config.network}`;
        else if (network6 && !cidr6)
          problem =
            `node ${this.#o.nodeName} has no IPv6 pod cidr, and the network is dual-stack ` +
            '(give the controller manager an IPv6 --cluster-cidr too)';
        else if (network6?.ok && cidr6 && !containsPrefix(network6.value, cidr6))
          problem = `node ${this.#o.nodeName} IPv6 pod cidr ${formatPrefix(cidr6)} is not inside the network ${s.config6!.network}`;
        else {
          await this.#publish(node, s);
          const subnet = formatPrefix(cidr);
          const subnet6 = network6 && cidr6 ? formatPrefix(cidr6) : undefined;
          this.#held = {
            key: peerKey(this.#o.nodeName),
            subnet,
            ...(subnet6 && { subnet6 }),
            leaseId: 'kube',
            modRevision: node.resourceVersion,
            expiresAt: Infinity,
          };
          this.#state = { ok: true };
          this.#log.info('lease held', { subnet, ...(subnet6 && { subnet6 }), how: 'node podCIDR', node: this.#o.nodeName });
          return this.#held;
        }
      } catch (e) {
        problem = `cannot read or annotate node ${this.#o.nodeName} at ${this.#nodes.server}: ${messageOf(e)}`;
      }
      if (this.#state?.ok !== false || this.#state.reason !== problem)
        this.#log.warn(`${problem}; retrying every ${(this.#o.retryMs ?? RETRY_MS) / 1000} s`);
      this.#state = { ok: false, reason: problem };
      await this.#clock.sleep(this.#o.retryMs ?? RETRY_MS, signal);
    }
  }

  /** Only what differs is patched, as flannel does: a restart with the same VTEP writes nothing. */
  async #publish(node: KubeNode, s: AcquireSpec): Promise<void> {
    const want = nodeAnnotations(this.#o.annotationPrefix, {
      publicIP: s.publicIP,
      vxlan: { vni: s.vni, vtepMac: s.vtepMac },
      ...(s.config6 && s.vtepMac6 && { publicIPv6: s.publicIPv6, vxlanV6: { vni: s.vni, vtepMac: s.vtepMac6 } }),
    });
    const differs = Object.entries(want).some(([k, v]) => node.annotations[k] !== v);
    if (differs) await this.#nodes.patchStatus(this.#o.nodeName, { metadata: { annotations: want } });
    if (this.#o.setNetworkUnavailable) {
      const now = new Date().toISOString();
      await this.#nodes.patchStatus(this.#o.nodeName, {
        status: {
          conditions: [
            {
              type: 'NetworkUnavailable',
              status: 'False',
              reason: 'WeftIsUp',
              message: 'weft is running on this node',
              lastTransitionTime: now,
              lastHeartbeatTime: now,
            },
          ],
        },
      });
    }
  }

  #lease(node: KubeNode): SubnetLease | undefined {
    const attrs = leaseAttrsOfNode(this.#o.annotationPrefix, node.annotations);
    if (!attrs.ok) {
      if (!('unmanaged' in attrs)) this.#log.warn(`ignoring node ${node.name}: ${attrs.reason}`);
      return undefined;
    }
    const cidr = podCidr(node, 4);
    if (!cidr) return undefined;
    const cidr6 = podCidr(node, 6);
    return {
      key: peerKey(node.name),
      subnet: formatPrefix(cidr),
      ipv6Subnet: cidr6 && formatPrefix(cidr6),
      attrs: attrs.value,
      leaseId: 'kube',
      modRevision: node.resourceVersion,
    };
  }

  /** Resolves once nodes were listed and are watched; a failed list or watch is retried with backoff. */
  async watchPeers(h: PeerHandlers): Promise<void> {
    let backoff = 1000;
    let errored = false;
    let synced!: () => void;
    const done = new Promise<void>((r) => (synced = r));
    const w = this.#nodes.watch({
      // A node that stops qualifying (annotations removed or broken) is removed; removing an unknown peer is a no-op.
      put: (node) => {
        if (node.name === this.#o.nodeName) return;
        const l = this.#lease(node);
        if (l) h.put(l);
        else h.remove(peerKey(node.name));
      },
      remove: (name) => h.remove(peerKey(name)),
      error: (e) => onError(e),
    });
    const onError = (e: unknown) => {
      errored = true;
      if (this.#stopped) return;
      this.#log.warn(`watching nodes at ${this.#nodes.server} failed: ${messageOf(e)}; listing again in ${backoff / 1000} s`);
      this.#timer = this.#clock.timer(() => void run(), backoff);
      backoff = Math.min(backoff * 2, 30_000);
    };
    const run = async () => {
      errored = false;
      await w.start().catch(onError);
      if (!errored) {
        backoff = 1000;
        synced();
      }
    };
    this.#watch = w;
    await run();
    await done;
  }

  /** A node's podCIDR is the controller manager's to give back. */
  release(): Promise<void> {
    return Promise.resolve();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#watch?.stop();
  }
}
