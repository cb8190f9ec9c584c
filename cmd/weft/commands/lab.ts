import type { Argv, CommandModule } from 'yargs';
import { WeftError } from '../../../pkg/errors/mod.ts';
import { wholeNumber } from './options.ts';

interface Common {
  dir: string | undefined;
}

const out = (l: string) => process.stdout.write(`${l}\n`);
const lab = () => import('../../../pkg/lab/mod.ts');

export const labCommand: CommandModule<object, Common> = {
  command: 'lab <command>',
  describe: 'a multi-host weft lab on this machine: etcd, hosts, networks, containers, checks and benchmarks',
  builder: (y: Argv) =>
    y
      .option('dir', { type: 'string', describe: 'the lab directory (default: $WEFT_LAB_DIR or ./lab)' })
      .command(
        'up',
        'build the lab and run the connectivity checks',
        (c) =>
          c
            .option('hosts', { type: 'string', default: '3', coerce: wholeNumber('hosts', 2, 20), describe: 'how many hosts (2-20)' })
            .option('podman', { type: 'boolean', default: true, describe: 'run container2 with podman (--no-podman: a plain namespace)' })
            .option('docker', {
              type: 'boolean',
              default: true,
              describe: 'dockerd on host 1 with weft as its network plugin: RED and container1 by docker commands (--no-docker: not)',
            })
            .option('etcd-tls', {
              type: 'boolean',
              default: false,
              describe: 'etcd with TLS and client-certificate auth (certificates made with openssl in <dir>/pki)',
            }),
        async (a) => {
          const { labUp, labDir } = await lab();
          const { checks } = await labUp({
            dir: labDir(a.dir),
            hosts: a.hosts ?? 3,
            podman: a.podman,
            docker: a.docker,
            etcdTls: a['etcd-tls'],
            out,
          });
          if (checks.some((c) => !c.ok))
            throw new WeftError(
              'WEFT_INTERNAL',
              'some lab checks failed (see the table); the lab stays up for a look: weft lab status, weft lab down',
            );
          out(`\nnext: weft lab bench  |  weft lab status  |  weft lab down${a.dir ? ` (with --dir ${a.dir})` : ''}`);
        },
      )
      .command(
        'bench',
        'measure the running lab and write report.md and report.svg',
        (c) =>
          c
            .option('rounds', {
              type: 'string',
              default: '3',
              coerce: wholeNumber('rounds', 1, 100),
              describe: 'data-path rounds (5 s of iperf3 per path each)',
            })
            .option('cycles', {
              type: 'string',
              default: '20',
              coerce: wholeNumber('cycles', 1, 10_000),
              describe: 'CNI ADD+DEL cycles per plugin',
            }),
        async (a) => {
          const { labBench, labDir, readState } = await lab();
          await labBench(readState(labDir(a.dir)), { rounds: a.rounds ?? 3, cycles: a.cycles ?? 20, out });
        },
      )
      .command(
        'status',
        'hosts, leases, networks, endpoints and containers of the running lab',
        (c) => c,
        async (a) => {
          const { labStatus, labDir, readState } = await lab();
          if (!(await labStatus(readState(labDir(a.dir)), out))) process.exitCode = 1;
        },
      )
      .command(
        'down',
        'remove everything the lab made (also after a crash; safe to run twice)',
        (c) => c,
        async (a) => {
          const { labDown, labDir } = await lab();
          if (process.getuid?.() !== 0) throw new WeftError('WEFT_INVALID_ARGUMENT', 'weft lab down needs root');
          labDown(labDir(a.dir), out);
        },
      )
      .demandCommand(1, 'name a lab command: up, bench, status, down'),
  handler: () => {},
};
