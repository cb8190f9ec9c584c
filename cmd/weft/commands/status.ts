import { socketOption } from './options.ts';
import type { CommandModule } from 'yargs';
import { daemonCall } from '../../../pkg/contract/mod.ts';
import type { DaemonStatus } from '../../../pkg/contract/status.ts';
import { statusText } from '../status-view.ts';

interface Args {
  socket: string;
  json: boolean;
  verbose: boolean;
}

export const status: CommandModule<object, Args> = {
  command: 'status',
  describe: 'what the local daemon is doing: etcd, every network, its lease, peers, readiness and repairs',
  builder: (y) =>
    y
      .option('socket', socketOption)
      .option('json', { type: 'boolean', default: false, describe: 'the status document as JSON (fields documented in docs/operating.md)' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: "each peer's subnet, public IP and VTEP MAC" }),
  handler: async (a) => {
    const d = await daemonCall<DaemonStatus>(a.socket, 'GET', `/v1/status${a.verbose ? '?verbose=1' : ''}`);
    process.stdout.write(a.json ? `${JSON.stringify(d, null, 2)}\n` : statusText(d, a.verbose));
  },
};
