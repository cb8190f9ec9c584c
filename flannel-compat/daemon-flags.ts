/**
 * `weft daemon`'s flags: flanneld's names, defaults and meanings (flannel main.go), so weft can replace flanneld
 * in an existing unit file, plus weft's own. Parsed as Go's flag package parses them: `-name` or `--name`,
 * `-name=value` or `-name value`, booleans as `-name` or `-name=false`; a flag not on the command line falls
 * back to its `FLANNELD_<NAME>` environment variable (flannel's flagutil.SetFlagsFromEnv), and weft's own
 * flags to `WEFT_<NAME>` as well. flanneld flags weft has no use for are accepted with a warning; flags weft
 * does not implement are refused with what to use instead.
 */
import { fail, ok, type Result } from '../pkg/netaddr/result.ts';
import { parseIP } from '../pkg/netaddr/ip.ts';
import {
  CNI_CONF_DIR,
  CNI_DATA_DIR,
  DOCKER_DNS_ADDRESS,
  DOCKER_HOST,
  DOCKER_PLUGIN_SOCKET,
  ETCD_PREFIX,
  FLANNEL_SUBNET_FILE,
  RUN_DIR,
  STATE_DIR,
  WEFT_PREFIX,
} from '../pkg/defaults.ts';

export interface DaemonFlags {
  readonly etcdEndpoints: readonly string[];
  readonly etcdPrefix: string;
  readonly etcdKeyFile: string | undefined;
  readonly etcdCertFile: string | undefined;
  readonly etcdCAFile: string | undefined;
  readonly etcdUsername: string | undefined;
  readonly etcdPassword: string | undefined;
  readonly ifaces: readonly string[];
  readonly ifaceRegexes: readonly string[];
  readonly publicIP: string | undefined;
  readonly publicIPv6: string | undefined;
  readonly subnetFile: string;
  /** Minutes before expiry to renew the lease. */
  readonly subnetLeaseRenewMargin: number;
  /** Seconds an etcd lease on a new subnet lasts (flanneld: always 24 h). */
  readonly subnetLeaseTtl: number;
  readonly ipMasq: boolean;
  readonly ipMasqFullyRandom: boolean;
  readonly forwardRules: boolean;
  readonly healthzIP: string;
  /** 0 disables the health server (flanneld's default). */
  readonly healthzPort: number;
  readonly kubeSubnetMgr: boolean;
  readonly kubeApiUrl: string | undefined;
  readonly kubeconfigFile: string | undefined;
  readonly kubeAnnotationPrefix: string;
  readonly netConfigPath: string;
  readonly setNodeNetworkUnavailable: boolean;
  readonly stateDir: string;
  readonly runDir: string;
  readonly weftPrefix: string;
  /** This host's name in endpoint records; undefined: $NODE_NAME or the host name. */
  readonly nodeName: string | undefined;
  /** Where named networks' conflists are written; "" to write none. */
  readonly cniConfDir: string;
  readonly cniDataDir: string;
  readonly dns: boolean;
  /** Serve Docker's plugin API (network driver and IPAM `weft`) and mirror weft networks into the local Docker. */
  readonly docker: boolean;
  readonly dockerPluginSocket: string;
  /** The local Docker Engine API, `unix://PATH`. */
  readonly dockerHost: string;
  /** The link-local address of the resolver for Docker containers; "" for none. */
  readonly dockerDns: string;
  readonly resyncPeriod: number;
  /** Seconds: before its first etcd request the daemon waits a random time up to this (0: none). */
  readonly startupJitter: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'text' | 'json';
  /** What was accepted but has no effect in weft. */
  readonly warnings: readonly string[];
}

type Kind = 'string' | 'bool' | 'int' | 'list';
interface Spec {
  readonly name: string;
  readonly kind: Kind;
  readonly key: keyof DaemonFlags | undefined;
  readonly dflt: string | number | boolean | readonly string[] | undefined;
  readonly help: string;
  /** weft's own flag: also read from WEFT_<NAME>. */
  readonly weft?: boolean;
}

