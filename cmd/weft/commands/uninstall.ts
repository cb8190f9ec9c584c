import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { daemonCall } from '../../../pkg/contract/mod.ts';
import {
  CNI_BIN_DIR,
  CNI_CONF_DIR,
  CNI_DATA_DIR,
  DOCKER_PLUGIN_SOCKET,
  FLANNEL_SUBNET_FILE,
  RUN_DIR,
  STATE_DIR,
} from '../../../pkg/defaults.ts';
import { WeftError } from '../../../pkg/errors/mod.ts';
import { listDir, readIfExists } from '../../../pkg/files/mod.ts';
import { nft } from '../../../pkg/firewall/nft-sync.ts';
import { describeRemoval, DOCKER_CONFIG, ENV_FILE, planUninstall, removePath, type Removal } from '../../../pkg/install/mod.ts';
import { Netlink } from '../../../pkg/kernel/mod.ts';

interface Args {
  'dry-run': boolean;
  purge: boolean;
  'cni-bin-dir': string;
  'cni-conf-dir': string;
  'systemd-dir': string;
  'systemd-env-file': string;
  'subnet-file': string;
  'state-dir': string;
  'run-dir': string;
  'cni-data-dir': string;
  'cache-dir': string;
  'docker-config': string;
  'docker-plugin-socket': string;
}

function nftTables(): Array<{ family: string; name: string }> {
  const r = nft(['-j', 'list', 'tables']);
  if (!r.ok) throw new WeftError('WEFT_KERNEL', `nft cannot list tables: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { nftables?: Array<{ table?: { family: string; name: string } }> };
  return (parsed.nftables ?? []).flatMap((x) => (x.table ? [{ family: x.table.family, name: x.table.name }] : []));
}

/** Whether a daemon answers on the socket: uninstalling under it would have it put everything back. */
async function daemonRunning(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  return daemonCall(socket, 'GET', '/v1/status', undefined, 2000).then(
    () => true,
    () => false,
  );
}

export const uninstall: CommandModule<object, Args> = {
  command: 'uninstall',
  describe: 'remove what weft install and the daemon put on this host (--dry-run lists it)',
  builder: (y) =>
    y
      .option('dry-run', { type: 'boolean', default: false, describe: 'list what would be removed, remove nothing' })
      .option('purge', { type: 'boolean', default: false, describe: "also remove the daemon's settings file" })
      .option('cni-bin-dir', { type: 'string', default: CNI_BIN_DIR })
      .option('cni-conf-dir', { type: 'string', default: CNI_CONF_DIR })
      .option('systemd-dir', { type: 'string', default: '/etc/systemd/system' })
      .option('systemd-env-file', { type: 'string', default: ENV_FILE })
      .option('subnet-file', { type: 'string', default: FLANNEL_SUBNET_FILE })
      .option('state-dir', { type: 'string', default: STATE_DIR })
      .option('run-dir', { type: 'string', default: RUN_DIR })
      .option('cni-data-dir', { type: 'string', default: CNI_DATA_DIR })
      .option('docker-config', { type: 'string', default: DOCKER_CONFIG, describe: "dockerd's config (weft's resolver leaves its dns)" })
      .option('docker-plugin-socket', { type: 'string', default: DOCKER_PLUGIN_SOCKET })
      .option('cache-dir', {
        type: 'string',
        default: process.getuid?.() === 0 ? '/var/cache/weft' : `${process.env.HOME ?? ''}/.cache/weft`,
      }) as never,
  handler: async (a) => {
    const socket = `${a['run-dir']}/weft.sock`;
    if (!a['dry-run'] && (await daemonRunning(socket)))
      throw new WeftError(
        'WEFT_INVALID_ARGUMENT',
        `the weft daemon is running (it answers on ${socket}) and would put back what uninstall removes; ` +
          'stop it first (systemctl disable --now weft)',
      );
    const nl = Netlink.open();
    try {
      const plan = planUninstall(
        {
          cniBinDir: a['cni-bin-dir'],
          cniConfDir: a['cni-conf-dir'],
          systemdDir: a['systemd-dir'],
          envFile: a['systemd-env-file'],
          subnetFile: a['subnet-file'],
          stateDir: a['state-dir'],
          runDir: a['run-dir'],
          cniDataDir: a['cni-data-dir'],
          cacheDir: a['cache-dir'],
          dockerConfig: a['docker-config'],
          dockerPluginSocket: a['docker-plugin-socket'],
          purge: a.purge,
        },
        {
          exists: existsSync,
          list: listDir,
          nftTables: nftTables(),
          links: await nl.listLinks(),
          read: readIfExists,
          loopbackAddrs: (await nl.listAddrs({ index: (await nl.getLink('lo')).index })).map((x) => x.cidr),
        },
      );
      if (plan.length === 0) return void process.stdout.write('nothing of weft is installed here\n');
      for (const r of plan) {
        if (!a['dry-run']) await remove(r, nl);
        process.stdout.write(`${a['dry-run'] ? 'would remove' : 'removed'} ${describeRemoval(r)}\n`);
      }
    } finally {
      nl.close();
    }
  },
};

async function remove(r: Removal, nl: Netlink): Promise<void> {
  if (r.kind === 'nft') {
    const d = nft(['delete', 'table', r.family, r.name]);
    if (!d.ok) throw new WeftError('WEFT_KERNEL', `nft cannot delete table ${r.family} ${r.name}: ${d.stderr}`);
  } else if (r.kind === 'link') {
    const link = await nl.findLink(r.name);
    if (link) await nl.deleteLink(link.index);
  } else if (r.kind === 'addr') {
    await nl.deleteAddr({ index: (await nl.getLink(r.link)).index, cidr: r.cidr });
  } else removePath(r);
}
