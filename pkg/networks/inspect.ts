/**
 * `weft network ls` rows and `weft network inspect` objects, shaped like Docker's (`docker network ls`:
 * NETWORK ID, NAME, DRIVER, SCOPE; `docker network inspect`: Name, Id, Created, Scope, Driver, IPAM,
 * Containers, Options...), with the endpoints of every host, each naming its host. Pure.
 */
import type { Endpoint, NetworkMeta } from './schema.ts';
import { nth, parsePrefix, formatAddr } from '../netaddr/cidr.ts';

export interface LsRow {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly scope: string;
}

export function lsTable(rows: readonly LsRow[]): string {
  const lines = [['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...rows.map((r) => [r.id.slice(0, 12), r.name, r.driver, r.scope])];
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  return `${lines
    .map((l) =>
      l
        .map((cell, c) => (c === l.length - 1 ? cell : cell.padEnd(widths[c]! + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function firstAddress(subnet: string): string {
  const p = parsePrefix(subnet);
  return p.ok ? formatAddr(4, nth(p.value, 1n)) : '';
}

export function inspectObject(
  m: NetworkMeta,
  endpoints: readonly Endpoint[],
  extra: { mtu: number | undefined; peers: ReadonlyArray<{ Name: string; IP: string }> },
): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of endpoints) {
    containers[e.ContainerID] = {
      Name: e.Name,
      EndpointID: e.EndpointID,
      MacAddress: e.MacAddress,
      IPv4Address: e.IPv4Address,
      IPv6Address: '',
      Host: e.Host,
      HostIP: e.HostIP,
      Interface: e.Interface,
      Aliases: e.Aliases,
    };
  }
  const mtu = m.MTU ?? extra.mtu;
  return {
    Name: m.Name,
    Id: m.Id,
    Created: m.Created,
    Scope: m.Scope,
    Driver: m.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: m.Subnet, Gateway: m.Gateway ?? firstAddress(m.Subnet) }] },
    Internal: false,
    Attachable: true,
    Ingress: false,
    Containers: containers,
    Options: {
      'com.docker.network.driver.overlay.vxlanid_list': String(m.VNI),
      ...(mtu !== undefined && { 'com.docker.network.driver.mtu': String(mtu) }),
      'weft.host-subnet-len': String(m.HostSubnetLen),
    },
    Labels: {},
    Peers: extra.peers,
  };
}
