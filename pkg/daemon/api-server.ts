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
 *
 * Every request runs inside pkg/http's boundary (issue 25): a malformed one (`GET //`, `/%`, a body that
 * is not a JSON object, over 1 MiB, cut short, or not HTTP at all) is a 4xx in weft's error shape, and
 * nothing a client sends can make a handler's throw reach the process.
 */
import type { IncomingMessage, Server } from 'node:http';
import { isWeftError, WeftError, type WeftCode } from '../errors/mod.ts';
import { decodeSegment, guardedServer, HttpError, listenUnix, quoted, readJsonObject, requestTarget, sendJson } from '../http/mod.ts';
import { DEFAULT_NETWORK_NAME, defaultInspectObject, inspectPeer, type LsRow } from '../networks/mod.ts';
import { compareText } from '../text.ts';
import type { DaemonStatus } from '../contract/status.ts';
import type { NetworkManager } from './network-manager.ts';

const STATUS: Partial<Record<WeftCode, number>> = {
  WEFT_NOT_FOUND: 404,
  WEFT_ALREADY_EXISTS: 409,
  WEFT_INVALID_CONFIG: 400,
  WEFT_INVALID_ARGUMENT: 400,
  WEFT_DECODE: 400,
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

const body = (req: IncomingMessage): Promise<Record<string, unknown>> => readJsonObject(req);

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
  const routes: Array<[string, RegExp, (m: RegExpExecArray, req: IncomingMessage, query: URLSearchParams) => Promise<[number, unknown]>]> =
    [
      ['GET', /^\/v1\/status$/, async (_m, _req, query) => [200, deps.status(query.get('verbose') === '1')]],
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
      ['GET', /^\/v1\/networks\/([^/]+)$/, async (m) => [200, [await inspect(decodeSegment(m[1]!))]]],
      ['DELETE', /^\/v1\/networks\/([^/]+)$/, async (m) => [200, await networks().remove(decodeSegment(m[1]!))]],
      ['GET', /^\/v1\/networks\/([^/]+)\/conflist$/, async (m) => [200, await networks().conflistFor(decodeSegment(m[1]!))]],
      [
        'POST',
        /^\/v1\/networks\/([^/]+)\/endpoints$/,
        async (m, req) => {
          const b = await body(req);
          const ep = await networks().register(decodeSegment(m[1]!), {
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
        async (m, _req, query) => {
          const removed = await networks().unregister(decodeSegment(m[1]!), decodeSegment(m[2]!), query.get('containerID') ?? undefined);
          return [200, { removed }];
        },
      ],
    ];

  const statusOf = (e: unknown) => (isWeftError(e) ? (STATUS[e.code] ?? 500) : 500);
  const server = guardedServer(
    async (req, res) => {
      const { pathname, query } = requestTarget(req.url);
      const route = routes.find(([method, re]) => method === req.method && re.test(pathname));
      if (!route) {
        sendJson(res, 404, { code: 'WEFT_NOT_FOUND', message: `no such API: ${quoted(`${req.method} ${pathname}`)}` });
        return;
      }
      const label = `${req.method} ${routeLabel(route[1])}`;
      try {
        const [status, data] = await route[2](route[1].exec(pathname)!, req, query);
        deps.onRequest?.(label, status);
        sendJson(res, status, data);
      } catch (e) {
        deps.onRequest?.(label, e instanceof HttpError ? e.status : statusOf(e));
        throw e;
      }
    },
    { statusOf },
  );
  await listenUnix(server, socket, 0o660);
  return server;
}
