/**
 * House rule R3: each system boundary has one door. Only pkg/kernel may load the native addons (netlink,
 * koffi); the pure packages (netaddr, rtnl, errors) import nothing with side effects; flannel-compat is a layer
 * of pure codecs over netaddr and errors (docs/adr/0001). A violation names the file and the import.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(root, dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(relative(root, p)));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const importsOf = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/(?:from|import\(|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

const product = [...sources('pkg'), ...sources('cmd'), ...sources('flannel-compat')];

/** The file a relative import of `file` names, from the repository's root ("" for a package). */
const target = (file: string, i: string): string => (i.startsWith('.') ? relative(root, join(root, file, '..', i)) : '');

/** Every source file `entry` loads, by static or dynamic import: what runs in that process. */
function loadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f) || !f.endsWith('.ts')) continue;
    seen.add(f);
    todo.push(
      ...importsOf(f)
        .filter((i) => i.startsWith('.'))
        .map((i) => target(f, i)),
    );
  }
  return seen;
}

/** The daemon side: everything the daemon process can load. */
const daemonSide = loadedBy('pkg/daemon/mod.ts');

/** A synchronous child process, by name, however child_process was reached (named or namespace import, require). */
const SYNC_CHILD = /\b(spawnSync|execSync|execFileSync)\b/;
/** No exception: nft waits only in pkg/firewall/nft-sync.ts, which the daemon does not load. */
const SYNC_CHILD_ALLOWED = new Set<string>();

