/**
 * podman for the root tests: pkg/lab's podman wrapper inside a test host, with weft (dist/weft) first in the
 * plugin path and, for plugin-level tests, conflists written here; removed after the test.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Podman as LabPodman } from '../../pkg/lab/podman.ts';
import { WEFT_BIN, type CniHost } from './cni.ts';
import { defer } from './netns.ts';

/** Where podman runs: a plugin-test host, or a simulated cluster host whose daemon writes the conflists. */
export interface PodmanHost {
  readonly ns: { readonly path: string };
  readonly dir: string;
  readonly conf?: CniHost['conf'];
}

export class Podman extends LabPodman {
  readonly host: PodmanHost;

  constructor(host: PodmanHost, opts: { netConfDir?: string } = {}) {
    const dir = join(host.dir, 'podman');
    for (const d of ['bin', 'net.d']) mkdirSync(join(dir, d), { recursive: true });
    symlinkSync(WEFT_BIN, join(dir, 'bin/weft'));
    super(dir, { nsPath: host.ns.path, netConfDir: opts.netConfDir ?? join(dir, 'net.d'), pluginDirs: [join(dir, 'bin'), '/usr/lib/cni'] });
    this.host = host;
    defer(() => void this.removeAll());
  }

  /** Writes a conflist whose first plugin is weft (pointing at this host's lease and state). */
  network(name: string, cniVersion: string, extra: object = {}): void {
    const { cniVersion: _v, name: _n, ...weft } = this.host.conf!(extra, cniVersion);
    writeFileSync(join(this.o.netConfDir, `${name}.conflist`), JSON.stringify({ cniVersion, name, plugins: [weft] }));
  }
}
