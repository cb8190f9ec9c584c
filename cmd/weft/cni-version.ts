/**
 * VERSION alone (CNI_COMMAND=VERSION): the build makes it a bundle of a few KiB that the launchers load
 * instead of the plugin's, so the runtime's most frequent question costs no more than Node's own start-up.
 * Same reply as the dispatcher's (pkg/cni/version-reply.ts).
 */
import { processIo } from '../../pkg/cni/io.ts';
import { versionReply } from '../../pkg/cni/version-reply.ts';

const io = processIo();
io.writeStdout(versionReply(io.readStdin()));
