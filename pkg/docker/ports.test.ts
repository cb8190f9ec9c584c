import { describe, expect, it } from 'vitest';
import { portMappings } from './ports.ts';

const opts = (...b: object[]) => ({ 'com.docker.network.portmap': b });

describe('portMappings()', () => {
  it("turns Docker's bindings into portmap's, ranges port by port", () => {
    expect(portMappings(opts({ Proto: 6, Port: 80, HostIP: '', HostPort: 8080 }))).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    ]);
    expect(portMappings(opts({ Proto: 17, Port: 53, HostIP: '192.0.2.1', HostPort: 5353, HostPortEnd: 5354 }))).toEqual([
      { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '192.0.2.1' },
      { hostPort: 5354, containerPort: 54, protocol: 'udp', hostIP: '192.0.2.1' },
    ]);
    expect(portMappings({ 'com.docker.network.portmap': [] })).toEqual([]);
    expect(portMappings(undefined)).toEqual([]);
  });

  it('refuses a binding without a host port (weft picks none) and an unknown protocol', () => {
    expect(() => portMappings(opts({ Proto: 6, Port: 7070, HostPort: 0 }))).toThrow('give it (-p HOSTPORT:7070)');
    expect(() => portMappings(opts({ Proto: 1, Port: 1, HostPort: 1 }))).toThrow('IP protocol 1 is not tcp, udp or sctp');
  });
});
