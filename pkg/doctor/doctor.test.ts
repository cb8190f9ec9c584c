import { describe, expect, it } from 'vitest';
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
