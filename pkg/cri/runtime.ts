/**
 * A small CRI client: the RuntimeService calls kubelet makes for a pod's network life (RunPodSandbox,
 * PodSandboxStatus, StopPodSandbox, RemovePodSandbox) plus Version, Status and ListPodSandbox, in the
 * `runtime.v1` API (containerd 1.6 serves v1 and v1alpha2; kubelet >= 1.26 speaks only v1). Messages are
 * written from the field numbers of kubernetes/cri-api pkg/apis/runtime/v1/api.proto (named beside each one)
 * and checked against Debian's containerd 1.6.20 by test/cri/. For tests, benchmarks and the lab: weft itself
 * never talks CRI.
 */
import { GrpcChannel } from './grpc.ts';
import { decode, ProtoWriter, read, type Fields } from './proto.ts';

const SERVICE = '/runtime.v1.RuntimeService';

/** PodSandboxMetadata: name = 1, uid = 2, namespace = 3, attempt = 4. */
export interface PodSandboxMetadata {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt?: number;
}

/** PortMapping: protocol = 1 (TCP 0, UDP 1, SCTP 2), container_port = 2, host_port = 3, host_ip = 4. */
export interface PortMapping {
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly hostIp?: string;
}

/** DNSConfig: servers = 1, searches = 2, options = 3. */
export interface DnsConfig {
  readonly servers?: readonly string[];
  readonly searches?: readonly string[];
  readonly options?: readonly string[];
}

