/**
 * The Kubernetes manifests, checked without a cluster: valid YAML; the fields the API server requires; RBAC
 * that grants only what the subnet manager uses; and the DaemonSet consistent with itself and with weft:
 * its flags parse with the daemon's own parser, every path a flag names is on a mounted volume, the
 * ConfigMap's files parse with weft's own codecs, and the probes hit the health port.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseDaemonFlags, type DaemonFlags } from '../../flannel-compat/daemon-flags.ts';
import { parseNetworkConfig } from '../../flannel-compat/network-config.ts';
import { checkConflist } from '../../pkg/install/mod.ts';

// Manifests are untyped data; the checks below are what types them.
// biome-ignore lint/suspicious/noExplicitAny: walking parsed YAML; every field read is checked by an expect.
type Obj = Record<string, any>;

function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(join(import.meta.dirname, file), 'utf8'));
  for (const d of docs) expect(d.errors, file).toEqual([]);
  return docs.map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

/** Expands $(VAR) from the container's env the way the kubelet does, with ConfigMap-backed values. */
function expand(arg: string, env: Obj[], configMaps: Obj[]): string {
  return arg.replace(/\$\(([A-Z_]+)\)/g, (_, name: string) => {
    const e = env.find((x) => x.name === name)!;
    expect(e, `env ${name} used by ${arg}`).toBeDefined();
    if (e.value !== undefined) return e.value as string;
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref) return configMaps.find((c) => c.metadata.name === ref.name)!.data[ref.key] as string;
    return `<${name}>`;
  });
}

