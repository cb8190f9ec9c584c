import { describe, expect, it } from 'vitest';
import { parseDaemonFlags, type DaemonFlags } from './daemon-flags.ts';

const parse = (argv: string[], env: Record<string, string> = {}): DaemonFlags => {
  const r = parseDaemonFlags(argv, env);
  if ('help' in r || 'version' in r) throw new Error('help or version');
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};
const problem = (argv: string[], env: Record<string, string> = {}) => {
  const r = parseDaemonFlags(argv, env);
  return 'help' in r || 'version' in r || r.ok ? undefined : r.reason;
};

describe('parseDaemonFlags()', () => {
  it("has flanneld's defaults", () => {
    expect(parse([])).toMatchObject({
      etcdEndpoints: ['http://127.0.0.1:4001', 'http://127.0.0.1:2379'],
      etcdPrefix: '/coreos.com/network',
      subnetFile: '/run/flannel/subnet.env',
      subnetLeaseRenewMargin: 60,
      ipMasq: false,
      healthzIP: '0.0.0.0',
      healthzPort: 0,
      ifaces: [],
      stateDir: '/var/lib/weft',
      resyncPeriod: 30,
      startupJitter: 0,
    });
  });

  it("reads -flag, --flag, -flag=value, -flag value, booleans and repeated flags as Go's flag package does", () => {
    const f = parse([
      '-etcd-endpoints=http://192.0.2.250:2379',
      '--etcd-prefix',
      '/x/network',
      '-ip-masq',
      '--iface',
      'eth0',
      '-iface=eth1',
      '--healthz-port=8471',
      '-iptables-forward-rules=false',
    ]);
    expect(f).toMatchObject({
      etcdEndpoints: ['http://192.0.2.250:2379'],
      etcdPrefix: '/x/network',
      ipMasq: true,
      ifaces: ['eth0', 'eth1'],
      healthzPort: 8471,
      forwardRules: false,
    });
  });

  it("falls back to FLANNELD_* (and WEFT_* for weft's flags) when a flag is not given; the command line wins", () => {
    const env = {
      FLANNELD_ETCD_ENDPOINTS: 'http://e:2379',
      FLANNELD_IP_MASQ: 'true',
      FLANNELD_IFACE: 'eth0,eth1',
      WEFT_STATE_DIR: '/tmp/s',
      FLANNELD_SUBNET_FILE: '/a',
    };
    expect(parse(['--subnet-file', '/b'], env)).toMatchObject({
      etcdEndpoints: ['http://e:2379'],
      ipMasq: true,
      ifaces: ['eth0', 'eth1'],
      stateDir: '/tmp/s',
      subnetFile: '/b',
    });
  });

  it('accepts flanneld flags without effect, with a warning', () => {
    expect(parse(['--iptables-resync=5', '-v=2']).warnings).toEqual([
      '--iptables-resync has no effect in weft (flanneld; weft checks its rules every --resync-period)',
      '--v has no effect in weft (flanneld log verbosity; use --log-level)',
    ]);
  });

  it('refuses unknown and unimplemented flags and bad values, all at once, in one line', () => {
    expect(problem(['--nope', '--iface-can-reach', '1.2.3.4', '--subnet-lease-renew-margin=0', '--public-ip=x', '--ip-masq=maybe'])).toBe(
      'unknown flag --nope (see weft daemon --help); --iface-can-reach is not supported: use --iface or --iface-regex; ' +
        '--ip-masq must be true or false, got "maybe"; --subnet-lease-renew-margin must be from 1 to 1439 minutes, got 0; ' +
        '--public-ip "x" is not an IPv4 address',
    );
    expect(problem(['--etcd-prefix'])).toBe('flag --etcd-prefix needs a value');
  });

  it('answers -version and --version as flanneld does', () => {
    for (const v of ['-version', '--version']) expect(parseDaemonFlags(['--ip-masq', v], {})).toEqual({ version: true });
  });

  it('describes every flag, none running into its text', async () => {
    const { DAEMON_USAGE } = await import('./daemon-flags.ts');
    const lines = DAEMON_USAGE.split('\n').filter((l) => l.startsWith('  --'));
    for (const l of lines) expect(l, l).toMatch(/^ {2}--[a-z0-9-]+ {2,}\S/);
    const column = (l: string) => /^ {2}--[a-z0-9-]+ +/.exec(l)![0].length;
    expect(new Set(lines.map(column)).size).toBe(1);
    expect(lines.some((l) => l.startsWith('  --version '))).toBe(true);
  });

  it('asks for help on -h, -help and --help', () => {
    for (const h of ['-h', '-help', '--help']) expect(parseDaemonFlags([h], {})).toEqual({ help: true });
  });
});