/** NamespaceMode: POD 0, CONTAINER 1, NODE 2, TARGET 3. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE';
const NAMESPACE_MODE: Record<NamespaceMode, number> = { POD: 0, CONTAINER: 1, NODE: 2 };

/** PodSandboxConfig (the fields kubelet fills for a pod on the pod network). */
export interface PodSandboxConfig {
  readonly metadata: PodSandboxMetadata;
  readonly hostname?: string;
  readonly logDirectory?: string;
  readonly dnsConfig?: DnsConfig;
  readonly portMappings?: readonly PortMapping[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** LinuxPodSandboxConfig: cgroup_parent = 1, security_context = 2 (namespace_options = 1: network 1, pid 2, ipc 3). */
  readonly linux?: {
    readonly cgroupParent?: string;
    readonly namespaces?: { readonly network?: NamespaceMode; readonly pid?: NamespaceMode; readonly ipc?: NamespaceMode };
  };
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** PodSandboxStatus, with its network status (ip = 1, additional_ips = 2 of PodIP {ip = 1}) flattened. */
export interface PodSandboxStatus {
  readonly id: string;
  readonly metadata: PodSandboxMetadata;
  readonly state: SandboxState;
  /** Nanoseconds since the epoch. */
  readonly createdAt: bigint;
  /** The pod's first address (the runtime's preferred family) and the others, as the CNI result gave them. */
  readonly ip: string;
  readonly additionalIps: readonly string[];
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** With verbose: the runtime's extra information, JSON by key (containerd: `info`, with pid and runtimeSpec). */
  readonly info: Record<string, string>;
}

export interface PodSandbox {
  readonly id: string;
  readonly metadata: PodSandboxMetadata;
  readonly state: SandboxState;
  readonly createdAt: bigint;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export interface RuntimeCondition {
  readonly type: string;
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

const metadataMsg = (m: PodSandboxMetadata) =>
  new ProtoWriter().string(1, m.name).string(2, m.uid).string(3, m.namespace).uint(4, m.attempt);

function metadataOf(f: Fields | undefined): PodSandboxMetadata {
  if (!f) return { name: '', uid: '', namespace: '', attempt: 0 };
  return { name: read.string(f, 1), uid: read.string(f, 2), namespace: read.string(f, 3), attempt: Number(read.int(f, 4)) };
}

const stateOf = (f: Fields, n: number): SandboxState => (read.int(f, n) === 0n ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY');

/** RunPodSandboxRequest.config = 1 (PodSandboxConfig: metadata 1, hostname 2, log_directory 3, dns_config 4, ...). */
export function encodePodSandboxConfig(c: PodSandboxConfig): ProtoWriter {
  const w = new ProtoWriter()
    .message(1, metadataMsg(c.metadata))
    .string(2, c.hostname)
    .string(3, c.logDirectory)
    .message(
      4,
      c.dnsConfig && new ProtoWriter().strings(1, c.dnsConfig.servers).strings(2, c.dnsConfig.searches).strings(3, c.dnsConfig.options),
    )
    .messages(
      5,
      (c.portMappings ?? []).map((p) =>
        new ProtoWriter()
          .uint(1, { TCP: 0, UDP: 1, SCTP: 2 }[p.protocol ?? 'TCP'])
          .uint(2, p.containerPort)
          .uint(3, p.hostPort)
          .string(4, p.hostIp),
      ),
    )
    .map(6, c.labels)
    .map(7, c.annotations);
  if (c.linux) {
    const ns = c.linux.namespaces;
    const nsOpts =
      ns &&
      new ProtoWriter()
        .uint(1, NAMESPACE_MODE[ns.network ?? 'POD'])
        .uint(2, NAMESPACE_MODE[ns.pid ?? 'POD'])
        .uint(3, NAMESPACE_MODE[ns.ipc ?? 'POD']);
    w.message(8, new ProtoWriter().string(1, c.linux.cgroupParent).message(2, nsOpts && new ProtoWriter().message(1, nsOpts)));
  }
  return w;
}

/** PodSandboxStatusResponse: status = 1, info = 2 (map). */
export function decodePodSandboxStatus(bytes: Uint8Array): PodSandboxStatus {
  const r = decode(bytes);
  const s = read.message(r, 1);
  if (!s) throw new Error('PodSandboxStatus: the answer has no status');
  const net = read.message(s, 5);
  return {
    id: read.string(s, 1),
    metadata: metadataOf(read.message(s, 2)),
    state: stateOf(s, 3),
    createdAt: read.int(s, 4),
    ip: net ? read.string(net, 1) : '',
    additionalIps: net ? read.messages(net, 2).map((p) => read.string(p, 1)) : [],
    labels: read.map(s, 7),
    annotations: read.map(s, 8),
    info: read.map(r, 2),
  };
}

/** The runtime's CRI endpoint, as kubelet's --container-runtime-endpoint names it (a Unix socket). */
export class CriClient {
  readonly #ch: GrpcChannel;

  constructor(socketPath: string) {
    this.#ch = new GrpcChannel(socketPath);
  }

  get socketPath(): string {
    return this.#ch.socketPath;
  }

  #call(method: string, req: ProtoWriter, timeoutMs?: number): Promise<Uint8Array> {
    return this.#ch.unary(`${SERVICE}/${method}`, req.finish(), timeoutMs);
  }

  /** VersionRequest{version = 1} -> VersionResponse{version 1, runtime_name 2, runtime_version 3, runtime_api_version 4}. */
  async version(): Promise<{ version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    const r = decode(await this.#call('Version', new ProtoWriter().string(1, 'v1'), 10_000));
    return {
      version: read.string(r, 1),
      runtimeName: read.string(r, 2),
      runtimeVersion: read.string(r, 3),
      runtimeApiVersion: read.string(r, 4),
    };
  }

  /** StatusRequest{verbose = 1} -> StatusResponse{status = 1 {conditions = 1 {type 1, status 2, reason 3, message 4}}}. */
  async status(): Promise<RuntimeCondition[]> {
    const r = decode(await this.#call('Status', new ProtoWriter(), 10_000));
    const s = read.message(r, 1);
    return (s ? read.messages(s, 1) : []).map((c) => ({
      type: read.string(c, 1),
      status: read.bool(c, 2),
      reason: read.string(c, 3),
      message: read.string(c, 4),
    }));
  }

  /** RunPodSandboxRequest{config = 1, runtime_handler = 2} -> RunPodSandboxResponse{pod_sandbox_id = 1}. */
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string> {
    const req = new ProtoWriter().message(1, encodePodSandboxConfig(config)).string(2, runtimeHandler);
    const id = read.string(decode(await this.#call('RunPodSandbox', req, 120_000)), 1);
    if (!id) throw new Error('RunPodSandbox: the answer has no pod_sandbox_id');
    return id;
  }

  /** PodSandboxStatusRequest{pod_sandbox_id = 1, verbose = 2}. */
  async podSandboxStatus(id: string, verbose = false): Promise<PodSandboxStatus> {
    return decodePodSandboxStatus(await this.#call('PodSandboxStatus', new ProtoWriter().string(1, id).uint(2, verbose)));
  }

  /** StopPodSandboxRequest{pod_sandbox_id = 1}: the runtime tears the pod's network down (CNI DEL). */
  async stopPodSandbox(id: string): Promise<void> {
    await this.#call('StopPodSandbox', new ProtoWriter().string(1, id), 120_000);
  }

  /** RemovePodSandboxRequest{pod_sandbox_id = 1}. */
  async removePodSandbox(id: string): Promise<void> {
    await this.#call('RemovePodSandbox', new ProtoWriter().string(1, id), 120_000);
  }

  /**
   * ListPodSandboxRequest{filter = 1 {id 1, state 2 {state 1}, label_selector 3}} -> ListPodSandboxResponse{items = 1
   * {id 1, metadata 2, state 3, created_at 4, labels 5, annotations 6}}.
   */
  async listPodSandbox(filter: { labels?: Readonly<Record<string, string>>; state?: SandboxState } = {}): Promise<PodSandbox[]> {
    const f = new ProtoWriter()
      .message(2, filter.state && new ProtoWriter().uint(1, filter.state === 'SANDBOX_READY' ? 0 : 1))
      .map(3, filter.labels);
    const r = decode(await this.#call('ListPodSandbox', new ProtoWriter().message(1, f)));
    return read.messages(r, 1).map((p) => ({
      id: read.string(p, 1),
      metadata: metadataOf(read.message(p, 2)),
      state: stateOf(p, 3),
      createdAt: read.int(p, 4),
      labels: read.map(p, 5),
      annotations: read.map(p, 6),
    }));
  }

  close(): void {
    this.#ch.close();
  }
}