function check(file: string, mode: 'kube' | 'etcd'): void {
  const objs = load(file);
  for (const o of objs) {
    expect(o.apiVersion, `${file} ${o.kind}`).toMatch(/^(v1|apps\/v1|rbac\.authorization\.k8s\.io\/v1)$/);
    expect(o.metadata?.name, `${file} ${o.kind}`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    if (!CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('kube-weft');
  }
  const byKind = (k: string) => objs.filter((o) => o.kind === k);
  expect(byKind('Namespace')[0]!.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  const configMaps = byKind('ConfigMap');
  const ds = byKind('DaemonSet')[0]!;
  const pod = ds.spec.template.spec;

  // What the API server requires of a DaemonSet, and what a node-level network daemon needs.
  expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
  expect(ds.spec.updateStrategy.type).toBe('RollingUpdate');
  expect(pod).toMatchObject({ hostNetwork: true, priorityClassName: 'system-node-critical', serviceAccountName: 'weft' });
  expect(pod.tolerations).toContainEqual({ operator: 'Exists' });
  expect(byKind('ServiceAccount').map((s) => s.metadata.name)).toContain(pod.serviceAccountName);
  for (const c of [...pod.initContainers, ...pod.containers]) {
    expect(c.name).toBeTruthy();
    expect(c.image).toBeTruthy();
  }

  // Volumes: every mount names a volume, every volume is mounted, host paths are absolute.
  const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
  const mounts = [...pod.initContainers, ...pod.containers].flatMap((c: Obj) => c.volumeMounts as Obj[]);
  for (const m of mounts) expect(volumes.has(m.name), `volume ${m.name}`).toBe(true);
  for (const name of volumes.keys())
    expect(
      mounts.some((m) => m.name === name),
      `volume ${name} is mounted`,
    ).toBe(true);
  for (const v of volumes.values()) if (v.hostPath) expect(v.hostPath.path).toMatch(/^\//);
  const onVolume = (c: Obj, path: string): Obj | undefined => {
    const m = (c.volumeMounts as Obj[])
      .filter((x) => path === x.mountPath || path.startsWith(`${x.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    return m && { mount: m, volume: volumes.get(m.name), rest: path.slice(m.mountPath.length + 1) };
  };
  const fileOf = (c: Obj, path: string): string => {
    const at = onVolume(c, path);
    expect(at?.volume?.configMap, `${path} is on a ConfigMap volume`).toBeDefined();
    const cm = configMaps.find((x) => x.metadata.name === at!.volume!.configMap.name)!;
    expect(cm.data[at!.rest], `${cm.metadata.name} has ${at!.rest}`).toBeDefined();
    return cm.data[at!.rest] as string;
  };

  // The init container installs the plugin and the conflist onto the node's CNI directories.
  const init = pod.initContainers[0];
  expect(init.command.slice(0, 2)).toEqual(['/weft', 'install']);
  const flag = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  expect(onVolume(init, flag(init.command, 'cni-bin-dir')!)?.volume?.hostPath.path).toBe('/opt/cni/bin');
  expect(onVolume(init, flag(init.command, 'cni-conf-dir')!)?.volume?.hostPath.path).toBe('/etc/cni/net.d');
  const conflist = checkConflist(fileOf(init, flag(init.command, 'conflist')!), 'cni-conf.json');
  expect((conflist.plugins as Obj[])[0]!.type).toBe('weft');

  // The daemon's flags parse with weft's own parser, and what they name is where the volumes put it.
  const daemon = pod.containers[0];
  expect(daemon.command.slice(0, 2)).toEqual(['/weft', 'daemon']);
  const args = daemon.command.slice(2).map((a: string) => expand(a, daemon.env, configMaps));
  const parsed = parseDaemonFlags(args, {});
  expect(parsed, JSON.stringify(parsed)).toMatchObject({ ok: true });
  const f = (parsed as { value: DaemonFlags }).value;
  expect(f.kubeSubnetMgr).toBe(mode === 'kube');
  expect(onVolume(daemon, f.subnetFile)?.volume?.hostPath.path).toBe('/run/flannel');
  expect(onVolume(daemon, f.stateDir)?.volume?.hostPath).toBeDefined();
  if (mode === 'kube') {
    const net = parseNetworkConfig(fileOf(daemon, f.netConfigPath));
    expect(net, JSON.stringify(net)).toMatchObject({ ok: true });
    const role = byKind('ClusterRole')[0]!;
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
    ]);
    const binding = byKind('ClusterRoleBinding')[0]!;
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toContainEqual({ kind: 'ServiceAccount', name: 'weft', namespace: 'kube-weft' });
  } else {
    expect(f.etcdEndpoints.every((e) => e.startsWith('https://'))).toBe(true);
    // The TLS files come from the Secret, each a key the Secret has; credentials from it too, if set.
    const secret = byKind('Secret')[0]!;
    for (const file of [f.etcdCAFile, f.etcdCertFile, f.etcdKeyFile]) {
      const at = onVolume(daemon, file!);
      expect(at?.volume?.secret?.secretName, file).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData), file).toContain(at!.rest);
    }
    const fromSecret = (daemon.env as Obj[])
      .filter((e) => e.valueFrom?.secretKeyRef)
      .map((e) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.optional]);
    expect(fromSecret).toEqual([
      ['FLANNELD_ETCD_USERNAME', secret.metadata.name, true],
      ['FLANNELD_ETCD_PASSWORD', secret.metadata.name, true],
    ]);
    const withAuth = parseDaemonFlags(args, { FLANNELD_ETCD_USERNAME: 'weft', FLANNELD_ETCD_PASSWORD: 'pw' });
    expect(withAuth).toMatchObject({ ok: true, value: { etcdUsername: 'weft', etcdPassword: 'pw' } });
    expect(onVolume(daemon, f.runDir)?.volume?.hostPath.path).toBe('/run/weft');
    expect(onVolume(daemon, f.cniConfDir)?.volume?.hostPath.path).toBe('/etc/cni/net.d');
    expect(onVolume(daemon, f.cniDataDir)?.volume?.hostPath.path).toBe('/var/lib/cni');
  }
  expect(daemon.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  expect(daemon.securityContext.capabilities.add).toContain('NET_ADMIN');
  expect(daemon.securityContext.capabilities.add).not.toContain('SYS_ADMIN');
  expect(daemon.livenessProbe.httpGet).toEqual({ path: '/healthz', port: f.healthzPort });
  expect(daemon.readinessProbe.httpGet).toEqual({ path: '/readyz', port: f.healthzPort });
  expect(f.healthzIP).toBe('0.0.0.0');
}

describe('deploy/kubernetes', () => {
  it('weft.yaml: the kube subnet manager DaemonSet is complete and consistent', () => check('weft.yaml', 'kube'));
  it('weft-etcd.yaml: the etcd-mode DaemonSet is complete and consistent', () => check('weft-etcd.yaml', 'etcd'));
  it('the Containerfile packages dist/weft', () => {
    const cf = readFileSync(join(import.meta.dirname, '../Containerfile'), 'utf8');
    expect(cf).toMatch(/^COPY dist\/weft \/weft$/m);
    expect(cf).toMatch(/nftables/);
  });
});
