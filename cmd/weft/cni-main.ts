/**
 * The CNI plugin's own entry: the build makes it a separate bundle (dist/weft-cni.cjs) that the launcher loads
 * when CNI_COMMAND is set, so every runtime invocation parses only the plugin, not the daemon's etcd client.
 */
import { runPlugin } from './cni.ts';

void runPlugin().then((code) => {
  process.exitCode = code;
});
