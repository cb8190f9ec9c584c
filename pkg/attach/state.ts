/** Where one network's plugin state lives on a host: `<dataDir>/<network key>/{attachments,ips}/`. */
import { join } from 'node:path';
import { AddressStore } from '../ipam/mod.ts';
import type { AttachConfig } from './config.ts';
import { networkKey } from './names.ts';
import { Records } from './records.ts';

export interface NetworkState {
  readonly dir: string;
  readonly records: Records;
  readonly addresses: AddressStore;
}

export function networkState(cfg: Pick<AttachConfig, 'dataDir' | 'network'>): NetworkState {
  const dir = join(cfg.dataDir, networkKey(cfg.network));
  return { dir, records: new Records(join(dir, 'attachments')), addresses: new AddressStore(join(dir, 'ips')) };
}
