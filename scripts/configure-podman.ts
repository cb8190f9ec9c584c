/**
 * Makes podman 4 use CNI (and so weft) on this machine, as ../shared/notes/podman.md measured: podman 4.3
 * has no command-line flag for the network backend, and this sandbox needs runc, cgroupfs, a file events
 * logger and no default ulimits. Merges these keys into /etc/containers/containers.conf (or the file given
 * as the first argument), keeping every other setting and comment.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const REQUIRED: Record<string, Record<string, string>> = {
  network: { network_backend: '"cni"', cni_plugin_dirs: '["/opt/cni/bin", "/usr/lib/cni"]' },
  containers: { default_ulimits: '[]' },
  engine: { cgroup_manager: '"cgroupfs"', events_logger: '"file"', runtime: '"runc"' },
};

export function mergeContainersConf(text: string, required = REQUIRED): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  for (const [section, keys] of Object.entries(required)) {
    let start = lines.findIndex((l) => l.trim() === `[${section}]`);
    if (start < 0) {
      if (lines.length > 0) lines.push('');
      lines.push(`[${section}]`);
      start = lines.length - 1;
    }
    let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
    if (end < 0) end = lines.length;
    for (const [key, value] of Object.entries(keys)) {
      const at = lines.findIndex((l, i) => i > start && i < end && new RegExp(`^\\s*${key}\\s*=`).test(l));
      if (at >= 0) lines[at] = `${key} = ${value}`;
      else {
        lines.splice(end, 0, `${key} = ${value}`);
        end++;
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.main) {
  const file = process.argv[2] ?? '/etc/containers/containers.conf';
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const after = mergeContainersConf(before);
  if (after !== before) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, after);
    process.stdout.write(`setup: podman configured for CNI in ${file}\n`);
  }
}
