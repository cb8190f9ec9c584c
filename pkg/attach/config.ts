/**
 * The plugin's network configuration (one entry of a conflist), parsed once at the edge into a frozen value
 * with every default filled in; every problem is reported at once (house rule R8).
 *
 *   {"type": "weft", "network": "", "subnetFile": "/run/flannel/subnet.env", "dataDir": "/var/lib/cni/weft",
 *    "bridge": "cni0", "mtu": 1450, "ipMasq": false, "hairpinMode": true, "isDefaultGateway": true,
 *    "dns": {...}, "capabilities": {"ips": true, "mac": true}}
 *
 * Unknown keys are ignored (the CNI spec: plugin-specific keys pass through runtimes unchanged). Requested
 * addresses and MAC come, in order of precedence, from runtimeConfig (capabilities `ips`, `mac`), from
 * `args.cni`, and from CNI_ARGS `IP=`/`MAC=` (CONVENTIONS.md: `args` wins over CNI_ARGS).
 */
import { WeftError } from '../errors/mod.ts';
import { parseIP } from '../netaddr/ip.ts';
import { canonicalMac } from '../netaddr/mac.ts';
import { ifNameProblem } from '../kernel/ifname.ts';
import type { CniDns, GcAttachment } from '../cni/types.ts';
import { CNI_DATA_DIR, DAEMON_SOCKET } from '../defaults.ts';
import { NETWORK_NAME } from '../networks/names.ts';
import { bridgeName } from '../networks/names.ts';
import { defaultSubnetFile } from './names.ts';

export interface AttachConfig {
  /** The CNI network name (the conflist's `name`): scopes GC. */
  readonly cniNetwork: string;
  /** The weft network; "" is the flannel default network. */
  readonly network: string;
  readonly subnetFile: string;
  readonly dataDir: string;
  readonly bridge: string;
  readonly mtu: number | undefined;
  /** undefined: masquerade only when the daemon does not (FLANNEL_IPMASQ=false), as flannel's CNI does. */
  readonly ipMasq: boolean | undefined;
  readonly hairpinMode: boolean;
  readonly isDefaultGateway: boolean;
  readonly dns: CniDns | undefined;
  readonly requestedIPs: readonly string[];
  readonly requestedMac: string | undefined;
  /** The daemon's API socket (named networks register their endpoints through it). */
  readonly daemonSocket: string;
  /**
   * The container's name on a named network: from CNI_ARGS K8S_POD_NAME (with `.K8S_POD_NAMESPACE` when one
   * is given: names are unique per network, pods per namespace), as podman and Kubernetes runtimes pass it.
   */
  readonly endpointName: string | undefined;
  /** Extra DNS names on this network (capability `aliases`: {"<network>": ["name", ...]}). */
  readonly aliases: readonly string[];
  readonly prevResult: unknown;
  /** GC: the attachments the runtime still uses; undefined when the runtime sent no list. */
  readonly validAttachments: readonly GcAttachment[] | undefined;
}

export const DEFAULT_DATA_DIR = CNI_DATA_DIR;

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `lenient` (for DEL): only problems in the fields that locate state (network, bridge, paths) are errors;
 * the others fall back to their defaults.
 */
