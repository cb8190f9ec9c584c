/**
 * Certificates for a simulated etcd with TLS (the lab's `--etcd-tls` and the TLS tests), made with the
 * machine's `openssl` as an operator would: a CA, then server and client certificates it signs. P-256 keys
 * (fast to make), two days of validity unless asked otherwise; a negative `days` makes an expired one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** subjectAltName entries, e.g. ['IP:192.0.2.250', 'DNS:etcd.weft.test']; a server certificate needs them. */
  readonly sans?: readonly string[];
  readonly days?: number;
}

/** A new P-256 key, unencrypted. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: readonly string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run openssl (install it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
}

export class SimPki {
  readonly dir: string;
  readonly name: string;
  #serial = 0;

  /** A new CA in `dir` (files `<name>.crt` and `<name>.key`). */
  constructor(dir: string, name = 'ca') {
    this.dir = dir;
    this.name = name;
    mkdirSync(dir, { recursive: true });
    openssl(
      ['req', '-x509', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=weft test ${name}`],
      dir,
    );
  }

  get ca(): string {
    return join(this.dir, `${this.name}.crt`);
  }

  /** A certificate for `cn` signed by this CA, usable as server (when it has SANs) and as client. */
  issue(cn: string, o: IssueOptions = {}): CertFiles {
    const base = `${this.name}-${cn}-${this.#serial++}`;
    const ext = join(this.dir, `${base}.ext`);
    const usage =
      o.sans && o.sans.length > 0
        ? `subjectAltName=${o.sans.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`
        : 'extendedKeyUsage=clientAuth\n';
    writeFileSync(ext, usage);
    openssl(['req', ...NEW_KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`], this.dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        this.ca,
        '-CAkey',
        join(this.dir, `${this.name}.key`),
        '-CAcreateserial',
        '-out',
        `${base}.crt`,
        '-days',
        String(o.days ?? 2),
        '-extfile',
        ext,
      ],
      this.dir,
    );
    return { cert: join(this.dir, `${base}.crt`), key: join(this.dir, `${base}.key`) };
  }
}
