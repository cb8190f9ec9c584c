export {
  planInstall,
  applyInstall,
  checkConflist,
  conflistFor,
  shadowing,
  CONFLIST_NAME,
  type InstallOptions,
  type InstallStep,
} from './install.ts';
export { unitText, ENV_TEXT, ENV_FILE, UNIT_NAME } from './systemd.ts';
export { isSingleExecutable, selfCommand, selfExecutable } from './self.ts';
export {
  planUninstall,
  describeRemoval,
  isWeftLink,
  removePath,
  type Removal,
  type UninstallOptions,
  type HostView,
} from './uninstall.ts';
export { withWeftDns, withoutWeftDns, dropInPath, DROP_IN_TEXT, DOCKER_CONFIG } from './docker.ts';
