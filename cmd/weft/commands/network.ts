import type { Argv, CommandModule } from 'yargs';
import { daemonCall } from '../../../pkg/contract/mod.ts';
import { connect, DEFAULT_CNI_PATH, disconnect, type ApiTarget } from '../attach.ts';
import { selfCommand } from '../../../pkg/install/self.ts';
import { DEFAULT_NETWORK_NAME, type LsRow } from '../../../pkg/networks/mod.ts';
import { inspectNetworks, listNetworks } from './network-views.ts';
import { readSync } from 'node:fs';
import { WeftError } from '../../../pkg/errors/mod.ts';
import { wholeNumber, socketOption } from './options.ts';
import { ofFamily } from '../../../pkg/netaddr/family.ts';

/**
 * How long `create` and `rm` wait for the daemon. A creation retries its etcd transaction against every other
 * host's at once, and a busy daemon may be applying firewall tables synchronously meanwhile (issue 28 notes):
 * with the 10 s default a creation that succeeded could be reported as failed on a loaded host.
 */
const CHANGE_TIMEOUT_MS = 30_000;

interface Common {
  socket: string;
  'cni-path': string;
}

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const enc = encodeURIComponent;

const target = (a: Common): ApiTarget => ({ socket: a.socket, cniPath: a['cni-path'].split(':').filter(Boolean), self: selfCommand() });

/** `--subnet` given once per family, as Docker takes it: the IPv4 range and, for `--ipv6`, the IPv6 one. */
function subnetsByFamily(subnets: readonly string[]): { subnet: string; subnet6: string | undefined } {
  const v6 = ofFamily(subnets, 6);
  const v4 = ofFamily(subnets, 4);

  if (v4.length > 1 || v6.length > 1)
    throw new WeftError(
      'WEFT_INVALID_ARGUMENT',
      `--subnet is given once per family (IPv4, and IPv6 with --ipv6); got ${subnets.join(', ')}`,
    );
  return { subnet: v4[0] ?? v6[0]!, subnet6: v4.length > 0 ? v6[0] : undefined };
}

