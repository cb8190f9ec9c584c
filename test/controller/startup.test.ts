/**
 * What the daemon refuses before it touches anything (issue 11): an etcd endpoint it cannot use, and running
 * without CAP_NET_ADMIN (it leased a subnet and then failed with a bare EPERM). One line, non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WEFT_BIN } from '../helpers/cni.ts';
import { makeNetns } from '../helpers/netns.ts';

const daemon = (netns: string, args: readonly string[], prefix: readonly string[] = []) =>
  spawnSync('nsenter', [`--net=/run/netns/${netns}`, ...prefix, WEFT_BIN, 'daemon', '--subnet-file=/nonexistent/subnet.env', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('daemon start-up refusals', () => {
  it('an etcd endpoint with an unknown scheme is refused at start, naming it', () => {
    const ns = makeNetns('su1');
    const r = daemon(ns.name, ['--etcd-endpoints=ftp://192.0.2.250:2379']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('weft: etcd endpoint ftp://192.0.2.250:2379: scheme ftp is not supported; use http, https or unix\n');
  });

  it('without CAP_NET_ADMIN it says so before leasing anything', () => {
    const ns = makeNetns('su2');
    const r = daemon(
      ns.name,
      ['--etcd-endpoints=http://192.0.2.250:2379'],
      ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin', '--'],
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^weft: weft daemon needs CAP_NET_ADMIN to program its devices, routes and firewall: run it as root, or grant the capability/,
    );
    expect(r.stdout).not.toMatch(/lease held/);
  });
});
