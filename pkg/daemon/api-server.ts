/**
 * The daemon's local API: HTTP with JSON over a Unix socket (mode 0660, root's), for the CNI plugin (endpoint
 * registration) and the CLI (`weft network ...`). The daemon holds the etcd connection, so neither needs etcd
 * settings of its own.
 *
 *   GET    /v1/networks                         ls rows (the flannel default network included)
 *   POST   /v1/networks                         create {name, subnet, ipv6?, subnet6?, gateway?, vni?, hostSubnetLen?, mtu?, driver?}
 *   GET    /v1/networks/:ref                    inspect (endpoints of every host)
 *   DELETE /v1/networks/:ref                    rm (refused while endpoints exist)
 *   GET    /v1/networks/:ref/conflist           this host's conflist for the network
 *   POST   /v1/networks/:ref/endpoints          register {name, aliases, containerID, ifname, address, address6?, mac}
 *   DELETE /v1/networks/:ref/endpoints/:name    unregister (?containerID= to remove only that container's)
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { isWeftError, messageOf, WeftError, type WeftCode } from '../errors/mod.ts';
import { DEFAULT_NETWORK_NAME, defaultInspectObject, inspectPeer, type LsRow } from '../networks/mod.ts';
import { compareText } from '../text.ts';
import type { DaemonStatus } from '../contract/status.ts';
import type { NetworkManager } from './network-manager.ts';

const STATUS: Partial<Record<WeftCode, number>> = {
  WEFT_NOT_FOUND: 404,
  WEFT_ALREADY_EXISTS: 409,
  WEFT_INVALID_CONFIG: 400,
  WEFT_INVALID_ARGUMENT: 400,
  WEFT_STORE: 502,
  WEFT_STORE_UNAVAILABLE: 503,
  WEFT_STORE_TLS: 503,
  WEFT_STORE_AUTH: 503,
  WEFT_TRY_AGAIN: 503,
};

export interface DefaultNetworkInfo {
  readonly id: string;
  /** The network's range, once its config is read. */
  readonly subnet: string | undefined;
  /** This host's lease and gateway, once it serves the network. */
  readonly served: { subnet: string; gateway: string; mtu: number } | undefined;
  readonly publicIP: string;
  readonly peers: ReadonlyArray<{ subnet: string; publicIP: string }>;
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  if (text === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new WeftError('WEFT_DECODE', 'the request body must be a JSON object');
}

const str = (b: Record<string, unknown>, k: string): string | undefined => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
/** A numeric field: absent is undefined; anything but a number (null from a NaN, text) is refused, not ignored. */
const num = (b: Record<string, unknown>, k: string): number | undefined => {
  if (b[k] === undefined) return undefined;
  if (typeof b[k] === 'number' && Number.isFinite(b[k])) return b[k] as number;
  throw new WeftError('WEFT_INVALID_ARGUMENT', `${k} must be a number, got ${JSON.stringify(b[k])}`);
};

