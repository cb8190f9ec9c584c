import { describe, expect, it } from 'vitest';
import { WeftError } from '../errors/mod.ts';
import { dispatch, type CniPlugin, type CniRequest } from './dispatch.ts';
import type { CniIo } from './io.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[];
}

async function run(env: Record<string, string>, stdin: string, plugin: Partial<CniPlugin> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const calls: string[] = [];
  const record = (verb: string) => async (req: CniRequest) => {
    calls.push(`${verb} ${req.version}`);
  };
  const p: CniPlugin = {
    add: async (req) => {
      calls.push(`ADD ${req.version}`);
      return {
        interfaces: [{ name: 'eth0', mac: '02:42:0a:00:00:02', sandbox: req.env.netns }],
        ips: [{ address: '10.0.0.2/24', gateway: '10.0.0.1', interface: 0 }],
      };
    },
    del: record('DEL'),
    check: record('CHECK'),
    status: record('STATUS'),
    gc: record('GC'),
    ...plugin,
  };
  const io: CniIo = {
    env,
    readStdin: () => Buffer.from(stdin),
    writeStdout: (s) => {
      stdout += s;
    },
    writeStderr: (s) => {
      stderr += s;
    },
  };
  const code = await dispatch(io, p, 'weft CNI plugin');
  return { code, stdout, stderr, calls };
}

const ADD_ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const conf = (v: string | undefined, extra: object = {}) =>
  JSON.stringify({ ...(v !== undefined && { cniVersion: v }), name: 'net1', type: 'weft', ...extra });
const err = (r: Run) => JSON.parse(r.stdout) as { code: number; msg: string; details?: string; cniVersion: string };

describe('dispatch(): environment and input (checklist X4-X10, A1-A3, D11)', () => {
  it('prints the about text to stderr and exits 0 when CNI_COMMAND is empty', async () => {
    const r = await run({ CNI_COMMAND: '' }, '');
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toContain('CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0');
  });

  it('rejects an unknown command, lower-case included, with code 4', async () => {
    for (const c of ['FOO', 'add']) {
      const r = await run({ CNI_COMMAND: c }, conf('1.0.0'));
      expect(r.code).toBe(1);
      expect(err(r)).toMatchObject({ code: 4, msg: `unknown CNI_COMMAND: ${c}` });
    }
  });

  it('names every missing variable at once and does not require CNI_PATH', async () => {
    const r = await run({ CNI_COMMAND: 'ADD' }, conf('1.0.0'));
    expect(err(r)).toMatchObject({ code: 4, msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing' });
    const del = await run({ CNI_COMMAND: 'DEL', CNI_NETNS: '' }, conf('1.0.0'));
    expect(err(del).msg).toBe('required env variables [CNI_CONTAINERID,CNI_IFNAME] missing');
    const noPath = await run({ ...ADD_ENV, CNI_PATH: '' }, conf('1.0.0'));
    expect(noPath.code).toBe(0);
  });

  it('validates the container ID and interface name (code 4) before touching anything', async () => {
    expect(err(await run({ ...ADD_ENV, CNI_CONTAINERID: '-x/y' }, conf('1.0.0')))).toMatchObject({
      code: 4,
      msg: 'invalid characters in containerID',
      details: '-x/y',
    });
    for (const bad of ['averyveryverylongname', '.', '..', 'a/b', 'a:b', 'a b']) {
      const r = await run({ ...ADD_ENV, CNI_IFNAME: bad }, conf('1.0.0'));
      expect(err(r).code, bad).toBe(4);
      expect(r.calls).toEqual([]);
    }
  });

  it('answers code 6 for stdin that is not a JSON object, and code 7 for a missing or bad name', async () => {
    for (const s of ['{', '', '[]', '"x"', 'null']) expect(err(await run(ADD_ENV, s)).code, JSON.stringify(s)).toBe(6);
    expect(err(await run(ADD_ENV, '{"cniVersion":"1.0.0"}'))).toMatchObject({ code: 7, msg: 'missing network name' });
    expect(err(await run(ADD_ENV, '{"cniVersion":"1.0.0","name":"-bad/name"}'))).toMatchObject({
      code: 7,
      msg: 'invalid characters found in network name',
    });
  });

  it('ignores unknown keys, capabilities, runtimeConfig and cni.dev/* keys (X8)', async () => {
    const r = await run(
      ADD_ENV,
      conf('1.0.0', {
        capabilities: { mac: true },
        runtimeConfig: { portMappings: [] },
        args: { cni: { x: 1 } },
        'cni.dev/x': 1,
        whatever: [1],
      }),
    );
    expect(r.code).toBe(0);
  });
});

describe('dispatch(): versions (X9, X10, V1-V5)', () => {
  it('VERSION replies with the asked version and every supported one, reading no config', async () => {
    const r = await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(JSON.parse(r.stdout)).toEqual({
      cniVersion: '0.4.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    for (const stdin of ['', 'garbage', conf('9.9.9')]) {
      const v = await run({ CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' }, stdin);
      expect(v.code).toBe(0);
      expect(JSON.parse(v.stdout).cniVersion).toBe('1.1.0');
    }
  });

  it('ADD and DEL need a supported version exactly; a missing cniVersion means 0.1.0', async () => {
    const r = await run(ADD_ENV, conf('1.2.0'));
    expect(err(r)).toMatchObject({
      code: 1,
      msg: 'incompatible CNI versions',
      details: 'config is "1.2.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]',
    });
    expect(r.calls).toEqual([]);
    const old = await run(ADD_ENV, conf(undefined));
    expect(JSON.parse(old.stdout)).toEqual({ cniVersion: '0.1.0', ip4: { ip: '10.0.0.2/24', gateway: '10.0.0.1' }, dns: {} });
  });

  it('CHECK needs 0.4.0, STATUS and GC need 1.1.0; an unparsable version is code 6', async () => {
    expect(err(await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, conf('0.3.1')))).toMatchObject({
      code: 1,
      msg: 'config version does not allow CHECK',
    });
    expect(err(await run({ CNI_COMMAND: 'STATUS' }, conf('1.0.0')))).toMatchObject({
      code: 1,
      msg: 'config version does not allow STATUS',
    });
    expect(err(await run({ CNI_COMMAND: 'GC' }, conf('1.0.0')))).toMatchObject({ code: 1, msg: 'config version does not allow GC' });
    expect(err(await run({ ...ADD_ENV, CNI_COMMAND: 'CHECK' }, conf('one')))).toMatchObject({ code: 6 });
    expect((await run({ CNI_COMMAND: 'GC' }, conf('1.1.0'))).calls).toEqual(['GC 1.1.0']);
  });

  it("reports a plugin's typed error with its code and an untyped one as 999, in the config's version", async () => {
    const typed = await run(ADD_ENV, conf('0.4.0'), {
      add: () => Promise.reject(new WeftError('WEFT_TRY_AGAIN', 'no lease yet', { details: 'd' })),
    });
    expect(err(typed)).toEqual({ cniVersion: '0.4.0', code: 11, msg: 'no lease yet', details: 'd' });
    expect(typed.stderr).toBe('weft: CNI ADD: no lease yet\n');
    const untyped = await run(ADD_ENV, conf('1.0.0'), { add: () => Promise.reject(new TypeError('boom')) });
    expect(err(untyped)).toMatchObject({ code: 999, msg: 'boom' });
  });
});
