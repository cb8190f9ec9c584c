/**
 * etcd over TLS and with authentication, as production clusters run it (issue 18): Debian's etcd with
 * certificates made by openssl for this test, daemons on simulated hosts reaching it by IP and by a host name
 * that only their own /etc/hosts resolves. Every failure is one line naming the endpoint and the cause, in the
 * daemon's readiness and in the CLI's error, and the daemon waits and retries rather than exiting.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimEtcd, SimPki } from '../../pkg/sim/mod.ts';
import type { SimCluster } from '../../pkg/sim/mod.ts';
import { testCluster, testDir } from '../helpers/cluster.ts';
import { eventually } from '../helpers/daemon.ts';
import { defer } from '../helpers/netns.ts';
import { weftOn } from '../helpers/weft-cli.ts';

/** Waits until host n's daemon reports not ready for a reason matching `re`; returns that reason. */
async function notReadyBecause(c: SimCluster, n: number, re: RegExp): Promise<string> {
  return eventually(`h${n} to say it is not ready because ${re}`, () => {
    const h = c.daemon(n).http('/readyz');
    return !h.ok && re.test(h.body) ? h.body.trim() : undefined;
  });
}

describe('etcd over TLS', () => {
  it(
    'with client-certificate auth: IP and host-name endpoints work; a wrong CA, no or a foreign client certificate, ' +
      'an unlisted name and an unreadable file each say why',
    async () => {
      const dir = testDir('tc');
      const pki = new SimPki(join(dir, 'pki'));
      const other = new SimPki(join(dir, 'pki'), 'other');
      const client = pki.issue('weft');
      const c = await testCluster('tc', {
        dir,
        etcd: { tls: { ca: pki.ca, server: pki.issue('etcd', { sans: ['IP:192.0.2.250', 'DNS:etcd.weft.test'] }), clientCertAuth: true } },
        clientCert: client,
      });
      const hosts = join(dir, 'hosts');
      writeFileSync(hosts, '127.0.0.1 localhost\n192.0.2.250 etcd.weft.test wrong.weft.test\n');
      const good = { endpoint: 'https://192.0.2.250:2379', ca: pki.ca, clientCert: client };
      await c.addHost(1);
      await c.addHost(2, [], { etcd: { ...good, endpoint: 'https://etcd.weft.test:2379' }, hostsFile: hosts });
      await c.addHost(3, [], { etcd: { ...good, ca: other.ca } });
      await c.addHost(4, [], { etcd: { endpoint: good.endpoint, ca: pki.ca } });
      await c.addHost(5, [], { etcd: { ...good, clientCert: other.issue('intruder') } });
      await c.addHost(6, [], { etcd: { ...good, endpoint: 'https://wrong.weft.test:2379' }, hostsFile: hosts });
      await c.addHost(7, [], { etcd: { ...good, ca: join(dir, 'no-such-ca.crt') } });
      for (const d of c.daemons) d.start();

      await Promise.all([c.daemon(1).ready(), c.daemon(2).ready()]);
      expect(c.daemon(1).subnetEnv().subnet).not.toBe(c.daemon(2).subnetEnv().subnet);

      const at = (host: string) => `weft is not ready: _default: reading ${c.prefix}/config: etcd at https://${host}:2379: `;
      expect(await notReadyBecause(c, 3, /trusted CA/)).toBe(
        `${at('192.0.2.250')}its certificate is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE); check --etcd-cafile`,
      );
      expect(await notReadyBecause(c, 4, /client certificate/)).toBe(
        `${at('192.0.2.250')}etcd requires a client certificate; set --etcd-certfile and --etcd-keyfile`,
      );
      expect(await notReadyBecause(c, 5, /client certificate/)).toMatch(
        new RegExp(`^${at('192.0.2.250')}etcd refused this host's client certificate \\(.*\\); check --etcd-certfile`),
      );
      expect(await notReadyBecause(c, 6, /not for this address/)).toBe(
        `${at('wrong.weft.test')}its certificate is not for this address (it names IP Address:192.0.2.250, DNS:etcd.weft.test); ` +
          'use an endpoint the certificate names',
      );
      expect(await notReadyBecause(c, 7, /cannot read/)).toMatch(/cannot read the etcd CA file .*no-such-ca\.crt \(ENOENT\)/);

      // Each keeps running, retrying, and logs a problem once rather than every second.
      for (const n of [3, 4, 5, 6, 7]) {
        expect(c.daemon(n).status).toBe('running');
        expect(
          c
            .daemon(n)
            .log()
            .split('\n')
            .filter((l) => /not signed|requires a client|refused this host|not for this address|cannot read/.test(l)).length,
        ).toBeLessThanOrEqual(2);
      }
      // The CLI, through the daemon, exits 1 with that one line.
      const ls = weftOn(c, 3, ['network', 'ls']);
      expect(ls.code).toBe(1);
      expect(ls.stderr.trim().split('\n')).toHaveLength(1);
      expect(ls.stderr).toMatch(
        /^weft: listing networks: etcd at https:\/\/192\.0\.2\.250:2379: its certificate is not signed by a trusted CA/,
      );
    },
  );

  it('with a CA only, and with username and password; an expired server cert, a wrong password, no credentials each say why', async () => {
    const dir = testDir('ta');
    const pki = new SimPki(join(dir, 'pki'));
    const c = await testCluster('ta', {
      dir,
      etcd: { tls: { ca: pki.ca, server: pki.issue('etcd', { sans: ['IP:192.0.2.250'] }), clientCertAuth: false } },
    });
    // A second etcd whose certificate expired yesterday.
    const expired = await SimEtcd.start(c.sim, join(dir, 'expired'), {
      firstHost: 249,
      tls: { ca: pki.ca, server: pki.issue('old', { sans: ['IP:192.0.2.249'], days: -1 }), clientCertAuth: false },
    });
    defer(() => expired.close());
    // Authentication on, as an operator turns it on: a root user, a role for weft's prefixes, a user for weft.
    const sock = c.etcd.members[0]!.socketEndpoint.replace(/^unix:/, 'unix://');
    for (const args of [
      ['user', 'add', 'root:rootpw'],
      ['role', 'add', 'weft'],
      ['role', 'grant-permission', 'weft', '--prefix=true', 'readwrite', '/weft-test/'],
      ['user', 'add', 'weft:weftpw'],
      ['user', 'grant-role', 'weft', 'weft'],
      ['auth', 'enable'],
    ]) {
      const r = spawnSync('etcdctl', [`--endpoints=${sock}`, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      expect(r.status, `etcdctl ${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const ca = { endpoint: 'https://192.0.2.250:2379', ca: pki.ca };
    await c.addHost(1, ['--etcd-username=weft', '--etcd-password=weftpw'], { etcd: ca });
    await c.addHost(2, ['--etcd-username=weft', '--etcd-password=nope'], { etcd: ca });
    await c.addHost(3, [], { etcd: ca });
    await c.addHost(4, [], { etcd: { endpoint: 'https://192.0.2.249:2379', ca: pki.ca } });
    for (const d of c.daemons) d.start();

    await c.daemon(1).ready();
    expect(c.daemon(1).subnetEnv().subnet).toMatch(/^10\.244\./);
    expect(await notReadyBecause(c, 2, /refused user/)).toMatch(
      /etcd at https:\/\/192\.0\.2\.250:2379 refused user weft: wrong user name or password$/,
    );
    expect(await notReadyBecause(c, 3, /authentication/)).toMatch(
      /etcd at https:\/\/192\.0\.2\.250:2379 requires authentication; set --etcd-username and --etcd-password$/,
    );
    expect(await notReadyBecause(c, 4, /expired/)).toMatch(
      /etcd at https:\/\/192\.0\.2\.249:2379: its certificate has expired \(CERT_HAS_EXPIRED\); renew etcd's server certificate$/,
    );
  });

  it('a three-member TLS cluster with a member down: the daemon takes the next endpoint', async () => {
    const dir = testDir('t3');
    const pki = new SimPki(join(dir, 'pki'));
    const server = pki.issue('etcd', { sans: ['IP:192.0.2.250', 'IP:192.0.2.251', 'IP:192.0.2.252'] });
    const c = await testCluster('t3', {
      dir,
      etcd: { members: 3, tls: { ca: pki.ca, server, clientCertAuth: true } },
      clientCert: pki.issue('weft'),
    });
    c.etcd.members[0]!.kill();
    await c.addHost(1);
    await c.addHost(2);
    await c.startAll();
    expect(c.daemon(1).subnetEnv().subnet).not.toBe(c.daemon(2).subnetEnv().subnet);
    expect(c.daemon(1).log()).toMatch(
      /etcd: now using https:\/\/192\.0\.2\.25[12]:2379 \(etcd at https:\/\/192\.0\.2\.250:2379 is unreachable \(ECONNREFUSED/,
    );
  });
});