/** A route's pattern as a metric label: /^\/v1\/networks\/([^/]+)$/ -> /v1/networks/:ref. */
const routeLabel = (re: RegExp): string =>
  re.source
    .replace(/\\\//g, '/')
    .replace(/\(\[\^\/\]\+\)/g, ':ref')
    .replace(/^\^|\$$/g, '');

export interface ApiDeps {
  /** The named networks; undefined in Kubernetes mode, where they are refused. */
  readonly networks: NetworkManager | undefined;
  readonly defaultNetwork: () => DefaultNetworkInfo;
  readonly status: (verbose: boolean) => DaemonStatus;
  /** Told of every request, for the metrics: its route pattern and the status answered. */
  readonly onRequest?: (route: string, status: number) => void;
}

export async function startApiServer(socket: string, deps: ApiDeps): Promise<Server> {
  const { defaultNetwork } = deps;
  const networks = (): NetworkManager => {
    if (!deps.networks)
      throw new WeftError('WEFT_INVALID_CONFIG', 'named networks need etcd (--etcd-endpoints); this daemon runs with --kube-subnet-mgr');
    return deps.networks;
  };
  const defaultView = (d: DefaultNetworkInfo & { subnet: string }) => {
    const self = d.served ? [inspectPeer(d.served.subnet, d.publicIP)] : [];
    return defaultInspectObject({
      id: d.id,
      network: d.subnet,
      gateway: d.served?.gateway,
      mtu: d.served?.mtu,
      peers: [...self, ...d.peers.map((p) => inspectPeer(p.subnet, p.publicIP))].sort((a, b) => compareText(a.Name, b.Name)),
    });
  };
  // The flannel default network answers to its name, and to a prefix of its ID when no named network matches
  // (a named network `abc` is not shadowed by a default ID starting with abc).
  const inspect = async (ref: string): Promise<unknown> => {
    const d = defaultNetwork();
    const served = d.subnet === undefined ? undefined : { ...d, subnet: d.subnet };
    if (served && ref === DEFAULT_NETWORK_NAME) return defaultView(served);
    try {
      return await networks().inspect(ref);
    } catch (e) {
      const unmatched = isWeftError(e) && (e.code === 'WEFT_NOT_FOUND' || !deps.networks);
      if (served && unmatched && ref.length >= 3 && d.id.startsWith(ref)) return defaultView(served);
      throw e;
    }
  };
  const routes: Array<[string, RegExp, (m: RegExpExecArray, req: IncomingMessage, url: URL) => Promise<[number, unknown]>]> = [
    ['GET', /^\/v1\/status$/, async (_m, _req, url) => [200, deps.status(url.searchParams.get('verbose') === '1')]],
    [
      'GET',
      /^\/v1\/networks$/,
      async () => {
        const d = defaultNetwork();
        const rows: LsRow[] = [
          ...(d.subnet
            ? [{ id: d.id, name: DEFAULT_NETWORK_NAME, driver: 'overlay', scope: 'global', subnet: d.subnet, created: '' }]
            : []),
          ...(await networks().list()),
        ];
        return [200, rows];
      },
    ],
    [
      'POST',
      /^\/v1\/networks$/,
      async (_m, req) => {
        const b = await body(req);
        const created = await networks().create({
          name: str(b, 'name') ?? '',
          driver: str(b, 'driver'),
          subnet: str(b, 'subnet') ?? '',
          gateway: str(b, 'gateway'),
          vni: num(b, 'vni'),
          hostSubnetLen: num(b, 'hostSubnetLen'),
          mtu: num(b, 'mtu'),
          ipv6: b.ipv6 === true,
          subnet6: str(b, 'subnet6'),
        });
        return [201, created];
      },
    ],
    ['GET', /^\/v1\/networks\/([^/]+)$/, async (m) => [200, [await inspect(decodeURIComponent(m[1]!))]]],
    ['DELETE', /^\/v1\/networks\/([^/]+)$/, async (m) => [200, await networks().remove(decodeURIComponent(m[1]!))]],
    ['GET', /^\/v1\/networks\/([^/]+)\/conflist$/, async (m) => [200, await networks().conflistFor(decodeURIComponent(m[1]!))]],
    [
      'POST',
      /^\/v1\/networks\/([^/]+)\/endpoints$/,
      async (m, req) => {
        const b = await body(req);
        const ep = await networks().register(decodeURIComponent(m[1]!), {
          name: str(b, 'name') ?? '',
          aliases: Array.isArray(b.aliases) ? b.aliases.filter((a): a is string => typeof a === 'string') : [],
          containerID: str(b, 'containerID') ?? '',
          ifname: str(b, 'ifname') ?? '',
          address: str(b, 'address') ?? '',
          address6: str(b, 'address6'),
          mac: str(b, 'mac') ?? '',
        });
        return [201, ep];
      },
    ],
    [
      'DELETE',
      /^\/v1\/networks\/([^/]+)\/endpoints\/([^/]+)$/,
      async (m, _req, url) => {
        const removed = await networks().unregister(
          decodeURIComponent(m[1]!),
          decodeURIComponent(m[2]!),
          url.searchParams.get('containerID') ?? undefined,
        );
        return [200, { removed }];
      },
    ],
  ];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://weft');
    const route = routes.find(([method, re]) => method === req.method && re.test(url.pathname));
    const send = (status: number, data: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(data)}\n`);
    if (!route) return send(404, { code: 'WEFT_NOT_FOUND', message: `no such API: ${req.method} ${url.pathname}` });
    const done = (status: number, data: unknown) => {
      deps.onRequest?.(`${req.method} ${routeLabel(route[1])}`, status);
      send(status, data);
    };
    route[2](route[1].exec(url.pathname)!, req, url).then(
      ([status, data]) => done(status, data),
      (e: unknown) =>
        done(isWeftError(e) ? (STATUS[e.code] ?? 500) : 500, {
          code: isWeftError(e) ? e.code : 'WEFT_INTERNAL',
          message: messageOf(e),
          ...(isWeftError(e) && e.details && { details: e.details }),
        }),
    );
  });
  mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  chmodSync(socket, 0o660);
  return server;
}
