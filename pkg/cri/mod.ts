export { GrpcChannel, GrpcError, GRPC_CODE } from './grpc.ts';
export { decode, ProtoWriter, read, type Fields, type WireValue } from './proto.ts';
export {
  CriClient,
  decodePodSandboxStatus,
  encodePodSandboxConfig,
  type DnsConfig,
  type NamespaceMode,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxMetadata,
  type PodSandboxStatus,
  type PortMapping,
  type RuntimeCondition,
  type SandboxState,
} from './runtime.ts';
