import type { CommandModule } from 'yargs';
import { VERSION } from '../../../pkg/version.ts';

export const version: CommandModule<object, object> = {
  command: 'version',
  describe: 'print the weft version and the Node.js runtime it runs on',
  handler: () => {
    process.stdout.write(`weft ${VERSION} (node ${process.versions.node})\n`);
  },
};
