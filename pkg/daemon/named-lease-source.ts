/**
 * A named network's leases in etcd, its agent served the network config its meta implies (networkConfigOf), the
 * meta having passed NetworkRecords.judge. The `config` key beside the meta is written from it at creation, so flannel's
 * readers see the network; one that says anything else (another range or VNI, Learning, a port) was written
 * past the API (issue 25): it is not served, and said once.
 */
import { EtcdLeaseSource } from '../lease/mod.ts';
import type { Logger } from '../log/logger.ts';
import { configProblem, networkConfigOf, type NetworkMeta } from '../networks/mod.ts';

export class NamedLeaseSource extends EtcdLeaseSource {
  readonly #meta: NetworkMeta;
  readonly #warn: (msg: string) => void;
  #said: string | undefined;

  constructor(store: ConstructorParameters<typeof EtcdLeaseSource>[0], log: Logger, meta: NetworkMeta) {
    super(store, log);
    this.#meta = meta;
    this.#warn = (msg) => log.warn(msg);
  }

  override async readConfig(): Promise<string | undefined> {
    const problem = configProblem(this.#meta, await super.readConfig().catch(() => undefined));
    if (problem !== undefined && problem !== this.#said) this.#warn(`ignoring the network config ${this.configWhere}: ${problem}`);
    this.#said = problem;
    return networkConfigOf(this.#meta);
  }
}
