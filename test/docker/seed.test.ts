/**
 * The seeds' Docker lab with Docker itself: three simulated hosts, each with its own dockerd and weft daemon,
 * one etcd; the scenario is `docker` commands only (RED and BLUE created once, container1..4 on three hosts,
 * reach by IP and by name, isolation, connect/disconnect, inspect, duplicate names, rm).
 */
import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE, type SimDocker } from '../../pkg/lab/docker.ts';
import { eventually } from '../helpers/daemon.ts';
import { dockerCluster } from '../helpers/docker.ts';

const ipOn = (d: SimDocker, name: string, net: string) =>
  d.run(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name]).stdout.trim();
const reach = (d: SimDocker, from: string, target: string) => d.run(['exec', from, 'ping', '-c', '1', '-W', '2', target]);
const names = (d: SimDocker) =>
  d.run(['network', 'ls', '--filter', 'driver=weft', '--format', '{{.Name}}']).stdout.split('\n').filter(Boolean);

describe('Docker network plugin (driver and IPAM weft)', () => {
  it('the seed scenario with docker commands on three hosts', async () => {
    const { docker } = await dockerCluster('dk', 3);
    const [h1, h2, h3] = docker as [SimDocker, SimDocker, SimDocker];
    const run = (d: SimDocker, name: string, net: string) =>
      d.run(['run', '-d', `--net=${net}`, '--name', name, DOCKER_IMAGE, 'sleep', '3600']);

    // Created once, on different hosts; every Docker lists both.
    const red = h1.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.10.10.0/24', 'RED']);
    expect(red).toMatchObject({ ok: true, stderr: '' });
    expect(
      h2.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.10.20.0/24', '-o', 'vni=4242', 'BLUE']).ok,
    ).toBe(true);
    for (const d of docker) await eventually('RED and BLUE in every Docker', () => names(d).sort().join() === 'BLUE,RED');

    // Refused with a reason, nothing made: Docker's own IPAM, an overlapping range, an unknown option.
    const noIpam = h3.run(['network', 'create', '-d', 'weft', '--subnet=10.10.30.0/24', 'PINK']);
    expect(noIpam.ok).toBe(false);
    expect(noIpam.stderr).toContain('add --ipam-driver weft');
    const overlap = h3.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.10.10.128/25', 'PINK']);
    expect(overlap.stderr).toContain('overlaps with weft network RED (10.10.10.0/24)');
    expect(
      h3.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.10.30.0/24', '-o', 'vlan=3', 'PINK']).stderr,
    ).toContain('unknown option "vlan"');
    expect(names(h3).sort()).toEqual(['BLUE', 'RED']);

    // container1 on h1, container2 and container3 on h2 (RED), container4 on h3 (BLUE).
    for (const [d, name, net] of [
      [h1, 'container1', 'RED'],
      [h2, 'container2', 'RED'],
      [h2, 'container3', 'RED'],
      [h3, 'container4', 'BLUE'],
    ] as const)
      expect(run(d, name, net)).toMatchObject({ ok: true, stderr: '' });
    const ip2 = ipOn(h2, 'container2', 'RED');
    const ip4 = ipOn(h3, 'container4', 'BLUE');
    expect(ip2).toMatch(/^10\.10\.10\./);
    expect(ip4).toMatch(/^10\.10\.20\./);
    expect(ipOn(h1, 'container1', 'RED')).not.toBe(ip2);

    // Reach across hosts by address and by name (Docker's embedded DNS forwards to weft's resolver).
    expect(reach(h1, 'container1', ip2).ok).toBe(true);
    expect(reach(h1, 'container1', 'container2').stdout).toContain(ip2);
    expect(reach(h1, 'container1', 'container2.RED').stdout).toContain(ip2);
    // Isolation: RED does not reach BLUE, nor resolve its names.
    expect(reach(h1, 'container1', ip4).ok).toBe(false);
    expect(reach(h1, 'container1', 'container4').ok).toBe(false);

    // connect: container3 joins BLUE live and reaches container4 by name; disconnect undoes it.
    expect(h2.run(['network', 'connect', 'BLUE', 'container3'])).toMatchObject({ ok: true, stderr: '' });
    expect(reach(h2, 'container3', 'container4').stdout).toContain(ip4);
    expect(reach(h2, 'container3', ip2).ok).toBe(true);
    expect(h2.run(['network', 'disconnect', 'BLUE', 'container3']).ok).toBe(true);
    expect(reach(h2, 'container3', ip4).ok).toBe(false);

    // A name taken on another host is refused with Docker's message; nothing of it stays.
    const dup = run(h3, 'container1', 'RED');
    expect(dup.ok).toBe(false);
    expect(dup.stderr).toContain('service endpoint with name container1 already exists');
    h3.run(['rm', '-f', 'container1']);
    expect(run(h3, 'container5', 'RED').ok).toBe(true);

    // inspect shows this host's containers, as Docker does.
    const inspect = JSON.parse(h2.run(['network', 'inspect', 'RED']).stdout) as Array<{
      Driver: string;
      IPAM: { Driver: string; Config: Array<{ Subnet: string }> };
      Containers: Record<string, { Name: string; IPv4Address: string }>;
    }>;
    expect(inspect[0]).toMatchObject({ Driver: 'weft', IPAM: { Driver: 'weft', Config: [{ Subnet: '10.10.10.0/24' }] } });
    expect(
      Object.values(inspect[0]!.Containers)
        .map((c) => c.Name)
        .sort(),
    ).toEqual(['container2', 'container3']);

    // rm: BLUE still has container4 on h3, so an rm on h1 keeps it (and h1's Docker lists it again);
    // once container4 is gone, rm removes it from every host.
    h1.run(['network', 'rm', 'BLUE']);
    await eventually('BLUE back in h1 Docker', () => names(h1).includes('BLUE'));
    expect(names(h3)).toContain('BLUE');
    expect(h3.run(['rm', '-f', 'container4']).ok).toBe(true);
    expect(h1.run(['network', 'rm', 'BLUE']).ok).toBe(true);
    for (const d of docker) await eventually('BLUE gone from every Docker', () => !names(d).includes('BLUE'));
  }, 300_000);
});
