/**
 * Restarts around the Docker plugin: dockerd restarting with its containers (they leave and join again, under
 * the same names, and are reachable by name from other hosts), weft's daemon restarting under running
 * Docker containers (nothing of theirs is lost or duplicated), and the plugin's socket removed behind its back.
 */
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE, type SimDocker } from '../../pkg/lab/docker.ts';
import { eventually } from '../helpers/daemon.ts';
import { dockerCluster } from '../helpers/docker.ts';
import { weftOk } from '../helpers/weft-cli.ts';

const ipOf = (d: SimDocker, name: string) => d.run(['inspect', '-f', '{{.NetworkSettings.Networks.RED.IPAddress}}', name]).stdout.trim();
const pingFrom = (d: SimDocker, from: string, target: string) => d.run(['exec', from, 'ping', '-c', '1', '-W', '2', target]);

describe('Docker plugin across restarts', () => {
  it('dockerd restarts with its containers; weft restarts under them; names and addresses stay single', async () => {
    const { c, docker } = await dockerCluster('dr', 2);
    const [h1, h2] = docker as [SimDocker, SimDocker];
    expect(h1.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.40.0.0/24', 'RED']).ok).toBe(true);
    await eventually('RED in h2 Docker', () => h2.run(['network', 'inspect', 'RED']).ok);
    expect(h1.run(['run', '-d', '--restart=always', '--net=RED', '--name', 'container1', DOCKER_IMAGE, 'sleep', '3600']).ok).toBe(true);
    expect(h2.run(['run', '-d', '--net=RED', '--name', 'container2', DOCKER_IMAGE, 'sleep', '3600']).ok).toBe(true);
    expect(pingFrom(h2, 'container2', 'container1').ok).toBe(true);
    const endpoints = () =>
      weftOk(c, 2, ['network', 'inspect', '-f', '{{range .Containers}}{{.Name}}@{{.Host}} {{end}}', 'RED']).trim().split(' ').sort();

    // dockerd stops (its containers leave: their names go) and starts again (they join again).
    h1.stop();
    await eventually('container1 gone from RED', () => endpoints().join() === 'container2@h2');
    h1.start();
    await h1.ready();
    await eventually('container1 back', () => h1.run(['inspect', '-f', '{{.State.Running}}', 'container1']).stdout.trim() === 'true');
    expect(h1.run(['network', 'ls', '--filter', 'driver=weft', '--format', '{{.Name}}']).stdout.trim()).toBe('RED');
    const ip1 = ipOf(h1, 'container1');
    await eventually('container1 reachable by name again', () => pingFrom(h2, 'container2', 'container1').stdout.includes(ip1));
    expect(endpoints()).toEqual(['container1@h1', 'container2@h2']);
    // dockerd restores containers before its API answers: the Join could not learn the name, which came after.
    expect(c.daemon(1).log()).toContain('named an endpoint that joined while Docker was starting part=docker network=RED name=container1');

    // weft's daemon restarts under them: the same endpoints, no second record, traffic and names as before.
    await c.daemon(1).stop();
    expect(pingFrom(h2, 'container2', ip1).ok).toBe(true);
    c.daemon(1).start();
    await c.daemon(1).ready();
    expect(endpoints()).toEqual(['container1@h1', 'container2@h2']);
    expect(pingFrom(h1, 'container1', 'container2').ok).toBe(true);
    expect(h1.run(['run', '-d', '--net=RED', '--name', 'container3', DOCKER_IMAGE, 'sleep', '3600']).ok).toBe(true);
    expect(ipOf(h1, 'container3')).not.toBe(ip1);

    // The plugin's socket removed behind the daemon's back: it listens again, and Docker reaches it.
    rmSync(h1.pluginSocket);
    await eventually('the plugin socket back', () => existsSync(h1.pluginSocket));
    expect(h1.run(['run', '-d', '--net=RED', '--name', 'container4', DOCKER_IMAGE, 'sleep', '3600'])).toMatchObject({
      ok: true,
      stderr: '',
    });
    expect(c.daemon(1).log()).toContain('was removed; listening on it again');
  }, 300_000);
});
