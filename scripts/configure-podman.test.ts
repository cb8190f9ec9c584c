import { describe, expect, it } from 'vitest';
import { mergeContainersConf } from './configure-podman.ts';

describe('mergeContainersConf()', () => {
  it('writes the required sections into an empty file', () => {
    const out = mergeContainersConf('');
    expect(out).toContain('[network]\nnetwork_backend = "cni"\ncni_plugin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]');
    expect(out).toContain('[engine]\ncgroup_manager = "cgroupfs"');
  });

  it('keeps other settings and comments, replaces only the keys it owns, and is idempotent', () => {
    const before = '# mine\n[containers]\nlog_size_max = 10\ndefault_ulimits = ["nofile=1:2"]\n\n[network]\nnetwork_backend = "netavark"\n';
    const once = mergeContainersConf(before);
    expect(once).toContain('# mine\n[containers]\nlog_size_max = 10\ndefault_ulimits = []');
    expect(once).toContain('network_backend = "cni"');
    expect(once).not.toContain('netavark');
    expect(mergeContainersConf(once)).toBe(once);
  });
});