const FLAGS: readonly Spec[] = [
  {
    name: 'etcd-endpoints',
    kind: 'string',
    key: 'etcdEndpoints',
    dflt: 'http://127.0.0.1:4001,http://127.0.0.1:2379',
    help: 'comma-separated etcd endpoints',
  },
  { name: 'etcd-prefix', kind: 'string', key: 'etcdPrefix', dflt: ETCD_PREFIX, help: 'etcd prefix of the flannel default network' },
  { name: 'etcd-keyfile', kind: 'string', key: 'etcdKeyFile', dflt: undefined, help: 'TLS client key for etcd' },
  { name: 'etcd-certfile', kind: 'string', key: 'etcdCertFile', dflt: undefined, help: 'TLS client certificate for etcd' },
  { name: 'etcd-cafile', kind: 'string', key: 'etcdCAFile', dflt: undefined, help: 'CA that signed the etcd server certificate' },
  { name: 'etcd-username', kind: 'string', key: 'etcdUsername', dflt: undefined, help: 'etcd user (basic auth)' },
  { name: 'etcd-password', kind: 'string', key: 'etcdPassword', dflt: undefined, help: 'etcd password' },
  {
    name: 'iface',
    kind: 'list',
    key: 'ifaces',
    dflt: [],
    help: "interface (name or address) for the overlay; repeatable, first found wins; default: the default route's",
  },
  { name: 'iface-regex', kind: 'list', key: 'ifaceRegexes', dflt: [], help: 'regex on interface addresses, then names; repeatable' },
  {
    name: 'public-ip',
    kind: 'string',
    key: 'publicIP',
    dflt: undefined,
    help: "address other hosts reach this one at (default: the interface's)",
  },
  {
    name: 'public-ipv6',
    kind: 'string',
    key: 'publicIPv6',
    dflt: undefined,
    help: "IPv6 address other hosts reach this one at, for dual-stack networks (default: the interface's)",
  },
  {
    name: 'subnet-file',
    kind: 'string',
    key: 'subnetFile',
    dflt: FLANNEL_SUBNET_FILE,
    help: "where to write the host's lease (the CNI plugin reads it)",
  },
  {
    name: 'subnet-lease-renew-margin',
    kind: 'int',
    key: 'subnetLeaseRenewMargin',
    dflt: 60,
    help: 'minutes before expiry to renew the lease (1-1439)',
  },
  {
    name: 'subnet-lease-ttl',
    kind: 'int',
    key: 'subnetLeaseTtl',
    dflt: 86400,
    help: "seconds a new lease lasts without renewal; a dead host's subnet frees after this",
    weft: true,
  },
  { name: 'ip-masq', kind: 'bool', key: 'ipMasq', dflt: false, help: 'masquerade traffic leaving the cluster network' },
  {
    name: 'ip-masq-fully-random-disable',
    kind: 'bool',
    key: undefined,
    dflt: false,
    help: 'do not use fully random source ports when masquerading',
  },
  {
    name: 'iptables-forward-rules',
    kind: 'bool',
    key: 'forwardRules',
    dflt: true,
    help: 'accept forwarded traffic of the cluster network',
  },
  { name: 'healthz-ip', kind: 'string', key: 'healthzIP', dflt: '0.0.0.0', help: 'address of /healthz and /readyz' },
  { name: 'healthz-port', kind: 'int', key: 'healthzPort', dflt: 0, help: 'port of /healthz and /readyz (0: off)' },
  {
    name: 'kube-subnet-mgr',
    kind: 'bool',
    key: 'kubeSubnetMgr',
    dflt: false,
    help: 'take the subnet from the Kubernetes Node (podCIDR) instead of etcd',
  },
  { name: 'kube-api-url', kind: 'string', key: 'kubeApiUrl', dflt: undefined, help: 'Kubernetes API server URL (outside a cluster)' },
  { name: 'kubeconfig-file', kind: 'string', key: 'kubeconfigFile', dflt: undefined, help: 'kubeconfig (outside a cluster)' },
  {
    name: 'kube-annotation-prefix',
    kind: 'string',
    key: 'kubeAnnotationPrefix',
    dflt: 'flannel.alpha.coreos.com',
    help: 'prefix of the Node annotations',
  },
  {
    name: 'net-config-path',
    kind: 'string',
    key: 'netConfigPath',
    dflt: '/etc/kube-flannel/net-conf.json',
    help: 'network config file (Kubernetes mode)',
  },
  { name: 'state-dir', kind: 'string', key: 'stateDir', dflt: STATE_DIR, help: "weft's persistent state (VTEP MACs)", weft: true },
  {
    name: 'run-dir',
    kind: 'string',
    key: 'runDir',
    dflt: RUN_DIR,
    help: "weft's runtime files (lease files of named networks, the daemon socket)",
    weft: true,
  },
  { name: 'weft-prefix', kind: 'string', key: 'weftPrefix', dflt: WEFT_PREFIX, help: "etcd prefix of weft's named networks", weft: true },
  {
    name: 'node-name',
    kind: 'string',
    key: 'nodeName',
    dflt: undefined,
    help: "this host's name in endpoint records (default: $NODE_NAME or the host name)",
    weft: true,
  },
  {
    name: 'cni-conf-dir',
    kind: 'string',
    key: 'cniConfDir',
    dflt: CNI_CONF_DIR,
    help: 'where named networks\' conflists are written ("" for none)',
    weft: true,
  },
  {
    name: 'cni-data-dir',
    kind: 'string',
    key: 'cniDataDir',
    dflt: CNI_DATA_DIR,
    help: "the CNI plugin's state (named networks' conflists point at it)",
    weft: true,
  },
  { name: 'dns', kind: 'bool', key: 'dns', dflt: true, help: "answer containers' DNS queries for names on their networks", weft: true },
  {
    name: 'docker',
    kind: 'bool',
    key: 'docker',
    dflt: false,
    help: "serve Docker's plugin API (docker network create -d weft)",
    weft: true,
  },
  {
    name: 'docker-plugin-socket',
    kind: 'string',
    key: 'dockerPluginSocket',
    dflt: DOCKER_PLUGIN_SOCKET,
    help: "where Docker finds the plugin (its plugin directory; the file's name is the driver's)",
    weft: true,
  },
  {
    name: 'docker-host',
    kind: 'string',
    key: 'dockerHost',
    dflt: DOCKER_HOST,
    help: 'the local Docker Engine API (unix://PATH)',
    weft: true,
  },
  {
    name: 'docker-dns',
    kind: 'string',
    key: 'dockerDns',
    dflt: DOCKER_DNS_ADDRESS,
    help: 'link-local address of the resolver Docker\'s embedded DNS forwards to ("" for none)',
    weft: true,
  },
  {
    name: 'resync-period',
    kind: 'int',
    key: 'resyncPeriod',
    dflt: 30,
    help: 'seconds between full comparisons of the kernel with etcd',
    weft: true,
  },
  {
    name: 'startup-jitter',
    kind: 'int',
    key: 'startupJitter',
    dflt: 0,
    help: 'seconds: wait a random time up to this before the first etcd request, so hosts restarted together spread out',
    weft: true,
  },
  { name: 'log-level', kind: 'string', key: 'logLevel', dflt: 'info', help: 'debug, info, warn or error', weft: true },
  {
    name: 'log-format',
    kind: 'string',
    key: 'logFormat',
    dflt: 'text',
    help: 'text (one line per event) or json (one object per line)',
    weft: true,
  },
  // flanneld flags that have no effect in weft: accepted so unit files keep working.
  { name: 'iptables-resync', kind: 'int', key: undefined, dflt: 5, help: '(flanneld; weft checks its rules every --resync-period)' },
  { name: 'v', kind: 'int', key: undefined, dflt: 0, help: '(flanneld log verbosity; use --log-level)' },
  {
    name: 'set-node-network-unavailable',
    kind: 'bool',
    key: 'setNodeNetworkUnavailable',
    dflt: true,
    help: "mark the Node's NetworkUnavailable condition False once serving (Kubernetes mode)",
  },
];

