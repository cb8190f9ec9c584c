import type { CommandModule } from 'yargs';
import { version } from './version.ts';

export const commands: ReadonlyArray<CommandModule<object, never>> = [version as CommandModule<object, never>];
