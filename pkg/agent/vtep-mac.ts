/**
 * The VTEP MAC of a network on this host, kept in the state directory so it survives restarts and reboots:
 * peers hold permanent ARP and FDB entries for it, and a changed MAC leaves them pointing at nothing until
 * they catch up (flannel's etcd mode picks a new random MAC every boot; its issues #533, #1036, #1795).
 * Order: the saved MAC; else the existing device's (taking over from a flanneld); else a new random one.
 */
import { join } from 'node:path';
import { readIfExists, writeFileAtomic } from '../files/mod.ts';
import { canonicalMac, randomMac } from '../netaddr/mac.ts';

export function vtepMacPath(stateDir: string, network: string, vni: number): string {
  return join(stateDir, 'vtep', `${network}.vni${vni}.mac`);
}

export function loadVtepMac(stateDir: string, network: string, vni: number, existingDeviceMac: string | undefined): string {
  const path = vtepMacPath(stateDir, network, vni);
  const saved = canonicalMac(readIfExists(path)?.trim() ?? '');
  if (saved) return saved;
  const mac = existingDeviceMac ?? randomMac();
  writeFileAtomic(path, `${mac}\n`, 0o644);
  return mac;
}