const REFUSED: Record<string, string> = {
  'iface-can-reach': 'use --iface or --iface-regex',
  'ip-blackhole-route': 'not implemented by weft',
};

// Every flag with its description, in a column wide enough for the longest name.
const NAME_WIDTH = Math.max(...FLAGS.map((f) => f.name.length)) + 2;
const usageLine = (name: string, help: string) => `  --${name.padEnd(NAME_WIDTH)}${help}`;

export const DAEMON_USAGE = [
  'Usage: weft daemon [flags]   (flanneld flags; -flag and --flag both work; FLANNELD_<FLAG> env fallback)',
  '',
  ...FLAGS.map((f) =>
    usageLine(f.name, `${f.help}${f.dflt !== undefined && f.kind !== 'list' && f.key ? ` (default ${JSON.stringify(f.dflt)})` : ''}`),
  ),
  usageLine('version', "print weft's version and exit"),
  usageLine('help', 'print this and exit'),
].join('\n');

const envName = (prefix: string, flag: string) => `${prefix}_${flag.toUpperCase().replace(/-/g, '_')}`;

export function parseDaemonFlags(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Result<DaemonFlags> | { readonly help: true } | { readonly version: true } {
  const given = new Map<string, string[]>();
  const problems: string[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help' || arg === '-help') return { help: true };
    if (arg === '--version' || arg === '-version') return { version: true };
    const m = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      problems.push(`unexpected argument "${arg}" (flags start with - or --)`);
      continue;
    }
    const name = m[1]!;
    if (REFUSED[name]) {
      problems.push(`--${name} is not supported: ${REFUSED[name]}`);
      if (m[2] === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++;
      continue;
    }
    const spec = FLAGS.find((f) => f.name === name);
    if (!spec) {
      problems.push(`unknown flag --${name} (see weft daemon --help)`);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else if (i + 1 < argv.length) value = argv[++i]!;
      else {
        problems.push(`flag --${name} needs a value`);
        continue;
      }
    }
    given.set(name, [...(given.get(name) ?? []), value]);
  }

  const out: Record<string, unknown> = {};
  for (const spec of FLAGS) {
    let values = given.get(spec.name);
    if (!values) {
      const fromEnv = env[envName('FLANNELD', spec.name)] ?? (spec.weft ? env[envName('WEFT', spec.name)] : undefined);
      if (fromEnv !== undefined) values = spec.kind === 'list' ? fromEnv.split(',').filter(Boolean) : [fromEnv];
    }
    if (values && !spec.key) warnings.push(`--${spec.name} has no effect in weft${spec.help.startsWith('(') ? ` ${spec.help}` : ''}`);
    if (!spec.key) continue;
    if (!values) {
      out[spec.key] = spec.dflt;
      continue;
    }
    const last = values[values.length - 1]!;
    switch (spec.kind) {
      case 'list':
        out[spec.key] = values.flatMap((v) => v.split(',')).filter(Boolean);
        break;
      case 'bool':
        if (!/^(1|0|t|f|true|false|TRUE|FALSE|True|False)$/.test(last))
          problems.push(`--${spec.name} must be true or false, got "${last}"`);
        out[spec.key] = /^(1|t|true)$/i.test(last);
        break;
      case 'int':
        if (!/^-?\d+$/.test(last)) problems.push(`--${spec.name} must be a whole number, got "${last}"`);
        out[spec.key] = Number(last);
        break;
      default:
        out[spec.key] = last;
    }
  }
  out.etcdEndpoints = String(out.etcdEndpoints)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if ((out.etcdEndpoints as string[]).length === 0) problems.push('--etcd-endpoints is empty');
  if (!String(out.dockerHost).startsWith('unix://')) problems.push(`--docker-host must be unix://PATH, got "${String(out.dockerHost)}"`);
  const dockerDns = String(out.dockerDns);
  if (dockerDns !== '' && parseIP(dockerDns)?.family !== 4) problems.push(`--docker-dns must be an IPv4 address or "", got "${dockerDns}"`);
  const margin = out.subnetLeaseRenewMargin as number;
  if (margin < 1 || margin > 1439) problems.push(`--subnet-lease-renew-margin must be from 1 to 1439 minutes, got ${margin}`);
  const ttl = out.subnetLeaseTtl as number;
  // A margin as long as the TTL is taken as half the TTL by the lease keeper (a short TTL in tests, say).
  if (ttl < 10) problems.push(`--subnet-lease-ttl must be at least 10 seconds, got ${ttl}`);
  const port = out.healthzPort as number;
  if (port < 0 || port > 65535) problems.push(`--healthz-port must be from 0 to 65535, got ${port}`);
  if (out.publicIP !== undefined && parseIP(out.publicIP as string)?.family !== 4)
    problems.push(`--public-ip "${String(out.publicIP)}" is not an IPv4 address`);
  if (out.publicIPv6 !== undefined && parseIP(out.publicIPv6 as string)?.family !== 6)
    problems.push(`--public-ipv6 "${String(out.publicIPv6)}" is not an IPv6 address`);
  if ((out.resyncPeriod as number) < 1) problems.push('--resync-period must be at least 1 second');
  if ((out.startupJitter as number) < 0) problems.push('--startup-jitter must be 0 or more seconds');
  if (!['debug', 'info', 'warn', 'error'].includes(out.logLevel as string))
    problems.push(`--log-level must be debug, info, warn or error, got "${String(out.logLevel)}"`);
  if (!['text', 'json'].includes(out.logFormat as string))
    problems.push(`--log-format must be text or json, got "${String(out.logFormat)}"`);
  for (const re of out.ifaceRegexes as string[]) {
    try {
      new RegExp(re);
    } catch {
      problems.push(`--iface-regex "${re}" is not a regular expression`);
    }
  }
  if (problems.length > 0) return fail(problems.join('; '));
  out.ipMasqFullyRandom = !(given.has('ip-masq-fully-random-disable') || env.FLANNELD_IP_MASQ_FULLY_RANDOM_DISABLE === 'true');
  out.warnings = warnings;
  return ok(out as unknown as DaemonFlags);
}
