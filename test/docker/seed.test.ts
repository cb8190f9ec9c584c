/**
 * The seeds' Docker lab, with Docker itself: three simulated hosts, each with its own dockerd and weft
 * daemon, one etcd; everything below is `docker` commands only.
 */
import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE } from '../../pkg/lab/docker.ts';
import { dockerCluster } from '../helpers/docker.ts';
import { eventually } from '../helpers/daemon.ts';

describe('Docker network plugin', () => {
  it('the seed scenario with docker commands on three hosts', async () => {
    const { docker } = await dockerCluster('dk', 2);
    const [d1, d2] = docker as [NonNullable<(typeof docker)[0]>, NonNullable<(typeof docker)[1]>];
    const made = d1.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet', '10.10.10.0/24', 'RED']);
    expect(made.stderr).toBe('');
    await eventually('RED in h2 Docker', () => d2.run(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']).stdout.includes('RED weft'));
    const r1 = d1.run(['run', '-d', '--net=RED', '--name', 'container1', DOCKER_IMAGE, 'sleep', '1000']);
    expect(r1.stderr).toBe('');
    const r2 = d2.run(['run', '-d', '--net=RED', '--name', 'container2', DOCKER_IMAGE, 'sleep', '1000']);
    expect(r2.stderr).toBe('');
    const ip2 = d2.run(['inspect', '-f', '{{.NetworkSettings.Networks.RED.IPAddress}}', 'container2']).stdout.trim();
    console.log(ip2, d1.run(['exec', 'container1', 'ip', 'a']).stdout);
    expect(d1.run(['exec', 'container1', 'ping', '-c', '1', '-W', '2', ip2]).ok).toBe(true);
    const byName = d1.run(['exec', 'container1', 'ping', '-c', '1', '-W', '2', 'container2']);
    expect(byName.stderr + byName.stdout).toContain(ip2);
  });
});
