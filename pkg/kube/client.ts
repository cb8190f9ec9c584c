/**
 * The Kubernetes API boundary: the only module that loads @kubernetes/client-node. It offers what the
 * subnet manager needs of Nodes (get, patch status, list-then-watch) over plain data, so nothing else
 * depends on the library's types. In a cluster it uses the pod's service account; outside, a kubeconfig
 * (--kubeconfig-file, else $KUBECONFIG or ~/.kube/config), with --kube-api-url overriding the server.
 */
import { CoreV1Api, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';

export interface KubeNode {
  readonly name: string;
  readonly resourceVersion: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly podCIDRs: readonly string[];
}

export interface KubeOptions {
  readonly kubeconfigFile: string | undefined;
  readonly apiUrl: string | undefined;
}

export interface NodeWatchHandlers {
  put(node: KubeNode): void;
  remove(name: string): void;
  error(e: unknown): void;
}

const toNode = (n: V1Node): KubeNode => ({
  name: n.metadata?.name ?? '',
  resourceVersion: n.metadata?.resourceVersion ?? '',
  annotations: n.metadata?.annotations ?? {},
  podCIDRs: n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [],
});

export class KubeNodes {
  readonly #kc: KubeConfig;
  readonly #api: CoreV1Api;

  constructor(o: KubeOptions) {
    const kc = new KubeConfig();
    if (o.kubeconfigFile) kc.loadFromFile(o.kubeconfigFile);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
    if (o.apiUrl) {
      const cluster = kc.getCurrentCluster();
      kc.loadFromOptions({
        clusters: [{ ...(cluster ?? { name: 'weft', skipTLSVerify: false }), server: o.apiUrl }],
        users: kc.getUsers(),
        contexts: kc.getContexts(),
        currentContext: kc.getCurrentContext(),
      });
    }
    this.#kc = kc;
    this.#api = kc.makeApiClient(CoreV1Api);
  }

  get server(): string {
    return this.#kc.getCurrentCluster()?.server ?? '(none)';
  }

  async get(name: string): Promise<KubeNode> {
    return toNode(await this.#api.readNode({ name }));
  }

  /** A strategic-merge patch of the node's status subresource (annotations, conditions), as flannel sends it. */
  async patchStatus(name: string, body: object): Promise<void> {
    await this.#api.patchNodeStatus({ name, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  }

  /** List then watch every node (bookmarks asked for; a 410 lists again); start() resolves once listed and watching. */
  watch(h: NodeWatchHandlers): { start(): Promise<void>; stop(): void } {
    const informer = makeInformer(this.#kc, '/api/v1/nodes?allowWatchBookmarks=true', () => this.#api.listNode());
    informer.on('add', (n: V1Node) => h.put(toNode(n)));
    informer.on('update', (n: V1Node) => h.put(toNode(n)));
    informer.on('delete', (n: V1Node) => h.remove(n.metadata?.name ?? ''));
    informer.on('error', (e: unknown) => h.error(e));
    return { start: () => informer.start(), stop: () => void informer.stop() };
  }
}
