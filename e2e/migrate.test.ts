// `kube-replicator migrate` as a cluster admin runs it: 20 annotated sources of both dialects (and two pulls)
// replicated by the operator; migrate, run out of process as a read-only identity, prints policies; `plan -f` on them
// plans no create or delete, only the take-over of the replicas; applied, they take every replica over with a
// provenance update alone (audit log), and the annotations can then be removed with every replica left as it was.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { admin, clusterRoleUserKubeconfig, controlPlaneInfo, uniqueName, waitFor } from '../test/support/cluster.ts';
import { replicatorAuditEntries } from '../tools/controlplane/audit-log.ts';
import { AuditWrites, kubectl, OperatorProcess } from './support/process.ts';

const M = 'replicator.v1.mittwald.de/';
const R = 'reflector.v1.k8s.emberstack.com/';
const KR = 'kube-replicator.io/';
const run = uniqueName('mig');
const [s1, s2, s3, t1, t2, t3] = ['s1', 's2', 's3', 't1', 't2', 't3'].map((n) => `${run}-${n}`) as [string, string, string, string, string, string];
const sel = `${run}-sel`;
const resyncSeconds = 5;
const operator = new OperatorProcess('migrate', [`--resync-period=${resyncSeconds}s`]);
const root = join(import.meta.dirname, '..');
const dir = controlPlaneInfo().dir;

type Kind = 'Secret' | 'ConfigMap' | 'ServiceAccount';
interface Source { kind: Kind; namespace: string; name: string; annotations: Record<string, string>; labels?: Record<string, string>; targets: string[] }

const reflectOn = { [`${R}reflection-allowed`]: 'true', [`${R}reflection-auto-enabled`]: 'true' };
const sources: Source[] = [
  ...[1, 2, 3, 4].map((i) => ({ kind: 'Secret' as const, namespace: s1, name: `m-to-${i}`, labels: { app: 'a' }, annotations: { [`${M}replicate-to`]: `${t1},${t2}` }, targets: [t1, t2] })),
  ...[1, 2, 3].map((i) => ({ kind: 'ConfigMap' as const, namespace: s1, name: `m-match-${i}`, annotations: { [`${M}replicate-to-matching`]: `${sel}=member` }, targets: [t1, t3] })),
  { kind: 'Secret', namespace: s1, name: 'm-strip', labels: { app: 'a' }, annotations: { [`${M}replicate-to`]: t1, [`${M}strip-labels`]: 'true' }, targets: [t1] },
  ...[1, 2, 3, 4].map((i) => ({ kind: 'Secret' as const, namespace: s2, name: `r-auto-${i}`, labels: { app: 'r' }, annotations: { ...reflectOn, [`${R}reflection-auto-namespaces`]: `${t2},${t3}` }, targets: [t2, t3] })),
  ...[1, 2].map((i) => ({ kind: 'ConfigMap' as const, namespace: s2, name: `r-allowed-${i}`, annotations: { ...reflectOn, [`${R}reflection-allowed-namespaces`]: `${run}-t.*` }, targets: [t1, t2, t3] })),
  { kind: 'ConfigMap', namespace: s2, name: 'r-selector', annotations: { ...reflectOn, [`${R}reflection-auto-namespaces-selector`]: `${sel}=member` }, targets: [t1, t3] },
  ...[1, 2].map((i) => ({ kind: 'Secret' as const, namespace: s3, name: `both-${i}`, annotations: { [`${M}replicate-to`]: t1, ...reflectOn, [`${R}reflection-auto-namespaces`]: t3 }, targets: [t1, t3] })),
  { kind: 'ServiceAccount', namespace: s3, name: 'm-sa', annotations: { [`${M}replicate-to`]: t2 }, targets: [t2] },
  { kind: 'Secret', namespace: s3, name: 'm-consent', annotations: { [`${M}replicate-to`]: t2, [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: t3 }, targets: [t2] },
  { kind: 'ConfigMap', namespace: s3, name: 'm-regex', annotations: { [`${M}replicate-to`]: `${run}-t[12]` }, targets: [t1, t2] },
];
/** The annotations a push is made of: removed once the policies hold the replicas (consent stays, for the pulls). */
const pushKeys = [`${M}replicate-to`, `${M}replicate-to-matching`, `${M}strip-labels`, `${R}reflection-auto-enabled`, `${R}reflection-auto-namespaces`, `${R}reflection-auto-namespaces-selector`];
const pulls: Omit<Source, 'targets'>[] = [
  { kind: 'Secret', namespace: t3, name: 'pull-m', annotations: { [`${M}replicate-from`]: `${s3}/m-consent` } },
  { kind: 'ConfigMap', namespace: t2, name: 'pull-r', annotations: { [`${R}reflects`]: `${s2}/r-allowed-1` } },
];
const replicas = sources.flatMap((s) => s.targets.map((namespace) => ({ kind: s.kind, namespace, name: s.name })));
const plural: Record<Kind, string> = { Secret: 'secrets', ConfigMap: 'configmaps', ServiceAccount: 'serviceaccounts' };

function manifest(s: { kind: Kind; namespace: string; name: string; annotations: Record<string, string>; labels?: Record<string, string> }, i: number): Record<string, unknown> {
  const metadata = { name: s.name, namespace: s.namespace, annotations: s.annotations, labels: s.labels ?? {} };
  if (s.kind === 'ServiceAccount') return { apiVersion: 'v1', kind: s.kind, metadata };
  return { apiVersion: 'v1', kind: s.kind, metadata, data: s.kind === 'Secret' ? { v: Buffer.from(`value-${i}`).toString('base64') } : { v: `value-${i}` } };
}

interface Obj { metadata: { uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion: string }; data?: Record<string, string> }
const get = (r: { kind: Kind; namespace: string; name: string }): Obj | undefined => {
  try {
    return JSON.parse(kubectl(['get', plural[r.kind], r.name, '-n', r.namespace, '-o', 'json'])) as Obj;
  } catch {
    return undefined;
  }
};
/** What must not change on a replica: identity, data, labels and every annotation but the provenance of the rule. */
const provenanceKeys = new Set([`${KR}rule`, `${KR}tier`, `${KR}policy-uid`, `${M}replicated-at`, `${M}replicated-from-version`]);
function fingerprint(o: Obj): string {
  const annotations = Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).filter(([k]) => !provenanceKeys.has(k)).sort());
  return createHash('sha256').update(JSON.stringify({ uid: o.metadata.uid, data: o.data, labels: o.metadata.labels, annotations })).digest('hex');
}

