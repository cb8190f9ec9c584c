/**
 * `weft network inspect` objects, shaped like Docker's (Name, Id, Created, Scope, Driver, IPAM, Containers,
 * Options...), with the endpoints of every host, each naming its host. Pure.
 */
import { rangesOf, type Endpoint, type NetworkMeta } from './schema.ts';
import { nth, parsePrefix, formatAddr } from '../netaddr/cidr.ts';

export function firstAddress(subnet: string): string {
  const p = parsePrefix(subnet);
  return p.ok ? formatAddr(p.value.family, nth(p.value, 1n)) : '';
}

/** An address with the network's prefix length, as Docker shows it (the plugin records its host subnet's). */
export function withNetworkPrefix(address: string, network: string): string {
  const prefix = network.split('/')[1];
  return address && prefix ? `${address.split('/')[0]}/${prefix}` : address;
}

/** A host of the network: its subnet (the lease's), public address, and the gateway its containers use. */
export interface InspectPeer {
  readonly Name: string;
  readonly IP: string;
  readonly Gateway: string;
}

export const inspectPeer = (subnet: string, ip: string): InspectPeer => ({ Name: subnet, IP: ip, Gateway: firstAddress(subnet) });

export function inspectObject(
  m: NetworkMeta,
  endpoints: readonly Endpoint[],
  extra: { mtu: number | undefined; peers: readonly InspectPeer[] },
): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  const range6 = rangesOf(m)[6];

  for (const e of endpoints) {
    containers[e.ContainerID] = {
      Name: e.Name,
      EndpointID: e.EndpointID,
      MacAddress: e.MacAddress,
      IPv4Address: withNetworkPrefix(e.IPv4Address, m.Subnet),
      IPv6Address: e.IPv6Address && range6 ? withNetworkPrefix(e.IPv6Address, range6) : '',
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
    EnableIPv6: range6 !== undefined,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: [
        { Subnet: m.Subnet, Gateway: m.Gateway ?? firstAddress(m.Subnet) },
        ...(m.SubnetV6 ? [{ Subnet: m.SubnetV6, Gateway: firstAddress(m.SubnetV6) }] : []),
      ],
    },
    Internal: false,
    Attachable: true,
    Ingress: false,
    Containers: containers,
    Options: {
      'com.docker.network.driver.overlay.vxlanid_list': String(m.VNI),
      ...(mtu !== undefined && { 'com.docker.network.driver.mtu': String(mtu) }),
      'weft.host-subnet-len': String(m.HostSubnetLen),
      ...(m.HostSubnetLenV6 !== undefined && { 'weft.host-subnet-len-v6': String(m.HostSubnetLenV6) }),
    },
    Labels: {},
    Peers: extra.peers,
  };
}

/**
 * The flannel default network (no record in etcd of its own): its range, this host's gateway, and every host
 * holding a lease. Its containers have no name records, so Containers is empty.
 */
export function defaultInspectObject(d: {
  id: string;
  network: string;
  gateway: string | undefined;
  mtu: number | undefined;
  peers: readonly InspectPeer[];
}): Record<string, unknown> {
  return {
    Name: 'default',
    Id: d.id,
    Created: '',
    Scope: 'global',
    Driver: 'overlay',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: d.network, ...(d.gateway && { Gateway: d.gateway }) }] },
    Internal: false,
    Attachable: true,
    Ingress: false,
    Containers: {},
    Options: d.mtu === undefined ? {} : { 'com.docker.network.driver.mtu': String(d.mtu) },
    Labels: {},
    Peers: d.peers,
  };
}