export const network: CommandModule<object, Common> = {
  command: 'network',
  describe: 'manage named networks (Docker-style, global across hosts)',
  builder: (y: Argv) =>
    y
      .option('socket', socketOption)
      .option('cni-path', {
        type: 'string',
        default: process.env.CNI_PATH ?? DEFAULT_CNI_PATH.join(':'),
        describe: 'where connect/disconnect find CNI plugins (env CNI_PATH)',
      })
      .command(
        'create <name>',
        'create a network on every host; prints its ID',
        (c) =>
          names(c, 'name')
            .option('driver', { alias: 'd', type: 'string', default: 'overlay', describe: 'only "overlay"' })
            // Repeated, yargs collects it into an array (an array option would swallow the network's name).
            .option('subnet', {
              type: 'string',
              demandOption: true,
              describe: "the network's range, e.g. 10.10.10.0/24; with --ipv6 once more for its IPv6 range, e.g. fd00:70::/64",
            })
            .option('ipv6', { type: 'boolean', describe: 'dual-stack: containers get an IPv6 address from the IPv6 --subnet too' })
            .option('gateway', {
              type: 'string',
              describe: "recorded for inspect; each host's bridge is the first address of its host subnet",
            })
            .option('vni', {
              type: 'string',
              coerce: wholeNumber('vni', 1, 0xffffff),
              describe: 'VXLAN network identifier (default: the lowest free from 256)',
            })
            .option('host-subnet-len', {
              type: 'string',
              coerce: wholeNumber('host-subnet-len', 1, 32),
              describe: "prefix length of each host's subnet (default /24, or /(N+3) for a /N smaller than /22)",
            })
            .option('mtu', {
              type: 'string',
              coerce: wholeNumber('mtu', 576, 9000),
              describe: "containers' MTU (default: the underlay's minus 50)",
            }),
        async (a) => {
          const { subnet, subnet6 } = subnetsByFamily([a.subnet].flat().map(String));
          const created = await daemonCall<{ Id: string }>(
            a.socket,
            'POST',
            '/v1/networks',
            {
              name: a.name,
              driver: a.driver,
              subnet,
              ipv6: a.ipv6,
              subnet6,
              gateway: a.gateway,
              vni: a.vni,
              hostSubnetLen: a['host-subnet-len'],
              mtu: a.mtu,
            },
            CHANGE_TIMEOUT_MS,
          );
          out(created.Id);
        },
      )
      .command(
        ['ls', 'list'],
        'list networks',
        (c) =>
          c
            .option('quiet', { alias: 'q', type: 'boolean', describe: 'only IDs' })
            .option('trunc', { type: 'boolean', default: true, describe: 'shorten IDs to 12 characters (--no-trunc: full IDs)' })
            .option('format', {
              type: 'string',
              describe: 'table (the default), json (one object per line), or a Go template, e.g. "{{.Name}}\\t{{.Subnet}}"',
            })
            .option('filter', {
              alias: 'f',
              type: 'string',
              array: true,
              default: [],
              describe: 'name=, id= (any part), driver=, scope=; repeat a key for alternatives',
            }),
        (a) => listNetworks(a),
      )
      .command(
        'inspect <networks..>',
        'show networks (with the endpoints of every host) as JSON',
        (c) =>
          names(c, 'networks').option('format', {
            alias: 'f',
            type: 'string',
            describe: 'json (one object per line) or a Go template, e.g. "{{.Id}}"',
          }),
        (a) => inspectNetworks({ socket: a.socket, format: a.format, networks: a.networks as string[] }),
      )
      .command(
        ['rm <networks..>', 'remove <networks..>'],
        'remove networks (refused while they have endpoints)',
        (c) => names(c, 'networks'),
        async (a) => {
          for (const n of a.networks as string[]) {
            await daemonCall(a.socket, 'DELETE', `/v1/networks/${enc(n)}`, undefined, CHANGE_TIMEOUT_MS);
            out(n);
          }
        },
      )
      .command(
        'prune',
        'remove every named network without endpoints',
        (c) => c.option('force', { alias: 'f', type: 'boolean', default: false, describe: 'do not ask for confirmation' }),
        (a) => pruneNetworks(a.socket, a.force),
      )
      .command(
        'connect <network>',
        'attach a network namespace to a network, as a runtime would (CNI ADD)',
        (c) =>
          names(c, 'network')
            .option('netns', { type: 'string', demandOption: true, describe: 'the namespace, e.g. /proc/PID/ns/net or /run/netns/NAME' })
            .option('name', { type: 'string', demandOption: true, describe: "the container's name on the network (unique across hosts)" })
            .option('ifname', { type: 'string', default: 'eth0', describe: 'interface name inside the namespace' })
            .option('alias', { type: 'string', array: true, default: [], describe: 'more DNS names on this network' }),
        async (a) => {
          const r = await connect(target(a), {
            network: a.network as string,
            netns: a.netns,
            name: a.name,
            ifname: a.ifname,
            aliases: a.alias,
          });
          // The CNI result, as cnitool prints it: the addresses and the DNS settings for the container's resolv.conf.
          out(JSON.stringify(r, null, 2));
        },
      )
      .command(
        'disconnect <network> <name>',
        'detach a container from a network (CNI DEL)',
        (c) =>
          names(c, 'network', 'name').option('force', {
            alias: 'f',
            type: 'boolean',
            default: false,
            describe: 'also remove the endpoint record if the container is on another host (one that is gone) or DEL fails',
          }),
        async (a) => {
          const r = await disconnect(target(a), a.network as string, a.name as string, a.force);
          out(
            r.outcome === 'detached'
              ? `${a.name as string} disconnected from ${a.network as string}`
              : `${a.name as string}: endpoint record removed from ${a.network as string}${r.host ? ` (it was on ${r.host})` : ''}`,
          );
        },
      )
      // Bare `weft network` prints its commands, as `docker network` does.
      .command('$0', false, {}, () => {
        y.showHelp('log');
      }),
  handler: () => {},
};

/**
 * Positionals are names and ID prefixes, kept as typed: yargs would read an ID prefix such as "5253e7" as the
 * number 52,530,000,000 (a fresh-clone run of test/networks/cli met it).
 */
function names<T>(c: Argv<T>, ...keys: string[]): Argv<T> {
  for (const k of keys) c = c.positional(k, { type: 'string' }) as Argv<T>;
  return c;
}

/** Docker's prune: asks first unless -f (reading one line, so `yes | weft network prune` works too). */
async function pruneNetworks(socket: string, force: boolean): Promise<void> {
  if (!force) {
    process.stdout.write(
      'WARNING! This will remove all weft networks without endpoints, on every host.\nAre you sure you want to continue? [y/N] ',
    );
    if (!/^y(es)?$/i.test(readLine().trim())) return;
  }
  const rows = await daemonCall<LsRow[]>(socket, 'GET', '/v1/networks');
  const deleted: string[] = [];
  for (const r of rows.filter((x) => x.name !== DEFAULT_NETWORK_NAME)) {
    try {
      await daemonCall(socket, 'DELETE', `/v1/networks/${enc(r.id)}`, undefined, CHANGE_TIMEOUT_MS);
      deleted.push(r.name);
    } catch (e) {
      // In use (or removed meanwhile by another host's prune): not this prune's to remove.
      if (!['WEFT_ALREADY_EXISTS', 'WEFT_NOT_FOUND'].includes((e as { code?: string }).code ?? '')) throw e;
    }
  }
  // As Docker prints it, blank line included.
  if (deleted.length > 0) process.stdout.write(`Deleted Networks:\n${deleted.join('\n')}\n\n`);
}

function readLine(): string {
  const buf = Buffer.alloc(256);
  let line = '';
  for (;;) {
    let n = 0;
    try {
      n = readSync(0, buf, 0, 1, null);
    } catch {
      return line; // no stdin
    }
    if (n === 0 || buf[0] === 0x0a) return line;
    line += String.fromCharCode(buf[0]!);
  }
}
