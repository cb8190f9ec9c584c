/**
 * Where one network's attachment state lives on a host: `<dataDir>/<network key>/{attachments,ips}/`. The
 * CNI plugin writes it; the daemon reads it (to keep endpoint records, bridge ports and the plugin's rules)
 * and releases what an earlier boot left.
 */
import { join } from 'node:path';
import { AddressStore } from '../ipam/mod.ts';
import { networkKey } from '../networks/names.ts';
import { Records } from './records.ts';

export interface NetworkState {
  readonly dir: string;
  readonly records: Records;
  readonly addresses: AddressStore;
}

export function networkState(cfg: { readonly dataDir: string; readonly network: string }): NetworkState {
  const dir = join(cfg.dataDir, networkKey(cfg.network));
  return { dir, records: new Records(join(dir, 'attachments')), addresses: new AddressStore(join(dir, 'ips')) };
}
