/**
 * The lab as a newcomer runs it, from the single executable: `up` builds three hosts, RED, BLUE and GREEN and six
 * containers (one by Docker with weft as its network plugin, one by podman, one a pod started through containerd's
 * CRI) over an etcd with TLS and client
 * certificates (`--etcd-tls`), and passes every check; `status` reports it healthy; a second `up` is refused;
 * `down` leaves no namespace, process or file behind and is safe to run twice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listNamedNetns } from '../../pkg/kernel/mod.ts';
import { labCgroup, labPrefix } from '../../pkg/lab/names.ts';
import { WEFT_BIN } from '../helpers/cni.ts';
import { defer } from '../helpers/netns.ts';
import { NETNS_PREFIX } from '../helpers/run-id.ts';

const weft = (args: string[]) => spawnSync(WEFT_BIN, args, { encoding: 'utf8', timeout: 180_000 });

function labProcesses(dir: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmd.includes(`${dir}/`) ? [`${p}: ${cmd}`] : [];
      } catch {
        return [];
      }
    });
}

describe('weft lab', () => {
  it('up passes every check, status is healthy, down removes everything, twice', () => {
    const dir = join(mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}lab-`)), 'lab');
    // Whatever happens, the lab goes.
    defer(() => {
      weft(['lab', 'down', '--dir', dir]);
      rmSync(join(dir, '..'), { recursive: true, force: true });
    });
    const up = weft(['lab', 'up', '--dir', dir, '--etcd-tls']);
    expect(up.status, `${up.stdout}\n${up.stderr}`).toBe(0);
    expect(up.stdout).toContain('etcd on 192.0.2.250 (TLS, client certificates): done');
    expect(JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')).etcd).toMatchObject({
      endpoint: 'https://192.0.2.250:2379',
      ca: join(dir, 'pki', 'ca.crt'),
    });
    expect(up.stdout).toContain('all 16 checks passed');
    expect(up.stdout).toContain('container2 on RED (host 2), run by podman');
    expect(up.stdout).toContain("container6 on RED (host 3), a pod run through containerd's CRI: done");
    expect(up.stdout).toContain(
      'networks RED (10.10.10.0/24), BLUE (10.10.20.0/24, fd00:10:20::/64), GREEN (10.10.30.0/24, fd00:10:30::/64), ' +
        'RED by docker network create on host 1, the others by weft network create: done',
    );
    expect(up.stdout).toContain('container1 on RED (host 1), docker run --net=RED: done');

    const status = weft(['lab', 'status', '--dir', dir]);
    expect(status.status, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^RED\s+[0-9a-f]{12}\s+container2\s+h2\s+10\.10\.10\./m);
    expect(status.stdout).toMatch(/^container6\s+h3\s+containerd \(CRI\)\s+RED 10\.10\.10\./m);

    const again = weft(['lab', 'up', '--dir', dir]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toBe(`weft: a lab is already up in ${dir} (weft lab status); remove it with weft lab down --dir ${dir}\n`);

    const down = weft(['lab', 'down', '--dir', dir]);
    expect(down.status, down.stderr).toBe(0);
    expect(listNamedNetns().filter((n) => n.startsWith(labPrefix(dir)))).toEqual([]);
    expect(labProcesses(dir)).toEqual([]);
    // containerd's mounts (pods' rootfs, shm, network namespaces) and the CRI pods' cgroup are gone too.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${dir}/`);
    expect(existsSync(`/sys/fs/cgroup/memory${labCgroup(dir)}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(weft(['lab', 'down', '--dir', dir])).toMatchObject({ status: 0, stdout: `weft lab: nothing to remove in ${dir}\n` });
  }, 240_000);
});
