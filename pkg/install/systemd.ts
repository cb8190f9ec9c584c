/**
 * The systemd unit and environment file for `weft daemon` on a plain host. deploy/systemd/ holds the same
 * text (a unit test keeps them equal) for those who install by hand or with configuration management.
 * All etcd client settings live in the environment file, as FLANNELD_* variables, which the daemon reads
 * like flanneld does (so an existing flanneld environment file works unchanged).
 */
export const UNIT_NAME = 'weft.service';
export const ENV_FILE = '/etc/weft/weft.env';

/** The unit; `envFile` is where its settings are (`weft install --systemd-env-file`). */
export function unitText(binary: string, envFile = ENV_FILE): string {
  return `[Unit]
Description=weft overlay network daemon (VXLAN over etcd, flannel-compatible)
Wants=network-online.target
After=network-online.target etcd.service

[Service]
# The daemon tells systemd it is ready (sd_notify READY=1) once its networks serve, as flanneld does.
Type=notify
NotifyAccess=main
TimeoutStartSec=300
EnvironmentFile=-${envFile}
ExecStart=${binary} daemon
# Leases survive restarts (the lease keeper reuses its subnet), so restart eagerly.
Restart=always
RestartSec=2
# The daemon keeps running containers' traffic flowing when it stops: leave the kernel state alone.
KillMode=process
TimeoutStopSec=15
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

export const ENV_TEXT = `# weft daemon settings; every flag of \`weft daemon --help\` can be set here as FLANNELD_<FLAG>
# (dashes as underscores, upper case), the way flanneld reads its environment.

# The cluster store: every host of a cluster points at the same etcd and prefix.
FLANNELD_ETCD_ENDPOINTS=http://127.0.0.1:2379
FLANNELD_ETCD_PREFIX=/coreos.com/network
#FLANNELD_ETCD_CAFILE=/etc/weft/etcd-ca.pem
#FLANNELD_ETCD_CERTFILE=/etc/weft/etcd-client.pem
#FLANNELD_ETCD_KEYFILE=/etc/weft/etcd-client-key.pem
#FLANNELD_ETCD_USERNAME=
#FLANNELD_ETCD_PASSWORD=

# The underlay interface (default: the one of the default route) and pod egress masquerading.
#FLANNELD_IFACE=eth1
FLANNELD_IP_MASQ=true

# weft's own settings.
#WEFT_NODE_NAME=
#FLANNELD_HEALTHZ_PORT=8471
`;
