/**
 * Remote hosts' leases as flanneld writes them, for the benchmarks that load a daemon with peers: lease i
 * is subnet i of 10.0.0.0/8 (skipping the first, as flannel does) on a made-up underlay address.
 */
import type { SimCluster } from '../pkg/sim/mod.ts';

export const subnet = (i: number): string => `10.${1 + Math.floor(i / 256)}.${i % 256}.0/24`;
export const mac = (i: number): string =>
  `02:bb:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:` +
  `${(i & 255).toString(16).padStart(2, '0')}:01`;
export const publicIP = (i: number) => (i % 2 === 0 ? `198.51.100.${1 + (i % 254)}` : `203.0.113.${1 + (i % 254)}`);
export const lease = (i: number): string =>
  `{"PublicIP":"${publicIP(i)}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"${mac(i)}"}}`;
export const leaseKey = (prefix: string, i: number): string => `${prefix}/subnets/${subnet(i).replace('/', '-')}`;

/** Writes leases [from, to) to the cluster's etcd, `batch` at a time. */
export async function putLeases(c: SimCluster, from: number, to: number, batch = 200): Promise<void> {
  for (let i = from; i < to; i += batch)
    await Promise.all(
      Array.from({ length: Math.min(batch, to - i) }, (_, j) => c.etcd.client.put(leaseKey(c.prefix, i + j), lease(i + j))),
    );
}
