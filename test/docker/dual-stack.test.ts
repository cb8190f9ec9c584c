/**
 * Docker's `--ipv6` through weft's plugin (issue 15): a dual-stack network made once with `docker network
 * create --ipv6 ... --subnet v4 --subnet v6`, mirrored into the other host's Docker with IPv6 on; Docker's
 * containers on two hosts and a CNI container get both families and reach each other over IPv6, by address
 * and by name (Docker's embedded DNS forwards AAAA to weft's resolver).
 */
import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE, type SimDocker } from '../../pkg/lab/docker.ts';
import { eventually } from '../helpers/daemon.ts';
import { dockerCluster } from '../helpers/docker.ts';
import { weftOk } from '../helpers/weft-cli.ts';

const inspect = (d: SimDocker, name: string, field: string) =>
  d.run(['inspect', '-f', `{{(index .NetworkSettings.Networks "DSD").${field}}}`, name]).stdout.trim();

describe('Docker network plugin, dual-stack', () => {
  it('docker network create --ipv6: containers on two hosts and a CNI one reach each other over IPv6', async () => {
    const { c, docker } = await dockerCluster('dk6', 2);
    const [h1, h2] = docker as [SimDocker, SimDocker];
    const made = h1.run([
      'network',
      'create',
      '-d',
      'weft',
      '--ipam-driver',
      'weft',
      '--ipv6',
      '--subnet=10.80.0.0/24',
      '--subnet=fd00:80::/64',
      'DSD',
    ]);
    expect(made).toMatchObject({ ok: true, stderr: '' });
    await eventually(
      'DSD in the other Docker, with IPv6',
      () => h2.run(['network', 'inspect', '-f', '{{.EnableIPv6}}', 'DSD']).stdout.trim() === 'true',
    );
    const [view] = JSON.parse(weftOk(c, 2, ['network', 'inspect', 'DSD'])) as Array<{ IPAM: { Config: Array<{ Subnet: string }> } }>;
    expect(view!.IPAM.Config.map((x) => x.Subnet)).toEqual(['10.80.0.0/24', 'fd00:80::/64']);

    for (const [d, name] of [
      [h1, 'd1'],
      [h2, 'd2'],
    ] as const)
      expect(d.run(['run', '-d', '--net=DSD', '--name', name, DOCKER_IMAGE, 'sleep', '3600'])).toMatchObject({ ok: true, stderr: '' });
    const ip6 = inspect(h2, 'd2', 'GlobalIPv6Address');
    expect(ip6).toMatch(/^fd00:80::/);
    expect(inspect(h2, 'd2', 'IPv6Gateway')).toMatch(/^fd00:80::[0-9a-f:]+1$/);
    expect(inspect(h2, 'd2', 'IPAddress')).toMatch(/^10\.80\.0\./);
    expect(h1.run(['exec', 'd1', 'ping', '-c', '1', '-W', '2', ip6]).ok).toBe(true);
    await eventually('d2 resolves over IPv6 from d1', () => h1.run(['exec', 'd1', 'ping', '-6', '-c', '1', '-W', '2', 'd2']).ok);

    // A CNI container on the same network, on h2: reached from Docker's over IPv6.
    const ns = await c.sim.namespace('h2-cni6');
    const r = JSON.parse(weftOk(c, 2, ['network', 'connect', 'DSD', '--netns', ns.path, '--name', 'cni6'])) as {
      ips: Array<{ address: string }>;
    };
    const cni6 = r.ips.find((x) => x.address.includes(':'))!.address.split('/')[0]!;
    expect(h1.run(['exec', 'd1', 'ping', '-c', '1', '-W', '2', cni6]).ok).toBe(true);
    const [after] = JSON.parse(weftOk(c, 1, ['network', 'inspect', 'DSD'])) as Array<{
      Containers: Record<string, { Name: string; IPv6Address: string }>;
    }>;
    expect(Object.values(after!.Containers).find((x) => x.Name === 'd2')?.IPv6Address).toBe(`${ip6}/64`);
  });
});