/** kube-replicator out of process, as a user runs it. */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'src', 'main.ts'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const reader = `${run}-reader`;
const partialReader = `${run}-partial`;

async function metricSum(name: string): Promise<number> {
  const text = await (await fetch(`${operator.statusUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

beforeAll(async () => {
  for (const n of [s1, s2, s3, t2]) kubectl(['create', 'namespace', n]);
  for (const n of [t1, t3]) kubectl(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { [sel]: 'member' } } }));
  kubectl(['apply', '-f', '-'], [...sources, ...pulls].map((s, i) => stringify(manifest(s, i))).join('---\n'));
  await operator.start();
});

afterAll(async () => {
  await operator.kill('SIGTERM');
  kubectl(['delete', 'replicationpolicies', '-l', `${KR}test-run=${run}`, '--ignore-not-found', '--wait=false']);
  for (const n of [s1, s2, s3, t1, t2, t3]) kubectl(['delete', 'namespace', n, '--ignore-not-found', '--wait=false']);
  for (const u of [reader, partialReader]) {
    await admin().rbac.deleteClusterRoleBinding({ name: u }).catch(() => undefined);
    await admin().rbac.deleteClusterRole({ name: u }).catch(() => undefined);
  }
});

describe('kube-replicator migrate', () => {
  let output = '';
  let policyNames: string[] = [];
  const before = new Map<string, string>();
  const key = (r: { kind: string; namespace: string; name: string }) => `${r.kind}/${r.namespace}/${r.name}`;

  it('the operator replicates the 20 annotated sources (and serves the 2 pulls)', async () => {
    expect(sources).toHaveLength(20);
    await waitFor('every replica made by the annotations', () => replicas.every((r) => get(r)?.metadata.annotations?.[`${KR}rule`] === 'annotation'), 90_000);
    await waitFor('the pulls', () => pulls.every((p) => get(p)?.data?.v !== undefined), 60_000);
    for (const r of replicas) before.set(key(r), fingerprint(get(r)!));
  });

  it('migrate reads with get and list only, and prints policies and what they cannot express', async () => {
    const rw = ['get', 'list'];
    const kubeconfig = await clusterRoleUserKubeconfig(reader, [
      { apiGroups: [''], resources: ['secrets', 'configmaps', 'serviceaccounts'], verbs: rw },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: rw },
    ]);
    const offset = statSync(controlPlaneInfo().auditLog).size;
    // Cluster-wide, as an admin would run it; the control plane is shared, so only this file's namespaces are kept.
    const r = cli(['migrate', `--kubeconfig=${kubeconfig}`]);
    expect(r).toMatchObject({ status: 0 });
    const ours = (ns: string | undefined) => [s1, s2, s3, t1, t2, t3].includes(ns ?? '');
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: { source: { namespace: string; names: string[] }; kinds: string[] } } | null)
      .filter((d) => d?.kind === 'ReplicationPolicy' && ours(d.spec.source.namespace)).map((d) => d!);
    // Grouped: the 20 sources make 10 policies (one per namespace, kind, target set and carry options).
    expect(docs.map((d) => `${d.spec.source.namespace.slice(run.length + 1)} ${d.spec.kinds.join()} ${d.spec.source.names.join()}`).sort()).toEqual([
      's1 ConfigMap m-match-1,m-match-2,m-match-3', 's1 Secret m-strip', 's1 Secret m-to-1,m-to-2,m-to-3,m-to-4',
      's2 ConfigMap r-allowed-1,r-allowed-2', 's2 ConfigMap r-selector', 's2 Secret r-auto-1,r-auto-2,r-auto-3,r-auto-4',
      's3 ConfigMap m-regex', 's3 Secret both-1,both-2', 's3 Secret m-consent', 's3 ServiceAccount m-sa',
    ]);
    // Not expressible: both pulls and the consent, each with why.
    expect(r.stdout).toContain(`#   Secret ${t3}/pull-m: it pulls (${M}replicate-from)`);
    expect(r.stdout).toContain(`#   ConfigMap ${t2}/pull-r: it pulls (${R}reflects)`);
    expect(r.stdout).toContain(`#   Secret ${s3}/m-consent: its consent to pulls`);
    expect(r.stderr).toMatch(/ReplicationPolicies written; \d+ not expressible/);
    // No write of any kind by the migrating identity (the audit log records every write, refused ones too).
    expect(replicatorAuditEntries(controlPlaneInfo().auditLog, offset).filter((e) => e.user.username === reader)).toEqual([]);
    policyNames = docs.map((d) => d.metadata.name);
    output = docs.map((d) => stringify({ ...d, metadata: { ...d.metadata, labels: { [`${KR}test-run`]: run } } })).join('---\n');
    writeFileSync(join(dir, `${run}-policies.yaml`), output);

    // -n: one namespace's sources only.
    const one = cli(['migrate', `--kubeconfig=${kubeconfig}`, '-n', s2]);
    expect(one).toMatchObject({ status: 0, stderr: expect.stringContaining('ReplicationPolicies written') });
    const namespaces = parseAllDocuments(one.stdout).map((d) => (d.toJS() as { spec?: { source: { namespace: string } } } | null)?.spec?.source.namespace).filter(Boolean);
    expect(new Set(namespaces)).toEqual(new Set([s2]));
  });

  it('says which resource it may not list, and exits 1', async () => {
    const kubeconfig = await clusterRoleUserKubeconfig(partialReader, [{ apiGroups: [''], resources: ['secrets', 'configmaps', 'serviceaccounts'], verbs: ['get', 'list'] }]);
    const r = cli(['migrate', `--kubeconfig=${kubeconfig}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot list roles cluster-wide (403 Forbidden)');
    expect(r.stdout).toBe('');
  });

  it('plan -f on its output plans no change: only the take-over of the replicas by the policies (provenance)', () => {
    const r = cli(['plan', '-f', join(dir, `${run}-policies.yaml`), `--kubeconfig=${controlPlaneInfo().kubeconfig}`]);
    expect(r.status).toBe(0);
    // Its caches sync without an error on the way (an unset watch-inactivity option once aborted every watch).
    expect(r.stdout).not.toContain('"level":"error"');
    for (const n of policyNames) expect(r.stdout).toContain(`policy   ${n}: valid`);
    const lines = r.stdout.split('\n').filter((l) => [t1, t2, t3, s1, s2, s3].some((ns) => l.includes(` ${ns}/`)));
    // The annotation rules, still there, are told that the policy takes precedence: warnings, not changes.
    const warnings = lines.filter((l) => l.startsWith('warning '));
    for (const l of warnings) expect(l).toMatch(/RuleConflict: .* \(policy\/migrated-[^,]+, trusted\), which takes precedence over this annotation rule \(untrusted\)/);
    const mine = lines.filter((l) => !l.startsWith('warning '));
    // No change of what any replica holds: each write is a take-over (provenance only).
    expect(mine.filter((l) => !l.startsWith('take-over '))).toEqual([]);
    expect(r.stdout).toMatch(new RegExp(`take-over\\(s\\) change only provenance`));
    // Each take-over is one replica going over to a policy of the output, trusted.
    expect(mine.map((l) => l.replace(/^\S+\s+/, '').split('  (')[0]).sort()).toEqual(replicas.map((x) => `${x.kind} ${x.namespace}/${x.name}`).sort());
    for (const l of mine) expect(l).toMatch(new RegExp(`\\(rule policy:(${policyNames.join('|')}):\\S+, trusted\\)$`));
  });

  it('applied, the policies take every replica over with a provenance update; removing the annotations then changes nothing', async () => {
    const audit = new AuditWrites();
    audit.mark();
    kubectl(['apply', '-f', join(dir, `${run}-policies.yaml`)]);
    await waitFor('every policy Ready', () => policyNames.every((n) => {
      const p = JSON.parse(kubectl(['get', 'replicationpolicies', n, '-o', 'json'])) as { status?: { conditions?: { type: string; status: string }[] } };
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    }), 60_000);
    await waitFor('every replica held by a policy', () => replicas.every((r) => get(r)?.metadata.annotations?.[`${KR}rule`]?.startsWith('policy/migrated-')), 60_000);

    for (const s of sources) kubectl(['annotate', plural[s.kind], s.name, '-n', s.namespace, ...pushKeys.filter((k) => k in s.annotations).map((k) => `${k}-`)]);
    // Two full resyncs after the annotations went: every source and replica has been reconciled without them.
    const seen = new Set<number>([await metricSum('kube_replicator_last_sync_timestamp_seconds')]);
    await waitFor('two full resyncs', async () => seen.add(await metricSum('kube_replicator_last_sync_timestamp_seconds')).size > 2, 5 * resyncSeconds * 1000);

    for (const r of replicas) {
      const live = get(r);
      expect([key(r), live && fingerprint(live)]).toEqual([key(r), before.get(key(r))]);
      expect(live!.metadata.annotations?.[`${KR}tier`]).toBe('trusted');
    }
    const replicaKeys = new Set(replicas.map((r) => `${plural[r.kind]}/${r.namespace}/${r.name}`));
    const writes = audit.writes().filter((w) => w.resource !== 'replicationpolicies' && w.resource !== 'events' && w.resource !== 'leases');
    // Only updates of replicas (one take-over each, at most), nothing created, deleted, or written elsewhere.
    expect(writes.filter((w) => !replicaKeys.has(`${w.resource}/${w.namespace}/${w.name}`) || !['update', 'patch'].includes(w.verb))).toEqual([]);
    expect(new Set(writes.map((w) => `${w.resource}/${w.namespace}/${w.name}`))).toEqual(replicaKeys);
    // The pulls, not expressed, go on as before.
    for (const p of pulls) expect(get(p)?.data?.v).toBeDefined();
  }, 180_000);
});
