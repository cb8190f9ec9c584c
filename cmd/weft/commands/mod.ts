import type { CommandModule } from 'yargs';
import { doctor } from './doctor.ts';
import { install } from './install.ts';
import { labCommand } from './lab.ts';
import { network } from './network.ts';
import { status } from './status.ts';
import { uninstall } from './uninstall.ts';
import { version } from './version.ts';

export const commands: ReadonlyArray<CommandModule<object, never>> = [
  version as CommandModule<object, never>,
  network as unknown as CommandModule<object, never>,
  status as unknown as CommandModule<object, never>,
  doctor as unknown as CommandModule<object, never>,
  install as unknown as CommandModule<object, never>,
  uninstall as unknown as CommandModule<object, never>,
  labCommand as unknown as CommandModule<object, never>,
];
