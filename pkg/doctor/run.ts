/**
 * `weft doctor`: the daemon's desired state (from its socket; if it does not answer, from the status.json it
 * last wrote beside the socket) against what the host holds now, then, with `probe`, the data path to every
 * peer. Reads only. Needs root, as `ip` and `nft` do.
 */
import { dirname, join } from 'node:path';
import { daemonCall } from '../contract/mod.ts';
import type { DaemonStatus } from '../contract/status.ts';
import { messageOf } from '../errors/mod.ts';
import { readIfExists } from '../files/mod.ts';
import { Netlink } from '../kernel/mod.ts';
import { diagnose, type Check } from './checks.ts';
import { gatherFacts } from './facts.ts';
import { probePeers } from './probe.ts';

export interface DoctorOptions {
  readonly socket: string;
  readonly cniBinDir: string;
  readonly network?: string | undefined;
  readonly probe: boolean;
}

async function desired(socket: string): Promise<{ status: DaemonStatus | undefined; daemon: Check }> {
  try {
    const status = await daemonCall<DaemonStatus>(socket, 'GET', '/v1/status?verbose=1', undefined, 3000);
    return {
      status,
      daemon: { check: 'daemon', status: 'ok', detail: `weft ${status.version} answers on ${socket}, up ${status.uptimeSeconds} s` },
    };
  } catch (e) {
    const file = join(dirname(socket), 'status.json');
    const text = readIfExists(file);
    if (text === undefined) {
      return {
        status: undefined,
        daemon: {
          check: 'daemon',
          status: 'fail',
          detail: messageOf(e),
          fix: 'start the daemon (systemctl start weft); its log says why it stopped',
        },
      };
    }
    const status = JSON.parse(text) as DaemonStatus;
    return {
      status,
      daemon: {
        check: 'daemon',
        status: 'warn',
        detail: `${messageOf(e)}; comparing with the state it last wrote (${file}, ${status.at})`,
        fix: 'a daemon that does not answer repairs nothing: see its log, restart it',
      },
    };
  }
}

export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const { status, daemon } = await desired(o.socket);
  if (!status) return [daemon];
  const nl = Netlink.open();
  let checks: Check[];
  try {
    checks = diagnose(status, await gatherFacts(nl, status, { cniBinDir: o.cniBinDir }), { daemon, version: status.version });
  } finally {
    nl.close();
  }
  if (o.probe) checks.push(...(await probePeers(status.networks)));
  return o.network === undefined ? checks : checks.filter((c) => c.network === undefined || c.network === o.network);
}
