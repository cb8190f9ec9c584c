import { socketOption } from './options.ts';
import type { CommandModule } from 'yargs';
import { CNI_BIN_DIR } from '../../../pkg/defaults.ts';
import type { Check } from '../../../pkg/doctor/mod.ts';
import { table } from '../../../pkg/measure/mod.ts';

interface Args {
  socket: string;
  json: boolean;
  network: string | undefined;
  probe: boolean;
  'cni-bin-dir': string;
}

/** One line per check, a fix line under each warning and failure, and a count. */
export function doctorText(checks: readonly Check[]): string {
  const rows: string[][] = [];
  for (const c of checks) {
    rows.push([c.status === 'ok' ? 'ok' : c.status.toUpperCase(), c.check, c.network ?? '', c.detail]);
    if (c.fix) rows.push(['', '', '', `fix: ${c.fix}`]);
  }
  const n = (v: string) => checks.filter((c) => c.status === v).length;
  return `${table(rows)}\n\n${n('ok')} ok, ${n('warn')} warning(s), ${n('fail')} failure(s)\n`;
}

export const doctor: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'compare what the kernel holds with what the daemon wants, and check the host; exit 1 on any failure',
  builder: (y) =>
    y
      .option('socket', socketOption)
      .option('json', { type: 'boolean', default: false, describe: 'the checks as JSON: [{check, network, status, detail, fix}]' })
      .option('network', { type: 'string', describe: 'only this network (and the host-wide checks)' })
      .option('probe', { type: 'boolean', default: false, describe: "also ping every peer's VTEP address over the overlay (loss and RTT)" })
      .option('cni-bin-dir', { type: 'string', default: CNI_BIN_DIR, describe: 'where runtimes find the weft plugin' }),
  handler: async (a) => {
    const { runDoctor } = await import('../../../pkg/doctor/mod.ts');
    const checks = await runDoctor({ socket: a.socket, cniBinDir: a['cni-bin-dir'], network: a.network, probe: a.probe });
    process.stdout.write(a.json ? `${JSON.stringify(checks, null, 2)}\n` : doctorText(checks));
    if (checks.some((c) => c.status === 'fail')) process.exitCode = 1;
  },
};
