/**
 * Where weft keeps things on a host by default, in one place: the daemon's flags, the CNI plugin's config,
 * the CLI and `weft install` all start from these. Pure constants (flannel-compat may import this file).
 */
/** flanneld's subnet file: the default network's lease for the CNI plugin. */
export const FLANNEL_SUBNET_FILE = '/run/flannel/subnet.env';
/** etcd prefixes: flannel's network (its schema), and weft's named networks beside it. */
export const ETCD_PREFIX = '/coreos.com/network';
export const WEFT_PREFIX = '/weft';
/** The daemon's runtime files: named networks' lease files and the API socket. */
export const RUN_DIR = '/run/weft';
export const DAEMON_SOCKET = `${RUN_DIR}/weft.sock`;
/** The daemon's persistent state (VTEP MACs). */
export const STATE_DIR = '/var/lib/weft';
/** The CNI plugin's state: attachment records and address files, per network. */
export const CNI_DATA_DIR = '/var/lib/cni/weft';
export const CNI_CONF_DIR = '/etc/cni/net.d';
export const CNI_BIN_DIR = '/opt/cni/bin';
/** Where a runtime looks for plugins: the usual directory, then Debian's. */
export const CNI_PATH: readonly string[] = [CNI_BIN_DIR, '/usr/lib/cni'];
/** Docker's plugin directory: a remote network driver named `weft` answers on weft.sock there. */
export const DOCKER_PLUGIN_SOCKET = '/run/docker/plugins/weft.sock';
export const DOCKER_HOST = 'unix:///var/run/docker.sock';
/** dockerd's configuration file (weft install --docker sets its `dns`). */
export const DOCKER_CONFIG = '/etc/docker/daemon.json';
/**
 * The link-local address weft's resolver answers Docker containers on, on every host (NodeLocal DNSCache's
 * idea): dockerd's `dns` setting points its embedded DNS here, whatever network or host the container is on.
 */
export const DOCKER_DNS_ADDRESS = '169.254.53.53';
