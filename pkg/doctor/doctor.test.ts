import { describe, expect, it } from 'vitest';
import type { NetworkStatus } from '../contract/status.ts';
import { dockerChecks, hostRuleChecks } from './checks.ts';
import { hostRuleOf } from './facts.ts';
import { parsePing, probeVerdict } from './probe.ts';

describe('the probe', () => {
  it('reads iputils ping -q output, and judges loss', () => {
    const out =
      '--- 10.244.2.0 ping statistics ---\n3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms\n' +
      'rtt min/avg/max/mdev = 0.081/0.112/0.143/0.031 ms\n';
    expect(parsePing(out)).toEqual({ sent: 3, received: 2, avgMs: 0.112 });
    const peer = { subnet: '10.244.2.0/24', publicIP: '192.0.2.2' };
    expect(probeVerdict('default', peer, { sent: 3, received: 2, avgMs: 0.112 })).toMatchObject({
      status: 'warn',
      detail: '10.244.2.0 (peer 192.0.2.2): 33% loss, 0.112 ms',
    });
    expect(probeVerdict('default', peer, parsePing('3 packets transmitted, 0 received, 100% packet loss'))).toMatchObject({
      status: 'fail',
      detail: '10.244.2.0 (peer 192.0.2.2): 100% loss',
    });
  });
});

describe('the Docker checks', () => {
  const d = {
    pluginSocket: '/run/docker/plugins/weft.sock',
    engine: 'unix:///var/run/docker.sock',
    resolver: '169.254.53.53',
    lastOkAt: '2026-11-30T00:00:00Z',
    error: undefined,
    networks: ['RED'],
  };
  const facts = { loopbackAddrs: ['127.0.0.1/8', '169.254.53.53/32'], config: '{"dns": ["169.254.53.53"]}' };
  const verdicts = (x: ReturnType<typeof dockerChecks>) => x.map((c) => `${c.check} ${c.status}`);

  it("pass with dockerd answering, the resolver on lo and in dockerd's dns", () => {
    expect(verdicts(dockerChecks(d, facts))).toEqual(['docker ok', 'docker-dns ok']);
    expect(verdicts(dockerChecks(d, { ...facts, config: undefined }))).toEqual(['docker ok', 'docker-dns ok']);
  });

  it('name what is wrong, with the fix', () => {
    expect(dockerChecks({ ...d, error: 'cannot reach Docker' }, facts)[0]).toMatchObject({
      status: 'fail',
      fix: 'start docker (systemctl start docker), or point --docker-host at its socket',
    });
    expect(dockerChecks(d, { ...facts, loopbackAddrs: ['127.0.0.1/8'] })[1]).toMatchObject({ check: 'docker-dns', status: 'fail' });
    expect(dockerChecks(d, { ...facts, config: '{"dns": ["192.0.2.53"]}' })[1]).toMatchObject({
      status: 'warn',
      fix: 'weft install --docker, then systemctl restart docker',
    });
  });
});

describe('the host rule checks (issue 27)', () => {
  const net = (subnet: string, subnet6?: string) =>
    ({ subnet, subnet6, desired: { underlay: { name: 'eth0', mtu: 1500 } } }) as unknown as NetworkStatus;
  const verdicts = (networks: NetworkStatus[], values: Record<string, string>) =>
    hostRuleChecks(hostRuleOf({ networks }).map((setting) => ({ setting, now: values[setting.key] ?? '' }))).map(
      (c) => `${c.check} ${c.status}`,
    );

  it("check IPv4 forwarding always, and IPv6 forwarding and the underlay's accept_ra when a network carries IPv6", () => {
    expect(verdicts([net('10.244.1.0/24')], { 'net/ipv4/ip_forward': '1' })).toEqual(['ip-forward ok']);
    const on = { 'net/ipv4/ip_forward': '1', 'net/ipv6/conf/all/forwarding': '1', 'net/ipv6/conf/eth0/accept_ra': '2' };
    expect(verdicts([net('10.244.1.0/24', 'fd00:0:0:1::/64')], on)).toEqual(['ip-forward ok', 'accept-ra ok', 'ip6-forward ok']);
    expect(verdicts([net('fd00:72:0:1::/64')], { ...on, 'net/ipv6/conf/eth0/accept_ra': '0' })).toEqual([
      'ip-forward ok',
      'accept-ra ok',
      'ip6-forward ok',
    ]);
  });

  it('fail IPv6 forwarding that is off and warn of an accept_ra of 1, each with its fix', () => {
    const checks = hostRuleChecks(
      hostRuleOf({ networks: [net('10.244.1.0/24', 'fd00:0:0:1::/64')] }).map((setting) => ({
        setting,
        now: setting.kind === 'accept_ra' ? '1' : setting.family === 4 ? '1' : '0',
      })),
    );
    expect(checks.slice(1)).toMatchObject([
      { check: 'accept-ra', status: 'warn', fix: 'sysctl -w net.ipv6.conf.eth0.accept_ra=2 (the daemon sets it within its resync period)' },
      { check: 'ip6-forward', status: 'fail', detail: "net.ipv6.conf.all.forwarding is off: no container's IPv6 traffic leaves this host" },
    ]);
  });
});
