/**
 * The etcd client: endpoints as flanneld takes them (`http://`, `https://`, and `unix:///path` for a local
 * socket), client TLS and basic auth, and a deadline on every unary call so a dead etcd makes calls fail
 * instead of hanging (watch streams have none: they live as long as the daemon).
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import { WeftError } from '../errors/mod.ts';

export interface EtcdOptions {
  readonly endpoints: readonly string[];
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly caFile?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly callTimeoutMs?: number;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new WeftError('WEFT_INVALID_CONFIG', `cannot read the etcd ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The cluster-store client, named here so that only pkg/store depends on the etcd library. */
export type EtcdClient = Etcd3;

export function openEtcd(o: EtcdOptions): EtcdClient {
  const tls = o.endpoints.some((e) => e.startsWith('https://')) || o.certFile !== undefined || o.caFile !== undefined;
  const timeout = o.callTimeoutMs ?? 5000;
  const options: IOptions = {
    hosts: [...o.endpoints],
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    ...(tls && {
      credentials: {
        rootCertificate: o.caFile ? read(o.caFile, 'CA file') : (undefined as unknown as Buffer),
        ...(o.keyFile && { privateKey: read(o.keyFile, 'key file') }),
        ...(o.certFile && { certChain: read(o.certFile, 'certificate file') }),
      },
    }),
    ...(o.username !== undefined && { auth: { username: o.username, password: o.password ?? '' } }),
  };
  return new Etcd3(options);
}
