/**
 * `weft network create` checked before anything is written: the name (Docker's characters), the subnet
 * (a network address, not too small, overlapping no other network), the gateway, the VNI, the host-subnet
 * length, and the MTU. Every problem is reported at once; Docker's own messages where it had one.
 */
import { formatAddr, formatPrefix, networkOf, overlaps, parseAddr, parseNetwork, containsIP, lastOf } from '../netaddr/cidr.ts';
import { fail, ok, type Result } from '../netaddr/result.ts';
import { NETWORK_NAME } from './names.ts';
import type { NetworkMeta } from './schema.ts';

export interface CreateRequest {
  readonly name: string;
  readonly driver?: string | undefined;
  readonly subnet: string;
  readonly gateway?: string | undefined;
  readonly vni?: number | undefined;
  readonly hostSubnetLen?: number | undefined;
  readonly mtu?: number | undefined;
}

export interface ValidCreate {
  readonly name: string;
  readonly subnet: string;
  readonly gateway: string | undefined;
  readonly vni: number | undefined;
  readonly hostSubnetLen: number;
  readonly mtu: number | undefined;
}

export const DEFAULT_NETWORK_NAME = 'default';
export const FIRST_VNI = 256;

/** /24 per host for networks of /22 or larger (flannel's rule), else eight host subnets (prefix + 3). */
export function defaultHostSubnetLen(networkPrefix: number): number {
  return networkPrefix <= 22 ? 24 : networkPrefix + 3;
}

export interface ExistingNetwork {
  readonly name: string;
  readonly subnet: string;
}

/** A refusal says whether the name is taken (Docker's conflict) or the request is invalid. */
export type CreateCheck = Result<ValidCreate> & { readonly nameTaken?: true };

export function validateCreate(req: CreateRequest, existing: readonly ExistingNetwork[]): CreateCheck {
  const problems: string[] = [];
  let nameTaken = false;
  if (!NETWORK_NAME.test(req.name))
    problems.push(`invalid network name "${req.name}": use letters, digits, _ . - (starting with a letter or digit, at most 63)`);
  if (req.name === DEFAULT_NETWORK_NAME) problems.push(`network name "${DEFAULT_NETWORK_NAME}" is the flannel default network's`);
  else if (existing.some((e) => e.name === req.name)) {
    problems.push(`network with name ${req.name} already exists`);
    nameTaken = true;
  }
  if (req.driver !== undefined && req.driver !== 'overlay')
    problems.push(`driver "${req.driver}" is not supported; weft networks are overlay networks (-d overlay)`);
  const parsed = parseNetwork(req.subnet);
  let subnet: string | undefined;
  if (!parsed.ok) problems.push(parsed.reason);
  else if (parsed.value.family !== 4) problems.push(`subnet ${req.subnet}: weft networks are IPv4`);
  else if (parsed.value.prefix > 26)
    problems.push(`subnet ${req.subnet} is too small: a weft network needs at least a /26 (several hosts, each with its own range)`);
  else {
    subnet = formatPrefix(parsed.value);
    const clash = existing.find((e) => {
      const other = parseNetwork(e.subnet);
      return other.ok && overlaps(other.value, parsed.value);
    });
    if (clash) problems.push(`subnet ${subnet} overlaps with network ${clash.name} (${clash.subnet})`);
  }
  let hostSubnetLen = parsed.ok ? defaultHostSubnetLen(parsed.value.prefix) : 24;
  if (req.hostSubnetLen !== undefined) {
    if (!parsed.ok || !Number.isInteger(req.hostSubnetLen) || req.hostSubnetLen < parsed.value.prefix + 2 || req.hostSubnetLen > 29) {
      problems.push(
        `--host-subnet-len ${req.hostSubnetLen} must be from ${parsed.ok ? parsed.value.prefix + 2 : '(subnet prefix + 2)'} to 29`,
      );
    } else hostSubnetLen = req.hostSubnetLen;
  }
  let gateway: string | undefined;
  if (req.gateway !== undefined) {
    const g = parseAddr(req.gateway);
    if (g?.family !== 4) problems.push(`gateway ${req.gateway} is not an IPv4 address`);
    else if (parsed.ok && (!containsIP(parsed.value, 4, g.ip) || g.ip === networkOf(parsed.value).ip || g.ip === lastOf(parsed.value))) {
      problems.push(`gateway ${req.gateway} is not an assignable address of ${req.subnet}`);
    } else gateway = formatAddr(4, g!.ip);
  }
  if (req.vni !== undefined && (!Number.isInteger(req.vni) || req.vni < 1 || req.vni > 0xffffff))
    problems.push(`--vni ${req.vni} must be from 1 to 16777215`);
  if (req.mtu !== undefined && (!Number.isInteger(req.mtu) || req.mtu < 576 || req.mtu > 9000))
    problems.push(`--mtu ${req.mtu} must be from 576 to 9000`);
  if (problems.length > 0) return nameTaken ? { ...fail(problems.join('; ')), nameTaken } : fail(problems.join('; '));
  return ok({ name: req.name, subnet: subnet!, gateway, vni: req.vni, hostSubnetLen, mtu: req.mtu });
}

/** The flannel config the network's agents read: host subnets of the chosen size, the VNI, the MTU. */
export function networkConfigOf(m: Pick<NetworkMeta, 'Subnet' | 'VNI' | 'MTU' | 'HostSubnetLen'>): string {
  const backend: Record<string, unknown> = { Type: 'vxlan', VNI: m.VNI };
  // flannel's Backend.MTU is the underlay's; the device (and the containers) get 50 less.
  if (m.MTU !== undefined) backend.MTU = m.MTU + 50;
  return JSON.stringify({ Network: m.Subnet, SubnetLen: m.HostSubnetLen, Backend: backend });
}

/** The lowest VNI from FIRST_VNI up that `taken` does not hold. */
export function nextVni(taken: ReadonlySet<number>): number {
  let v = FIRST_VNI;
  while (taken.has(v)) v++;
  return v;
}