/** A file's code without its comments (a comment may name spawnSync to say why it is not used). */
const codeOf = (file: string): string =>
  readFileSync(join(root, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');

describe('import boundaries', () => {
  it('only pkg/kernel loads the native addons', () => {
    const bad = product
      .filter((f) => !f.startsWith('pkg/kernel/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => /^(netlink|koffi)(\/|$)/.test(i))
          .map((i) => `${f} imports ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('the pure packages (netaddr, rtnl, errors, hash) import only each other', () => {
    const pure = product.filter((f) => /^pkg\/(netaddr|rtnl|errors|hash)\//.test(f));
    const bad = pure.flatMap((f) =>
      importsOf(f)
        .filter((i) => !(i.startsWith('./') || /^\.\.\/(netaddr|rtnl|errors|hash)\//.test(i)))
        .map((i) => `${f} imports ${i}`),
    );
    expect(bad).toEqual([]);
  });

  it('only pkg/store talks to etcd (its client lives in pkg/store/etcd)', () => {
    const bad = product
      .filter((f) => !f.startsWith('pkg/store/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => /\/store\/etcd\//.test(i))
          .map((i) => `${f} imports ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('only pkg/kube talks to the Kubernetes API', () => {
    const bad = product
      .filter((f) => !f.startsWith('pkg/kube/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => i.startsWith('@kubernetes/'))
          .map((i) => `${f} imports ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it('flannel-compat imports only the pure packages and pure built-ins (docs/adr/0001)', () => {
    const compat = product.filter((f) => f.startsWith('flannel-compat/'));
    const ok = (i: string) => i.startsWith('./') || /^\.\.\/pkg\/(netaddr|errors|hash)\//.test(i) || i === '../pkg/defaults.ts';
    expect(
      compat.flatMap((f) =>
        importsOf(f)
          .filter((i) => !ok(i))
          .map((i) => `${f} imports ${i}`),
      ),
    ).toEqual([]);
  });

  it('the attachment core (pkg/attach) is used only through its public entry, pkg/attach/mod.ts (issue 27)', () => {
    const bad = product
      .filter((f) => !f.startsWith('pkg/attach/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => /^pkg\/attach\/(?!mod\.ts$)/.test(target(f, i)))
          .map((i) => `${f} imports ${i}`),
      );
    expect(bad).toEqual([]);
  });

  it(
    'the daemon and the CNI plugin share only pkg/contract and the attachment core: nothing the daemon loads is the ' +
      "plugin's (pkg/cniplugin), and of it only the Docker driver (pkg/docker) imports the core, through its mod.ts " +
      '(docs/adr/0011)',
    () => {
      // What the daemon process can load, found from its entry, so a folder the daemon starts to use is covered.
      const folders = new Set([...daemonSide].map((f) => folderOf(f)));
      expect(['daemon', 'agent', 'lease', 'firewall', 'store', 'docker', 'dns', 'overlay'].filter((d) => !folders.has(d))).toEqual([]);
      const bad = [...daemonSide]
        .filter((f) => !f.startsWith('pkg/attach/'))
        .flatMap((f) =>
          importsOf(f)
            .map((i) => target(f, i))
            .filter(
              (t) =>
                t.startsWith('pkg/cniplugin/') ||
                (t.startsWith('pkg/attach/') && !(f.startsWith('pkg/docker/') && t === 'pkg/attach/mod.ts')),
            )
            .map((t) => `${f} imports ${t}`),
        );
      expect(bad).toEqual([]);
    },
  );

  it('nothing the daemon loads runs a child process synchronously: its DNS, lease keep-alives and API would stop (issue 27)', () => {
    const bad = [...daemonSide].filter((f) => !SYNC_CHILD_ALLOWED.has(f) && SYNC_CHILD.test(codeOf(f))).sort();
    expect(bad).toEqual([]);
  });

  it('nothing under pkg imports cmd', () => {
    const bad = product
      .filter((f) => f.startsWith('pkg/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => /\/cmd\//.test(i))
          .map((i) => `${f} imports ${i}`),
      );
    expect(bad).toEqual([]);
  });
});

/** The folder of pkg/ a file is in ("pkg/store/etcd/client.ts" -> "store"), or undefined outside pkg/. */
const folderOf = (file: string): string | undefined => /^pkg\/([^/]+)\//.exec(file)?.[1];

describe('layering', () => {
  it('no import cycle between the folders of pkg/ (issue 12)', () => {
    const edges = new Map<string, Set<string>>();
    for (const f of product.filter((x) => x.startsWith('pkg/'))) {
      const from = folderOf(f);
      if (!from) continue;
      for (const i of importsOf(f).filter((x) => x.startsWith('.'))) {
        const to = folderOf(relative(root, join(root, f, '..', i)));
        if (to && to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of edges.get(node) ?? []) {
        if (next === path[0]) cycles.push([...path, next].join(' -> '));
        else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
      }
    };
    for (const start of edges.keys()) visit(start, [start]);
    expect(cycles).toEqual([]);
  });
});

describe('house style', () => {
  it('no line over 140 columns in the TypeScript sources (the formatter cannot split strings; issue 12)', () => {
    const all = (dir: string): string[] =>
      readdirSync(join(root, dir)).flatMap((name) => {
        const p = join(dir, name);
        if (statSync(join(root, p)).isDirectory()) return name === 'node_modules' || name === 'testdata' ? [] : all(p);
        return name.endsWith('.ts') ? [p] : [];
      });
    const files = ['cmd', 'pkg', 'flannel-compat', 'bundle', 'deploy', 'test', 'bench', 'scripts'].flatMap(all);
    const longIn = (f: string) =>
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .flatMap((l, i) => (l.length > 140 ? [`${f}:${i + 1} (${l.length})`] : []));
    const long = files.flatMap(longIn);
    expect(long).toEqual([]);
  });

  it('no dead link in the README and docs: every relative link resolves inside the repository (issue 14)', () => {
    const docs = [
      'README.md',
      'CONTRIBUTING.md',
      ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`),
      ...readdirSync(join(root, 'docs/adr')).map((f) => `docs/adr/${f}`),
    ].filter((f) => f.endsWith('.md'));
    const dead = docs.flatMap((f) => {
      const text = readFileSync(join(root, f), 'utf8');
      const links = [...text.matchAll(/\]\(([^)\s#]+)[^)]*\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
      const outside = text.includes('../shared/') ? [`${f}: ../shared/ (not part of the repository)`] : [];
      return [...outside, ...links.filter((l) => !existsSync(join(root, f, '..', l))).map((l) => `${f}: ${l}`)];
    });
    expect(dead).toEqual([]);
  });
});
