import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { SUPPORTED_VERSIONS } from '../../../pkg/cni/mod.ts';
import { CNI_BIN_DIR, CNI_CONF_DIR } from '../../../pkg/defaults.ts';
import { WeftError } from '../../../pkg/errors/mod.ts';
import { readIfExists } from '../../../pkg/files/mod.ts';
import { applyInstall, DOCKER_CONFIG, ENV_FILE, isSingleExecutable, planInstall, shadowing } from '../../../pkg/install/mod.ts';

interface Args {
  'cni-bin-dir': string;
  'cni-conf-dir': string;
  network: string;
  'cni-version': string;
  'subnet-file'?: string;
  conflist?: string;
  systemd: boolean;
  'systemd-dir': string;
  'systemd-env-file': string;
  docker: boolean;
  'docker-config': string;
}

function readConflist(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new WeftError(
      'WEFT_INVALID_ARGUMENT',
      `cannot read --conflist ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

export const install: CommandModule<object, Args> = {
  command: 'install',
  describe: "install this executable as a CNI plugin and write its conflist (and, with --systemd, the daemon's unit)",
  builder: (y) =>
    y
      .option('cni-bin-dir', { type: 'string', default: CNI_BIN_DIR, describe: 'where runtimes find CNI plugins' })
      .option('cni-conf-dir', { type: 'string', default: CNI_CONF_DIR, describe: 'where runtimes read network configs' })
      .option('network', { type: 'string', default: 'cbr0', describe: 'the CNI network name in the conflist' })
      .option('cni-version', {
        type: 'string',
        default: '1.0.0',
        choices: SUPPORTED_VERSIONS as unknown as string[],
        describe: "the conflist's cniVersion (1.0.0: containerd >= 1.6, CRI-O, podman 4)",
      })
      .option('subnet-file', { type: 'string', describe: "the daemon's subnet file, if not /run/flannel/subnet.env" })
      .option('conflist', {
        type: 'string',
        describe: "install this conflist file instead of generating one (e.g. a ConfigMap's cni-conf.json)",
      })
      .option('systemd', { type: 'boolean', default: false, describe: 'also write the systemd unit and, if absent, the environment file' })
      .option('systemd-dir', { type: 'string', default: '/etc/systemd/system' })
      .option('systemd-env-file', {
        type: 'string',
        default: ENV_FILE,
        describe: "the daemon's settings file (not --env-file: Node itself takes that flag)",
      })
      .option('docker', {
        type: 'boolean',
        default: false,
        describe: "also make weft Docker's network plugin: the daemon's plugin API on, dockerd's dns at weft's resolver",
      })
      .option('docker-config', { type: 'string', default: DOCKER_CONFIG, describe: "dockerd's config file" }) as never,
  handler: (a) => {
    if (!isSingleExecutable())
      throw new WeftError(
        'WEFT_INVALID_ARGUMENT',
        'weft install copies the single executable: build it with `npm run bundle` and run dist/weft install',
      );
    const steps = planInstall(
      {
        executable: process.execPath,
        cniBinDir: a['cni-bin-dir'],
        cniConfDir: a['cni-conf-dir'],
        network: a.network,
        cniVersion: a['cni-version'],
        subnetFile: a['subnet-file'],
        ...(a.conflist !== undefined && { conflist: readConflist(a.conflist) }),
        systemdDir: a.systemd ? a['systemd-dir'] : undefined,
        envFile: a['systemd-env-file'],
        ...(a.docker && {
          docker: { systemdDir: a['systemd-dir'], configPath: a['docker-config'], configText: readIfExists(a['docker-config']) },
        }),
      },
      existsSync(join(a['cni-bin-dir'], 'portmap')),
    );
    for (const { step, done } of applyInstall(steps)) process.stdout.write(`${done.padEnd(9)} ${step.path}  (${step.what})\n`);
    if (a.conflist === undefined && !existsSync(join(a['cni-bin-dir'], 'portmap')))
      process.stdout.write(`note: no portmap plugin in ${a['cni-bin-dir']}; the conflist has no port mappings\n`);
    const before = shadowing(a['cni-conf-dir']);
    if (before.length > 0)
      process.stdout.write(
        `note: ${before.join(', ')} in ${a['cni-conf-dir']} sort${before.length === 1 ? 's' : ''} before 10-weft.conflist; ` +
          `runtimes that take the first config will use ${before.length === 1 ? 'it' : 'those'}\n`,
      );
    if (a.systemd)
      process.stdout.write(
        `next: set the etcd endpoints in ${a['systemd-env-file']}, then: systemctl daemon-reload && systemctl enable --now weft\n`,
      );
    if (a.docker)
      process.stdout.write(
        'next: systemctl daemon-reload && systemctl restart weft docker (dockerd reads its dns setting at start); ' +
          'then docker network create -d weft --ipam-driver weft --subnet ... NAME\n',
      );
  },
};
