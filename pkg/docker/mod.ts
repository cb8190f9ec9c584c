/**
 * weft's Docker side, started by the daemon with `--docker`: the plugin API on Docker's plugin socket, the
 * mirror of weft networks into the local Docker, and the link-local resolver for Docker containers.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { DockerStatus } from '../contract/status.ts';
import type { DirectoryEntry } from '../dns/mod.ts';
import type { Netlink } from '../kernel/mod.ts';
import type { Logger } from '../log/logger.ts';
import { DockerEngine } from './engine.ts';
import { Mirror } from './mirror.ts';
import { DockerPlugin, type WeftNetworks } from './plugin.ts';
import { LinkLocalResolver } from './resolver.ts';
import { startPluginServer } from './server.ts';

export { planMirror, type MirrorAction } from './mirror.ts';

/** How often the mirror and the resolver are checked when nothing tells of a change. */
const PASS_MS = 3000;

export interface DockerSideOptions {
  readonly socket: string;
  readonly dockerHost: string;
  /** "" for no resolver. */
  readonly dnsAddress: string;
}

export interface DockerSide {
  /** weft's networks changed: bring Docker's list in line now. */
  readonly changed: () => void;
  readonly status: () => DockerStatus;
  readonly stop: () => Promise<void>;
}

export async function startDockerSide(
  o: DockerSideOptions,
  deps: {
    networks: WeftNetworks & { directory(): DirectoryEntry[] };
    nl: Netlink;
    log: Logger;
    onRequest?: (method: string, result: 'ok' | 'error') => void;
    /** Told when the plugin socket had to be put back (the daemon's repair metric). */
    onRepair?: () => void;
  },
): Promise<DockerSide> {
  const log = deps.log.child({ part: 'docker' });
  const engine = new DockerEngine(o.dockerHost);
  const plugin = new DockerPlugin({ networks: deps.networks, engine, nl: deps.nl, log });
  const listen = () => startPluginServer(o.socket, (m, b) => plugin.handle(m, b), log, deps.onRequest);
  let server: Server = await listen();
  log.info("Docker's plugin API listening", { socket: o.socket, docker: o.dockerHost });
  // Docker finds the plugin by its socket file: one removed behind the daemon's back (a cleanup of /run, a
  // mistaken rm) is listened on again, as the conflists are written again.
  let relistening = false;
  const keepSocket = async () => {
    if (relistening || existsSync(o.socket)) return;
    relistening = true;
    try {
      await new Promise<void>((r) => server.close(() => r()));
      server = await listen();
      log.warn(`the plugin socket ${o.socket} was removed; listening on it again`);
      deps.onRepair?.();
    } catch (e) {
      log.error(`cannot listen on ${o.socket} again: ${(e as Error).message}; trying again`);
    } finally {
      relistening = false;
    }
  };
  const mirror = new Mirror({ engine, weft: () => deps.networks.metas(), plugin, log });
  const resolver =
    o.dnsAddress === ''
      ? undefined
      : new LinkLocalResolver({
          address: o.dnsAddress,
          nl: deps.nl,
          log,
          directory: () => deps.networks.directory(),
          subnets: () => deps.networks.metas().map((m) => m.Subnet),
        });
  const pass = () => {
    void keepSocket();
    void mirror.sync();
    void resolver?.ensure().catch((e: unknown) => log.warn(`resolver for Docker: ${(e as Error).message}`));
  };
  pass();
  const timer = setInterval(pass, PASS_MS);
  return {
    changed: () => void mirror.sync(),
    status: () => ({
      pluginSocket: o.socket,
      engine: o.dockerHost,
      resolver: resolver?.address,
      lastOkAt: mirror.lastOkAt,
      error: mirror.error,
      networks: mirror.networks,
    }),
    stop: async () => {
      clearInterval(timer);
      resolver?.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
