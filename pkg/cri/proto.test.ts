import { describe, expect, it } from 'vitest';
import { frame, unframe } from './grpc.ts';
import { decode, ProtoWriter, read } from './proto.ts';
import { decodePodSandboxStatus, encodePodSandboxConfig } from './runtime.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf wire format', () => {
  it("encodes the encoding guide's examples byte for byte", () => {
    // protobuf.dev/programming-guides/encoding: field 1 = 150 is 08 96 01; field 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
    expect(hex(new ProtoWriter().uint(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    // A negative int32 is ten bytes of two's complement.
    expect(hex(new ProtoWriter().uint(1, -1).finish())).toBe('08ffffffffffffffffff01');
  });

  it('leaves out scalars at their default and keeps empty messages (proto3)', () => {
    expect(new ProtoWriter().uint(1, 0).string(2, '').uint(3, false).finish()).toHaveLength(0);
    expect(hex(new ProtoWriter().message(4, new ProtoWriter()).finish())).toBe('2200');
  });

  it('reads back what it writes: repeated strings, maps, nested messages, int64', () => {
    const bytes = new ProtoWriter()
      .strings(1, ['a', 'b'])
      .map(2, { k: 'v', empty: '' })
      .message(3, new ProtoWriter().uint(1, 1796658541109881025n).uint(2, true))
      .finish();
    const f = decode(bytes);
    expect(read.strings(f, 1)).toEqual(['a', 'b']);
    expect(read.map(f, 2)).toEqual({ k: 'v', empty: '' });
    const m = read.message(f, 3)!;
    expect([read.int(m, 1), read.bool(m, 2), read.string(m, 9)]).toEqual([1796658541109881025n, true, '']);
  });

  it('refuses truncated or malformed input instead of reading past it', () => {
    expect(() => decode(Uint8Array.from([0x12, 0x05, 0x61]))).toThrow(/runs past the end/);
    expect(() => decode(Uint8Array.from([0x08, 0x96]))).toThrow(/truncated varint/);
    expect(() => decode(Uint8Array.from([0x0b]))).toThrow(/wire type 3/);
    expect(() => read.string(decode(Uint8Array.from([0x08, 0x01])), 1)).toThrow(/varint where/);
  });

  it('frames a gRPC message (flag, big-endian length) and takes it apart again', () => {
    const f = frame(Uint8Array.from([1, 2, 3]));
    expect(hex(f)).toBe('0000000003010203');
    expect([...unframe(f)]).toEqual([1, 2, 3]);
    expect(() => unframe(Buffer.from('0000000005010203', 'hex'))).toThrow(/announces 5/);
  });
});

describe('CRI messages', () => {
  it('writes a PodSandboxConfig at the CRI field numbers', () => {
    const f = decode(
      encodePodSandboxConfig({
        metadata: { name: 'web', uid: 'u1', namespace: 'default' },
        hostname: 'web',
        dnsConfig: { servers: ['10.96.0.10'], options: ['ndots:5'] },
        portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
        labels: { app: 'web' },
        linux: { cgroupParent: '/kubepods', namespaces: { pid: 'CONTAINER' } },
      }).finish(),
    );
    const meta = read.message(f, 1)!;
    expect([read.string(meta, 1), read.string(meta, 2), read.string(meta, 3)]).toEqual(['web', 'u1', 'default']);
    expect(read.string(f, 2)).toBe('web');
    const dns = read.message(f, 4)!;
    expect([read.strings(dns, 1), read.strings(dns, 3)]).toEqual([['10.96.0.10'], ['ndots:5']]);
    const port = read.messages(f, 5)[0]!;
    expect([read.int(port, 1), read.int(port, 2), read.int(port, 3)]).toEqual([1n, 53n, 5353n]);
    expect(read.map(f, 6)).toEqual({ app: 'web' });
    const linux = read.message(f, 8)!;
    const ns = read.message(read.message(linux, 2)!, 1)!;
    expect([read.string(linux, 1), read.int(ns, 1), read.int(ns, 2), read.int(ns, 3)]).toEqual(['/kubepods', 0n, 1n, 0n]);
  });

  it('reads a PodSandboxStatusResponse: both families of the network status, the verbose info', () => {
    const net = new ProtoWriter().string(1, '10.244.1.5').messages(2, [new ProtoWriter().string(1, 'fd00:244:0:1::5')]);
    const status = new ProtoWriter()
      .string(1, 'abc')
      .message(2, new ProtoWriter().string(1, 'web').string(3, 'default'))
      .uint(3, 1)
      .uint(4, 42n)
      .message(5, net);
    const s = decodePodSandboxStatus(new ProtoWriter().message(1, status).map(2, { info: '{"pid":7}' }).finish());
    expect(s).toMatchObject({ id: 'abc', state: 'SANDBOX_NOTREADY', createdAt: 42n, ip: '10.244.1.5', additionalIps: ['fd00:244:0:1::5'] });
    expect(s.metadata).toMatchObject({ name: 'web', namespace: 'default' });
    expect(s.info).toEqual({ info: '{"pid":7}' });
  });
});