export function parseAttachConfig(raw: Obj, cniArgs: ReadonlyMap<string, string>, opts: { lenient?: boolean } = {}): AttachConfig {
  const problems: string[] = [];
  const critical: string[] = [];
  const str = (k: string, dflt: string): string => {
    const v = raw[k];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') problems.push(`"${k}" must be a string`);
    return typeof v === 'string' ? v : dflt;
  };
  const bool = (k: string, dflt: boolean | undefined): boolean | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') problems.push(`"${k}" must be true or false`);
    return typeof v === 'boolean' ? v : dflt;
  };

  const network = str('network', '');
  const named = network === '' || NETWORK_NAME.test(network);
  if (!named)
    critical.push(
      `"network" "${network}" is not a valid weft network name (letters, digits, _ . -; starting with a letter or digit; at most 63)`,
    );
  const bridge = str('bridge', bridgeName(network));
  const bridgeProblem = ifNameProblem(bridge);
  if (bridgeProblem) critical.push(`"bridge": ${bridgeProblem}`);
  // No default path from a name that cannot be one (refused above): leaseFileName throws on it.
  const subnetFile = str('subnetFile', named ? defaultSubnetFile(network) : '/');
  const dataDir = str('dataDir', DEFAULT_DATA_DIR);
  for (const [k, v] of [
    ['subnetFile', subnetFile],
    ['dataDir', dataDir],
  ] as const)
    if (!v.startsWith('/')) critical.push(`"${k}" must be an absolute path, got "${v}"`);

  let mtu: number | undefined;
  if (raw.mtu !== undefined && raw.mtu !== null) {
    if (typeof raw.mtu !== 'number' || !Number.isInteger(raw.mtu) || raw.mtu < 68 || raw.mtu > 65535)
      problems.push(`"mtu" must be an integer from 68 to 65535, got ${JSON.stringify(raw.mtu)}`);
    else mtu = raw.mtu;
  }

  const dns = readDns(raw.dns, problems);
  const runtime = isObj(raw.runtimeConfig) ? raw.runtimeConfig : {};
  const argsCni = isObj(raw.args) && isObj(raw.args.cni) ? raw.args.cni : {};
  const requestedIPs = readIPs(runtime.ips ?? argsCni.ips ?? (cniArgs.has('IP') ? cniArgs.get('IP')!.split(',') : undefined), problems);
  const macRaw = runtime.mac ?? argsCni.mac ?? cniArgs.get('MAC');
  let requestedMac: string | undefined;
  if (macRaw !== undefined && macRaw !== '') {
    requestedMac = typeof macRaw === 'string' ? canonicalMac(macRaw) : undefined;
    if (!requestedMac) problems.push(`requested MAC ${JSON.stringify(macRaw)} is not a MAC address`);
  }

  const pod = cniArgs.get('K8S_POD_NAME');
  const podNs = cniArgs.get('K8S_POD_NAMESPACE');
  const endpointName = pod ? (podNs ? `${pod}.${podNs}` : pod) : undefined;
  if (endpointName !== undefined && !NETWORK_NAME.test(endpointName))
    problems.push(`container name "${endpointName}" (from CNI_ARGS) is not a valid endpoint name`);
  const aliasMap = isObj(runtime.aliases) ? runtime.aliases : {};
  const aliasList = aliasMap[network] ?? aliasMap[typeof raw.name === 'string' ? raw.name : ''];
  const aliases = Array.isArray(aliasList) ? aliasList.filter((a): a is string => typeof a === 'string' && a !== endpointName) : [];

  const cfg: AttachConfig = {
    cniNetwork: typeof raw.name === 'string' ? raw.name : '',
    network,
    subnetFile,
    dataDir,
    bridge,
    mtu,
    ipMasq: bool('ipMasq', undefined),
    hairpinMode: bool('hairpinMode', true)!,
    isDefaultGateway: bool('isDefaultGateway', true)!,
    dns,
    requestedIPs,
    requestedMac,
    daemonSocket: str('daemonSocket', DAEMON_SOCKET),
    endpointName,
    aliases,
    prevResult: raw.prevResult,
    validAttachments: readValidAttachments(raw, problems),
  };
  const all = opts.lenient ? critical : [...critical, ...problems];
  if (all.length > 0) throw new WeftError('WEFT_INVALID_CONFIG', `invalid weft network configuration: ${all.join('; ')}`);
  return Object.freeze(cfg);
}

function readDns(v: unknown, problems: string[]): CniDns | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) {
    problems.push('"dns" must be an object');
    return undefined;
  }
  const list = (k: string): string[] | undefined => {
    const x = v[k];
    if (x === undefined || x === null) return undefined;
    if (!Array.isArray(x) || !x.every((s) => typeof s === 'string')) {
      problems.push(`"dns.${k}" must be a list of strings`);
      return undefined;
    }
    return x as string[];
  };
  const nameservers = list('nameservers');
  const search = list('search');
  const options = list('options');
  const domain = typeof v.domain === 'string' ? v.domain : undefined;
  return { ...(nameservers && { nameservers }), ...(domain && { domain }), ...(search && { search }), ...(options && { options }) };
}

function readIPs(v: unknown, problems: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    problems.push('requested "ips" must be a list of addresses');
    return [];
  }
  const out: string[] = [];
  for (const s of v as string[]) {
    const addr = s.split('/')[0]!;
    const a = parseIP(addr);
    if (!a) problems.push(`requested address "${s}" is not an IP address`);
    else if (out.some((x) => parseIP(x)!.family === a.family))
      problems.push(`more than one requested IPv${a.family} address ("${s}"); weft gives one address per family`);
    else out.push(addr);
  }
  return out;
}

function readValidAttachments(raw: Obj, problems: string[]): GcAttachment[] | undefined {
  const v = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    problems.push('"cni.dev/valid-attachments" must be a list');
    return undefined;
  }
  const out: GcAttachment[] = [];
  for (const a of v) {
    if (isObj(a) && typeof a.containerID === 'string' && typeof a.ifname === 'string')
      out.push({ containerID: a.containerID, ifname: a.ifname });
    else problems.push('each valid attachment needs "containerID" and "ifname"');
  }
  return out;
}
