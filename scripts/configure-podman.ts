/**
 * What podman 4 needs to run containers on CNI (and so on weft) on this machine: podman 4.3 has no
 * command-line flag for the network backend, and this kind of machine needs runc, cgroupfs, a file events
 * logger and no default ulimits. The tests and the lab give podman a containers.conf of their own
 * (CONTAINERS_CONF), so the machine's is never changed unasked:
 *
 *   node scripts/configure-podman.ts              says what /etc/containers/containers.conf lacks, if anything
 *   node scripts/configure-podman.ts --write [F]  merges the keys into it (or F), keeping every other line
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
  const write = process.argv[2] === '--write';
  const file = (write ? process.argv[3] : process.argv[2]) ?? '/etc/containers/containers.conf';
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const after = mergeContainersConf(before);
  if (after === before) process.stdout.write(`setup: podman already uses CNI (${file})\n`);
  else if (write) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, after);
    process.stdout.write(`setup: podman configured for CNI in ${file}\n`);
  } else {
    const keys = Object.entries(REQUIRED).map(
      ([section, kv]) =>
        `[${section}] ${Object.entries(kv)
          .map(([k, v]) => `${k} = ${v}`)
          .join(', ')}`,
    );
    process.stdout.write(
      `setup: left ${file} as it is (the tests and the lab bring their own). To run podman containers on weft by hand, it\n` +
        `  needs: ${keys.join('; ')}\n  node_modules/.bin/node scripts/configure-podman.ts --write merges them in, keeping the rest.\n`,
    );
  }
}
