/**
 * The seeds' Docker lab with Docker itself: three simulated hosts, each with its own dockerd and weft daemon,
 * one etcd; the scenario is `docker` commands only (RED and BLUE created once, container1..4 on three hosts,
 * reach by IP and by name, isolation, connect/disconnect, inspect, duplicate names, rm).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DOCKER_IMAGE, type SimDocker } from '../../pkg/lab/docker.ts';
import { eventually } from '../helpers/daemon.ts';
import { dockerCluster } from '../helpers/docker.ts';
import { weftOk, weftOn } from '../helpers/weft-cli.ts';

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

describe('Docker and CNI on one host', () => {
  it('docker run --net=none with a manual CNI ADD, one address store for both, a daemon restart loses nothing', async () => {
    const { c, docker } = await dockerCluster('dm', 2);
    const [h1, h2] = docker as [SimDocker, SimDocker];
    expect(h1.run(['network', 'create', '-d', 'weft', '--ipam-driver', 'weft', '--subnet=10.30.0.0/24', 'RED']).ok).toBe(true);
    await eventually('RED in h2 Docker', () => names(h2).includes('RED'));
    expect(h1.run(['run', '-d', '--net=RED', '--name', 'container1', DOCKER_IMAGE, 'sleep', '3600']).ok).toBe(true);
    const ip1 = ipOn(h1, 'container1', 'RED');

    // A network made with weft's CLI shows in every Docker, and leaves every Docker with weft network rm.
    weftOk(c, 2, ['network', 'create', '--subnet', '10.31.0.0/24', 'GREEN']);
    for (const d of docker) await eventually('GREEN in every Docker', () => names(d).includes('GREEN'));
    weftOk(c, 1, ['network', 'rm', 'GREEN']);
    for (const d of docker) await eventually('GREEN gone from every Docker', () => !names(d).includes('GREEN'));

    // The design card's manual way: a container without network, attached by CNI through its SandboxKey (a
    // file in dockerd's mount namespace: the CLI runs there, as it would on a host with one mount namespace).
    expect(h2.run(['run', '-d', '--net=none', '--name', 'manual1', DOCKER_IMAGE, 'sleep', '3600']).ok).toBe(true);
    const key = h2.run(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'manual1']).stdout.trim();
    const d2 = c.daemon(2);
    const connect = spawnSync(
      'nsenter',
      [
        `--mount=/proc/${h2.pid}/ns/mnt`,
        `--net=${d2.host.path}`,
        c.opts.bin,
        'network',
        'connect',
        'RED',
        '--netns',
        key,
        '--name',
        'manual1',
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, WEFT_SOCKET: d2.socket, CNI_PATH: '/usr/lib/cni' } },
    );
    expect(connect.stderr).toBe('');
    const manualIp = (JSON.parse(connect.stdout) as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]!;
    expect(reach(h2, 'manual1', ip1).ok).toBe(true);
    expect(reach(h1, 'container1', 'manual1').stdout).toContain(manualIp);

    // One store: a CNI container on h1 (weft network connect) and Docker's containers never share an address.
    const ns = await c.sim.namespace('h1-cni1');
    const cni = JSON.parse(weftOk(c, 1, ['network', 'connect', 'RED', '--netns', ns.path, '--name', 'cni1'])) as {
      ips: Array<{ address: string }>;
    };
    const cniIp = cni.ips[0]!.address.split('/')[0]!;
    expect(cniIp).not.toBe(ip1);

    // The daemon restarts: what Docker holds is on disk; new containers get other addresses, old ones still reach.
    await c.daemon(1).stop();
    c.daemon(1).start();
    await c.daemon(1).ready();
    expect(h1.run(['run', '-d', '--net=RED', '--name', 'container2', DOCKER_IMAGE, 'sleep', '3600'])).toMatchObject({
      ok: true,
      stderr: '',
    });
    const ip2 = ipOn(h1, 'container2', 'RED');
    expect(new Set([ip1, ip2, cniIp]).size).toBe(3);
    expect(reach(h2, 'manual1', 'container2').stdout).toContain(ip2);
    expect(reach(h1, 'container2', 'container1').stdout).toContain(ip1);

    // -p: a published port of a container on h1, reached from h2 through h1's underlay address.
    const web = [
      'run',
      '-d',
      '--net=RED',
      '-p',
      '8080:7070',
      '--name',
      'web',
      DOCKER_IMAGE,
      'sh',
      '-c',
      'while true; do echo hello | nc -l -p 7070; done',
    ];
    expect(h1.run(web)).toMatchObject({ ok: true, stderr: '' });
    const fromH2 = () =>
      spawnSync('nsenter', [`--net=${c.hosts[1]!.path}`, 'busybox', 'nc', '-w', '2', c.hosts[0]!.ip, '8080'], {
        encoding: 'utf8',
        input: '',
      });
    await eventually('port 8080 of h1 answers', () => fromH2().stdout.includes('hello'));
    const natRules = () => spawnSync('nsenter', [`--net=${c.hosts[0]!.path}`, 'iptables', '-t', 'nat', '-S'], { encoding: 'utf8' }).stdout;
    expect(natRules()).toMatch(/^-N CNI-DN-/m);
    expect(h1.run(['rm', '-f', 'web']).ok).toBe(true);
    expect(natRules()).not.toMatch(/^-N CNI-DN-/m);
    expect(h1.run(['run', '-d', '--net=RED', '-p', '7070', '--name', 'web2', DOCKER_IMAGE, 'sleep', '60']).stderr).toContain(
      'weft does not pick one; give it (-p HOSTPORT:7070)',
    );

    // Docker's calls are counted per method.
    expect(c.daemon(1).http('/metrics').body).toMatch(/^weft_docker_requests_total\{method="NetworkDriver\.Join",result="ok"\} [1-9]/m);

    // weft status tells how the Docker side is doing.
    await eventually('status shows the Docker side', () =>
      /^docker {6}plugin .*; networks RED; DNS for containers on 169\.254\.53\.53$/m.test(weftOk(c, 1, ['status'])),
    );

    // weft doctor judges the Docker side too.
    const doctor = JSON.parse(weftOn(c, 1, ['doctor', '--json']).stdout) as Array<{ check: string; status: string }>;
    expect(doctor.filter((x) => x.check.startsWith('docker')).map((x) => `${x.check} ${x.status}`)).toEqual(['docker ok', 'docker-dns ok']);

    // rm gives the address and the name back.
    expect(h1.run(['rm', '-f', 'container1']).ok).toBe(true);
    await eventually('container1 forgotten', () => !reach(h1, 'container2', 'container1').ok);
    expect(h1.run(['run', '-d', '--net=RED', '--ip', ip1, '--name', 'container1', DOCKER_IMAGE, 'sleep', '3600']).ok).toBe(true);
  }, 300_000);
});
