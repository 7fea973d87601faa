import { describe, expect, it, jest } from '@jest/globals';
import { builtinKinds as K, genericKind, type BuiltinKind as Kind } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { pushRuleFromAnnotations } from '../rules/annotation-rules.ts';
import { parseNamespacePatterns } from '../rules/patterns.ts';
import { defaultSettings, type PushRule, type Settings } from '../rules/types.ts';
import { annotations as A, provenance as P, reflector as R } from '../rules/vocabulary.ts';
import { contentHash } from './desired.ts';
import { classify } from './ownership.ts';
import { compareCandidates, plan as planFor, type Candidate, type Plan, type PlanInput } from './plan.ts';
import { applyMergePatch } from './provenance-only.ts';

/** plan() with the target's built-in kind spec filled in. */
const plan = (input: Omit<PlanInput, 'spec'>): Plan => planFor({ ...input, spec: K[input.target.kind as keyof typeof K] });

const NOW = '2024-01-01T00:00:00Z';
const LATER = '2024-06-01T12:00:00Z';
const RBAC = 'rbac.authorization.k8s.io';

/** Replicated content of a typical source of each kind. */
const contentOf: Record<Kind, Partial<KubeObject>> = {
  Secret: { type: 'Opaque', data: { a: 'YQ==', b: 'Yg==' } },
  ConfigMap: { data: { a: 'x' }, binaryData: { b: 'AAE=' } },
  Role: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  RoleBinding: { roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'devs', apiGroup: RBAC }] },
  ServiceAccount: { imagePullSecrets: [{ name: 'registry' }] },
};
const kindsList = Object.keys(contentOf) as Kind[];

function source(kind: Kind, over: Partial<KubeObject> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    metadata: {
      name: 'obj', namespace: 'src', uid: 'src-uid', resourceVersion: '100', creationTimestamp: '2020-01-01T00:00:00Z',
      labels: { app: 'web' }, annotations: { [A.replicateTo]: 'dst' }, ...meta,
    },
    ...structuredClone(contentOf[kind]),
    ...over,
  };
}

function rule(kind: Kind, over: Partial<PushRule> = {}): PushRule {
  const src = over.source ?? { kind, namespace: 'src', name: 'obj' };
  return {
    id: `annotation:${kind}/${src.namespace}/${src.name}`,
    origin: { type: 'annotation' },
    source: src,
    sourceCreated: '2020-01-01T00:00:00Z',
    priority: 0,
    targets: { patterns: parseNamespacePatterns('dst') },
    stripLabels: false,
    keepOwnerReferences: false,
    onConflict: 'Skip',
    ...over,
  };
}

const cand = (kind: Kind, s: KubeObject = source(kind), r: Partial<PushRule> = {}): Candidate => ({ rule: rule(kind, r), source: s });
const targetRef = (kind: Kind, name = 'obj', namespace = 'dst'): ObjectRef => ({ kind, namespace, name });

/** Settings trusting `src` for RBAC pushes, so that every kind can be pushed in the generic tests. */
const trusting: Settings = { ...defaultSettings, trustedRbacNamespaces: parseNamespacePatterns('src') };

function run(kind: Kind, over: Partial<PlanInput> = {}): Plan {
  return plan({ target: targetRef(kind), candidates: [cand(kind)], settings: trusting, now: NOW, ...over });
}

/** What the API server hands back after a write: server fields added. */
function fromServer(obj: KubeObject, rv = '200'): KubeObject {
  const o = structuredClone(obj);
  o.metadata = { ...o.metadata, uid: 'target-uid', resourceVersion: rv, creationTimestamp: '2024-01-01T00:00:01Z', generation: 1 };
  (o.metadata as { managedFields?: unknown }).managedFields = [{ manager: 'kube-replicator' }];
  return o;
}

function written(p: Plan): KubeObject {
  const w = p.write;
  if (!w || w.type === 'delete' || w.type === 'patch') throw new Error(`expected a write with an object, got ${JSON.stringify(w)}`);
  return w.object;
}

/** A replica made by us earlier, as the API holds it now. */
function ourReplica(kind: Kind, s: KubeObject = source(kind)): KubeObject {
  return fromServer(written(run(kind, { candidates: [cand(kind, s)] })));
}

function foreign(kind: Kind, over: Partial<KubeObject> = {}): KubeObject {
  return { metadata: { name: 'obj', namespace: 'dst', uid: 'f-uid', resourceVersion: '5', labels: { own: 'yes' }, annotations: { mine: '1' } }, ...over };
}

const reasons = (p: Plan) => p.notes.map((n) => n.reason);

describe('compareCandidates', () => {
  const c = (id: string, priority: number, created: string): Candidate =>
    ({ rule: rule('Secret', { id, priority, sourceCreated: created }), source: source('Secret') });

  it('prefers the higher priority, then the older source, then the smaller rule id', () => {
    expect(compareCandidates(c('z', 10, '2024'), c('a', 0, '2000'))).toBeLessThan(0);
    expect(compareCandidates(c('a', 0, '2000'), c('z', 10, '2024'))).toBeGreaterThan(0);
    expect(compareCandidates(c('z', 0, '2020-01-01T00:00:00Z'), c('a', 0, '2021-01-01T00:00:00Z'))).toBeLessThan(0);
    expect(compareCandidates(c('a', 0, '2021'), c('z', 0, '2020'))).toBeGreaterThan(0);
    expect(compareCandidates(c('a', 0, '2020'), c('b', 0, '2020'))).toBeLessThan(0);
    expect(compareCandidates(c('b', 0, '2020'), c('a', 0, '2020'))).toBeGreaterThan(0);
    expect(compareCandidates(c('a', 0, '2020'), c('a', 0, '2020'))).toBe(0);
  });

  it('gives the same order whatever the input order', () => {
    const all = [c('p', 1, '2022'), c('q', 5, '2023'), c('r', 1, '2021'), c('a', 1, '2022'), c('s', -1, '1999')];
    const expected = ['q', 'r', 'a', 'p', 's'];
    expect([...all].sort(compareCandidates).map((x) => x.rule.id)).toEqual(expected);
    expect([...all].reverse().sort(compareCandidates).map((x) => x.rule.id)).toEqual(expected);
  });
});

describe('plan: push create / update / in sync', () => {
  it.each(kindsList)('creates a missing %s replica', (kind) => {
    const p = run(kind);
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('create');
    expect(p.owner).toBe(`annotation:${kind}/src/obj`);
    expect(p.notes).toEqual([]);
    const o = written(p);
    expect(o.kind).toBe(kind);
    expect(o.metadata).toMatchObject({ name: 'obj', namespace: 'dst' });
    expect(o.metadata.uid).toBeUndefined();
    expect(o.metadata.resourceVersion).toBeUndefined();
    expect(classify(o)).toEqual({ type: 'ours', source: 'src/obj', rule: 'annotation' });
    expect(o.metadata.annotations![P.contentHash]).toBe(contentHash(K[kind], source(kind)));
    for (const [field, value] of Object.entries(contentOf[kind])) expect(o[field as keyof KubeObject]).toEqual(value);
  });

  it.each(kindsList)('does not write a %s replica that is in sync, even with a new source version and time', (kind) => {
    const live = ourReplica(kind);
    // The source changed (new resourceVersion, an unrelated annotation) but not its replicated content.
    const s = source(kind, {}, { resourceVersion: '555', annotations: { [A.replicateTo]: 'dst,other', note: 'x' } });
    const p = run(kind, { live, candidates: [cand(kind, s)], now: LATER });
    expect(p).toEqual({ outcome: 'InSync', owner: `annotation:${kind}/src/obj`, tier: 'untrusted', notes: [] });
  });

  it('does not write when only replicated-at / replicated-from-version differ on the live object', () => {
    const live = ourReplica('Secret');
    live.metadata.annotations = { ...live.metadata.annotations, [A.replicatedAt]: 'long ago', [A.replicatedFromVersion]: '1' };
    expect(run('Secret', { live, now: LATER }).write).toBeUndefined();
  });

  const changes: [Kind, Partial<KubeObject>][] = [
    ['Secret', { data: { a: 'bmV3' } }],
    ['ConfigMap', { binaryData: { b: 'AgM=' } }],
    ['Role', { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }] }],
    ['RoleBinding', { subjects: [{ kind: 'User', name: 'eve', apiGroup: RBAC }] }],
    ['ServiceAccount', { imagePullSecrets: [{ name: 'other' }] }],
  ];
  it.each(changes)('updates a %s replica in place when the source content changes', (kind, change) => {
    const live = ourReplica(kind);
    const p = run(kind, { live, candidates: [cand(kind, source(kind, change, { resourceVersion: '101' }))], now: LATER });
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('update');
    const o = written(p);
    for (const [field, value] of Object.entries(change)) expect(o[field as keyof KubeObject]).toEqual(value);
    // An update carries the live identity (optimistic concurrency) and the new version.
    expect(o.metadata.uid).toBe('target-uid');
    expect(o.metadata.resourceVersion).toBe('200');
    expect(o.metadata.annotations).toMatchObject({ [A.replicatedFromVersion]: '101', [A.replicatedAt]: LATER });
  });

  it('corrects a hand-edited replica at once', () => {
    const live = ourReplica('ConfigMap');
    live.data = { a: 'edited' };
    delete live.binaryData;
    const p = run('ConfigMap', { live });
    expect(p.write?.type).toBe('update');
    expect(written(p).data).toEqual({ a: 'x' });
    expect(written(p).binaryData).toEqual({ b: 'AAE=' });
  });

  it('keeps a key the user added to a replica (mittwald merge semantics), but restores source keys', () => {
    const live = ourReplica('Secret');
    live.data = { ...live.data, a: 'ZWRpdA==', extra: 'eA==' };
    const o = written(run('Secret', { live }));
    expect(o.data).toEqual({ a: 'YQ==', b: 'Yg==', extra: 'eA==' });
  });

  it('removes a replicated key that is gone from the source', () => {
    const live = ourReplica('Secret');
    const s = source('Secret', { data: { a: 'YQ==' } });
    const o = written(run('Secret', { live, candidates: [cand('Secret', s)] }));
    expect(o.data).toEqual({ a: 'YQ==' });
    expect(o.metadata.annotations![A.replicatedKeys]).toBe('a');
  });

  it('updates when the source labels change, and when strip-labels is set', () => {
    const live = ourReplica('ConfigMap');
    const relabelled = source('ConfigMap', {}, { labels: { app: 'api' } });
    expect(written(run('ConfigMap', { live, candidates: [cand('ConfigMap', relabelled)] })).metadata.labels).toMatchObject({ app: 'api' });
    const stripped = written(run('ConfigMap', { live, candidates: [cand('ConfigMap', source('ConfigMap'), { stripLabels: true })] }));
    expect(stripped.metadata.labels).toEqual({ [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' });
  });
});

describe('plan: recreate', () => {
  it('recreates a Secret whose type changes, without the old identity', () => {
    const live = ourReplica('Secret');
    const s = source('Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Yw==', 'tls.key': 'aw==' } });
    const p = run('Secret', { live, candidates: [cand('Secret', s)] });
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('recreate');
    const o = written(p);
    expect(o.type).toBe('kubernetes.io/tls');
    for (const f of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields']) expect(o.metadata).not.toHaveProperty(f);
    expect(o.metadata).toMatchObject({ name: 'obj', namespace: 'dst' });
  });

  it('recreates a RoleBinding whose roleRef changes', () => {
    const live = ourReplica('RoleBinding');
    const s = source('RoleBinding', { roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' } });
    const p = run('RoleBinding', { live, candidates: [cand('RoleBinding', s)] });
    expect(p.write?.type).toBe('recreate');
    expect(written(p).roleRef).toEqual({ apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' });
    expect(written(p).metadata.resourceVersion).toBeUndefined();
  });

  it('recreates an immutable replica whose data must change, and leaves it alone once it is right', () => {
    const live = { ...ourReplica('ConfigMap'), immutable: true };
    expect(run('ConfigMap', { live, now: LATER }).write).toBeUndefined();
    const p = run('ConfigMap', { live, candidates: [cand('ConfigMap', source('ConfigMap', { data: { a: 'changed' } }))] });
    expect(p.write?.type).toBe('recreate');
  });
});

describe('plan: removal of replicas no rule wants', () => {
  it.each(kindsList)('deletes our %s replica when no rule targets it any more', (kind) => {
    const p = run(kind, { live: ourReplica(kind), candidates: [] });
    expect(p).toEqual({ write: { type: 'delete' }, outcome: 'Removed', notes: [] });
  });

  it('strips a replica that holds keys of its own instead of deleting it', () => {
    const live = ourReplica('Secret');
    live.data = { ...live.data, own: 'bw==' };
    const p = run('Secret', { live, candidates: [] });
    expect(p.outcome).toBe('Removed');
    expect(p.write?.type).toBe('update');
    const o = written(p);
    expect(o.data).toEqual({ own: 'bw==' });
    expect(o.metadata.labels).not.toHaveProperty([P.replicaLabel]);
    expect(o.metadata.annotations).not.toHaveProperty([P.source]);
    expect(o.metadata.annotations).not.toHaveProperty([A.replicatedKeys]);
    // Stripped, it is no longer ours: the next plan leaves it alone.
    expect(run('Secret', { live: fromServer(o), candidates: [] })).toEqual({ outcome: 'Nothing', notes: [] });
  });

  it.each<[string, KubeObject | undefined]>([
    ['nothing there', undefined],
    ['a foreign object', foreign('Secret', { data: { a: 'YQ==' } })],
    ['a mittwald replica', foreign('Secret', { data: { a: 'YQ==' }, metadata: { name: 'obj', namespace: 'dst', annotations: { [A.replicatedFromVersion]: '3', [A.replicatedKeys]: 'a' } } })],
  ])('does nothing to %s when no rule wants it', (_name, live) => {
    expect(run('Secret', { live, candidates: [] })).toEqual({ outcome: 'Nothing', notes: [] });
  });
});

describe('plan: winner precedence between rules', () => {
  const older = source('ConfigMap', { data: { from: 'older' } }, { namespace: 'a', creationTimestamp: '2019-01-01T00:00:00Z' });
  const newer = source('ConfigMap', { data: { from: 'newer' } }, { namespace: 'b', creationTimestamp: '2023-01-01T00:00:00Z' });
  const cOlder = cand('ConfigMap', older, { source: { kind: 'ConfigMap', namespace: 'a', name: 'obj' }, sourceCreated: '2019-01-01T00:00:00Z' });
  const cNewer = cand('ConfigMap', newer, { source: { kind: 'ConfigMap', namespace: 'b', name: 'obj' }, sourceCreated: '2023-01-01T00:00:00Z' });

  it.each([[[cOlder, cNewer]], [[cNewer, cOlder]]])('the older source wins regardless of order', (candidates) => {
    const p = run('ConfigMap', { candidates });
    expect(p.owner).toBe(cOlder.rule.id);
    expect(written(p).data).toEqual({ from: 'older' });
    expect(written(p).metadata.annotations![P.source]).toBe('a/obj');
    expect(p.notes).toHaveLength(1);
    expect(p.notes[0]).toMatchObject({ on: cNewer.rule.source, type: 'Warning', reason: 'RuleConflict' });
    expect(p.notes[0]!.message).toContain('a/obj');
  });

  it('a higher priority wins over an older source', () => {
    const prio = cand('ConfigMap', newer, {
      ...cNewer.rule, id: 'policy/p', origin: { type: 'policy', name: 'p', uid: 'pu' }, priority: 5,
    });
    const p = run('ConfigMap', { candidates: [cOlder, prio] });
    expect(p.owner).toBe('policy/p');
    expect(written(p).data).toEqual({ from: 'newer' });
    expect(written(p).metadata.annotations).toMatchObject({ [P.rule]: 'policy/p', [P.policyUid]: 'pu' });
    expect(p.notes.map((n) => [n.on, n.reason])).toEqual([[cOlder.rule.source, 'RuleConflict']]);
    expect(p.notes[0]!.message).toContain('policy/p');
  });

  it('takes over our replica made by the losing source when the winner changes', () => {
    const live = fromServer(written(run('ConfigMap', { candidates: [cNewer] })));
    const p = run('ConfigMap', { live, candidates: [cNewer, cOlder] });
    expect(p.write?.type).toBe('update');
    expect(written(p).metadata.annotations![P.source]).toBe('a/obj');
    expect(written(p).data).toEqual({ from: 'older' });
  });

  it('reports every loser once', () => {
    const third = cand('ConfigMap', source('ConfigMap', {}, { namespace: 'c' }), { source: { kind: 'ConfigMap', namespace: 'c', name: 'obj' }, sourceCreated: '2024-01-01T00:00:00Z' });
    const p = run('ConfigMap', { candidates: [third, cNewer, cOlder] });
    expect(p.notes.filter((n) => n.reason === 'RuleConflict').map((n) => n.on.namespace).sort()).toEqual(['b', 'c']);
  });
});

describe('plan: conflicts with foreign objects and adoption', () => {
  const live = foreign('Secret', { type: 'Opaque', data: { own: 'bw==' } });

  it('leaves a foreign object alone by default and says so on the source and the target', () => {
    const p = run('Secret', { live });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Conflict');
    expect(p.owner).toBe('annotation:Secret/src/obj');
    expect(p.notes.map((n) => [n.on, n.type, n.reason])).toEqual([
      [{ kind: 'Secret', namespace: 'src', name: 'obj' }, 'Warning', 'TargetConflict'],
      [targetRef('Secret'), 'Warning', 'TargetConflict'],
    ]);
  });

  it('adopts it with adoptExisting: merged, own keys kept, labels replaced, now ours', () => {
    const p = run('Secret', { live, settings: { ...trusting, adoptExisting: true } });
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('update');
    const o = written(p);
    expect(o.data).toEqual({ own: 'bw==', a: 'YQ==', b: 'Yg==' });
    expect(o.metadata.labels).toEqual({ app: 'web', [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' });
    expect(o.metadata.annotations).toMatchObject({ mine: '1', [A.replicatedKeys]: 'a,b' });
    expect(classify(o).type).toBe('ours');
  });

  it.each(['Adopt', 'Overwrite'] as const)('takes it over when the rule says onConflict=%s', (onConflict) => {
    const p = run('Secret', { live, candidates: [cand('Secret', source('Secret'), { onConflict })] });
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('update');
  });

  it('recreates an adopted foreign Secret of another type, keeping its keys', () => {
    const tls = foreign('Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Yw==' } });
    const p = run('Secret', { live: tls, settings: { ...trusting, adoptExisting: true } });
    expect(p.write?.type).toBe('recreate');
    expect(written(p).data).toEqual({ 'tls.crt': 'Yw==', a: 'YQ==', b: 'Yg==' });
  });

  it('takes over a mittwald replica without adoption being enabled', () => {
    const mittwald = foreign('Secret', {
      type: 'Opaque', data: { a: 'YQ==', b: 'Yg==' },
      metadata: { name: 'obj', namespace: 'dst', uid: 'm', resourceVersion: '9', annotations: { [A.replicatedAt]: 'x', [A.replicatedFromVersion]: '99', [A.replicatedKeys]: 'a,b' } },
    });
    const p = run('Secret', { live: mittwald });
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('update');
    expect(classify(written(p)).type).toBe('ours');
    // …and is then in sync.
    expect(run('Secret', { live: fromServer(written(p)), now: LATER }).write).toBeUndefined();
  });

  it('does not take over a mittwald-annotated object holding keys of its own', () => {
    const mixed = foreign('Secret', {
      data: { a: 'YQ==', own: 'bw==' },
      metadata: { name: 'obj', namespace: 'dst', annotations: { [A.replicatedFromVersion]: '99', [A.replicatedKeys]: 'a' } },
    });
    expect(run('Secret', { live: mixed }).outcome).toBe('Conflict');
  });
});

describe('plan: refusals', () => {
  const refusedSources: [string, Kind, KubeObject, string][] = [
    ['a service-account-token Secret', 'Secret', source('Secret', { type: 'kubernetes.io/service-account-token' }), 'SourceNotReplicable'],
    ['a Helm release Secret (type)', 'Secret', source('Secret', { type: 'helm.sh/release.v1' }), 'SourceNotReplicable'],
    ['the kube-root-ca.crt ConfigMap', 'ConfigMap', source('ConfigMap', {}, { name: 'kube-root-ca.crt' }), 'SourceNotReplicable'],
  ];

  it.each(refusedSources)('never pushes %s', (_name, kind, s, reason) => {
    const r = rule(kind, { source: { kind, namespace: 'src', name: s.metadata.name } });
    const p = plan({ target: targetRef(kind, s.metadata.name), candidates: [{ rule: r, source: s }], settings: trusting, now: NOW });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Refused');
    expect(p.notes).toEqual([{ on: r.source, type: 'Warning', reason, message: expect.any(String) }]);
  });

  it.each(['Role', 'RoleBinding'] as const)('refuses an annotation push of a %s from an untrusted namespace', (kind) => {
    for (const settings of [defaultSettings, { ...defaultSettings, trustedRbacNamespaces: parseNamespacePatterns('other,src-2') }]) {
      const p = run(kind, { settings });
      expect(p.write).toBeUndefined();
      expect(p.outcome).toBe('Refused');
      expect(reasons(p)).toEqual(['RbacPushNotTrusted']);
      expect(p.notes[0]!.on).toEqual({ kind, namespace: 'src', name: 'obj' });
    }
  });

  it('lets a policy push RBAC from any namespace', () => {
    const p = run('Role', { settings: defaultSettings, candidates: [cand('Role', source('Role'), { origin: { type: 'policy', name: 'p', uid: 'u' }, id: 'policy/p' })] });
    expect(p.outcome).toBe('Written');
  });

  it('does not apply the RBAC trust check to other kinds', () => {
    for (const kind of ['Secret', 'ConfigMap', 'ServiceAccount'] as const) expect(run(kind, { settings: defaultSettings }).outcome).toBe('Written');
  });

  it('removes our replica when its only rule is now refused', () => {
    const live = ourReplica('Role');
    const p = run('Role', { live, settings: defaultSettings });
    expect(p.write).toEqual({ type: 'delete' });
    expect(p.outcome).toBe('Removed');
    expect(reasons(p)).toEqual(['RbacPushNotTrusted']);
  });

  it('leaves a foreign object alone when the only rule is refused', () => {
    const p = run('Role', { live: foreign('Role'), settings: defaultSettings });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Refused');
  });

  it('lets an eligible rule win while reporting the refused one', () => {
    const bad = source('Secret', { type: 'kubernetes.io/service-account-token' }, { namespace: 'a' });
    const cBad = cand('Secret', bad, { source: { kind: 'Secret', namespace: 'a', name: 'obj' }, sourceCreated: '1990-01-01T00:00:00Z' });
    const p = run('Secret', { candidates: [cBad, cand('Secret')] });
    expect(p.outcome).toBe('Written');
    expect(p.owner).toBe('annotation:Secret/src/obj');
    expect(p.notes.map((n) => [n.on.namespace, n.reason])).toEqual([['a', 'SourceNotReplicable']]);
  });
});

describe('plan: RoleBinding waiting for its Role', () => {
  const roleBound = () => source('RoleBinding', { roleRef: { apiGroup: RBAC, kind: 'Role', name: 'reader' } });

  it('waits (and asks to be retried) while the Role is missing in the target namespace', () => {
    const roleExists = jest.fn((_name: string) => false);
    const p = run('RoleBinding', { candidates: [cand('RoleBinding', roleBound())], roleExists });
    expect(roleExists).toHaveBeenCalledWith('reader');
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Waiting');
    expect(p.retry).toBe(true);
    expect(p.owner).toBe('annotation:RoleBinding/src/obj');
    expect(p.notes).toEqual([{ on: { kind: 'RoleBinding', namespace: 'src', name: 'obj' }, type: 'Warning', reason: 'WaitingForRole', message: expect.stringContaining('reader') }]);
  });

  it('creates the binding once the Role exists', () => {
    const p = run('RoleBinding', { candidates: [cand('RoleBinding', roleBound())], roleExists: () => true });
    expect(p.write?.type).toBe('create');
    expect(p.retry).toBeUndefined();
  });

  it('does not check ClusterRole references', () => {
    const roleExists = jest.fn((_name: string) => false);
    expect(run('RoleBinding', { roleExists }).write?.type).toBe('create');
    expect(roleExists).not.toHaveBeenCalled();
  });

  it('goes ahead when the caller cannot tell', () => {
    expect(run('RoleBinding', { candidates: [cand('RoleBinding', roleBound())] }).write?.type).toBe('create');
  });
});

describe('plan: pull (replicate-from)', () => {
  const consenting = (kind: Kind, namespaces = 'dst', over: Partial<KubeObject> = {}) => source(kind, over, {
    annotations: { [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: namespaces },
  });
  const pullTarget = (kind: Kind, over: Partial<KubeObject> = {}, annotations: Record<string, string> = {}): KubeObject => ({
    metadata: { name: 'tgt', namespace: 'dst', uid: 't-uid', resourceVersion: '3', labels: { mine: 'x' }, annotations: { [A.replicateFrom]: 'src/obj', ...annotations } },
    ...over,
  });
  const ref = { kind: 'Secret' as Kind, namespace: 'src', name: 'obj' };
  const pull = (kind: Kind, live: KubeObject, s: KubeObject | undefined, over: Partial<PlanInput> = {}): Plan =>
    plan({ target: targetRef(kind, 'tgt'), live, candidates: [], pull: { sourceRef: { ...ref, kind }, source: s }, settings: defaultSettings, now: NOW, ...over });

  it.each(kindsList)('needs the source\'s consent for a %s (ConfigMaps included)', (kind) => {
    const p = pull(kind, pullTarget(kind), source(kind, {}, { annotations: {} }));
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Waiting');
    expect(p.notes.map((n) => [n.on, n.reason])).toEqual([
      [targetRef(kind, 'tgt'), 'SourceNotAvailable'],
      [{ ...ref, kind }, 'ReplicationNotPermitted'],
    ]);
  });

  it.each(kindsList)('copies a consenting %s source into the target', (kind) => {
    const p = pull(kind, pullTarget(kind), consenting(kind));
    expect(p.outcome).toBe('Written');
    expect(p.write?.type).toBe('update');
    expect(p.notes).toEqual([]);
    const o = written(p);
    expect(o.metadata.labels).toEqual({ mine: 'x' });
    expect(o.metadata.resourceVersion).toBe('3');
    expect(o.metadata.annotations).toMatchObject({ [A.replicateFrom]: 'src/obj', [A.replicatedFromVersion]: '100', [A.replicatedAt]: NOW });
  });

  it('copies only the pull fields: a RoleBinding keeps its roleRef, a Secret its type', () => {
    const rb = pullTarget('RoleBinding', { roleRef: { apiGroup: RBAC, kind: 'Role', name: 'own' }, subjects: [] });
    const o = written(pull('RoleBinding', rb, consenting('RoleBinding')));
    expect(o.roleRef).toEqual({ apiGroup: RBAC, kind: 'Role', name: 'own' });
    expect(o.subjects).toEqual(contentOf.RoleBinding.subjects);
    const tls = pullTarget('Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'Yw==' } });
    const s = written(pull('Secret', tls, consenting('Secret')));
    expect(s.type).toBe('kubernetes.io/tls');
    expect(s.data).toEqual({ 'tls.crt': 'Yw==', a: 'YQ==', b: 'Yg==' });
  });

  it('pulls without consent under --allow-all', () => {
    const p = pull('ConfigMap', pullTarget('ConfigMap'), source('ConfigMap', {}, { annotations: {} }), { settings: { ...defaultSettings, allowAll: true } });
    expect(p.outcome).toBe('Written');
  });

  it.each<[string, Record<string, string>]>([
    ['replication-allowed false', { [A.replicationAllowed]: 'false', [A.replicationAllowedNamespaces]: 'dst' }],
    ['no allowed namespaces', { [A.replicationAllowed]: 'true' }],
    ['another namespace allowed', { [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: 'dst-2' }],
    ['a prefix of the namespace allowed (whole-name match)', { [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: 'ds' }],
  ])('refuses with %s', (_name, annotations) => {
    const p = pull('Secret', pullTarget('Secret'), source('Secret', {}, { annotations }));
    expect([p.outcome, p.write]).toEqual(['Waiting', undefined]);
    expect(reasons(p)).toEqual(['SourceNotAvailable', 'ReplicationNotPermitted']);
  });

  it('does not write a target that is in sync, even with a new source version and time', () => {
    const first = fromServer(written(pull('ConfigMap', pullTarget('ConfigMap'), consenting('ConfigMap'))));
    const s = consenting('ConfigMap');
    s.metadata.resourceVersion = '777';
    s.metadata.labels = { changed: 'labels' };
    const p = pull('ConfigMap', first, s, { now: LATER });
    expect(p).toEqual({ outcome: 'InSync', notes: [] });
  });

  it('keeps the target\'s own keys and removes replicated keys gone from the source', () => {
    const live = pullTarget('Secret', { data: { own: 'bw==', old: 'b2xk' } }, { [A.replicatedKeys]: 'old' });
    const o = written(pull('Secret', live, consenting('Secret')));
    expect(o.data).toEqual({ own: 'bw==', a: 'YQ==', b: 'Yg==' });
    expect(o.metadata.annotations![A.replicatedKeys]).toBe('a,b');
  });

  it('reports an invalid replicate-from', () => {
    const p = plan({
      target: targetRef('Secret', 'tgt'), live: pullTarget('Secret', {}, { [A.replicateFrom]: 'nonsense' }), candidates: [],
      pull: { problem: { field: A.replicateFrom, message: 'not of the form' } }, settings: defaultSettings, now: NOW,
    });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Invalid');
    expect(p.notes).toEqual([{ on: targetRef('Secret', 'tgt'), type: 'Warning', reason: 'InvalidAnnotation', message: `${A.replicateFrom}: not of the form` }]);
  });

  it('refuses a target that names itself', () => {
    const p = plan({
      target: targetRef('Secret', 'tgt'), live: pullTarget('Secret'), candidates: [],
      pull: { sourceRef: { kind: 'Secret', namespace: 'dst', name: 'tgt' }, source: pullTarget('Secret') }, settings: { ...defaultSettings, allowAll: true }, now: NOW,
    });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Invalid');
    expect(reasons(p)).toEqual(['InvalidAnnotation']);
  });

  it('removes only the replicated keys when the source is gone, then waits without writing', () => {
    const live = fromServer(written(pull('Secret', pullTarget('Secret', { data: { own: 'bw==' } }), consenting('Secret'))));
    const p = pull('Secret', live, undefined);
    expect(p.outcome).toBe('Removed');
    expect(p.write?.type).toBe('update');
    const o = written(p);
    expect(o.data).toEqual({ own: 'bw==' });
    expect(o.metadata.annotations).toEqual({ [A.replicateFrom]: 'src/obj' });
    // Not "deleted": the puller is told nothing it would not be told about a source that stopped consenting.
    expect(p.notes.map((n) => [n.on, n.type, n.reason])).toEqual([[targetRef('Secret', 'tgt'), 'Warning', 'SourceNotAvailable']]);
    expect(p.notes[0]!.message).toBe('source src/obj does not exist or does not permit replication into dst '
      + `(it needs ${A.replicationAllowed}: "true" and ${A.replicationAllowedNamespaces} matching dst); the replicated keys were removed, and it is copied here once it does`);
    // Cleared once: the next plan only waits for the source.
    const again = pull('Secret', fromServer(o), undefined);
    expect(again.write).toBeUndefined();
    expect(again.outcome).toBe('Waiting');
    expect(reasons(again)).toEqual(['SourceNotAvailable']);
  });

  it.each(['Role', 'RoleBinding', 'ServiceAccount'] as const)('clears the pulled field of a %s when the source is gone', (kind) => {
    const live = fromServer(written(pull(kind, pullTarget(kind), consenting(kind))));
    const o = written(pull(kind, live, undefined));
    const field = { Role: 'rules', RoleBinding: 'subjects', ServiceAccount: 'imagePullSecrets' }[kind] as keyof KubeObject;
    expect(o[field]).toEqual([]);
  });

  it('waits for a source that never existed', () => {
    const p = pull('ConfigMap', pullTarget('ConfigMap', { data: { own: 'x' } }), undefined);
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Waiting');
    expect(p.notes[0]).toMatchObject({ reason: 'SourceNotAvailable', type: 'Warning', message: expect.stringContaining('src/obj') });
  });

  it.each<[string, Kind, Partial<KubeObject>, Partial<KubeObject['metadata']>]>([
    ['a service-account-token Secret', 'Secret', { type: 'kubernetes.io/service-account-token' }, {}],
    ['a Helm release Secret', 'Secret', { type: 'helm.sh/release.v1' }, {}],
    ['kube-root-ca.crt', 'ConfigMap', {}, { name: 'kube-root-ca.crt' }],
  ])('refuses to pull %s even with consent', (_name, kind, over, meta) => {
    const s = consenting(kind, 'dst', over);
    Object.assign(s.metadata, meta);
    const p = pull(kind, pullTarget(kind), s, { settings: { ...defaultSettings, allowAll: true } });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Refused');
    expect(reasons(p)).toEqual(['SourceNotReplicable']);
  });

  it('never lets a push overwrite a pull target, and tells the pushing source', () => {
    const p = plan({
      target: targetRef('Secret', 'tgt'), live: pullTarget('Secret'),
      candidates: [cand('Secret', source('Secret', {}, { name: 'tgt' }), { source: { kind: 'Secret', namespace: 'other', name: 'tgt' } })],
      pull: { sourceRef: ref, source: consenting('Secret') }, settings: { ...trusting, adoptExisting: true }, now: NOW,
    });
    expect(p.outcome).toBe('Written');
    expect(written(p).metadata.annotations![P.source]).toBeUndefined();
    expect(written(p).data).toEqual(contentOf.Secret.data);
    expect(p.notes.map((n) => [n.on.namespace, n.reason])).toEqual([['other', 'TargetConflict']]);
  });

  it('does nothing without pull input', () => {
    const p = plan({ target: targetRef('Secret', 'tgt'), live: pullTarget('Secret'), candidates: [], settings: defaultSettings, now: NOW });
    expect(p).toEqual({ outcome: 'Nothing', notes: [] });
  });
});

describe('plan: with rules parsed from annotations', () => {
  it('pushes a source annotated with replicate-to and strip-labels', () => {
    const s = source('Secret', {}, { annotations: { [A.replicateTo]: 'dst', [A.stripLabels]: 'true' } });
    const r = pushRuleFromAnnotations('Secret', s).rule!;
    const p = plan({ target: targetRef('Secret'), candidates: [{ rule: r, source: s }], settings: defaultSettings, now: NOW });
    expect(p.write?.type).toBe('create');
    expect(written(p).metadata.labels).toEqual({ [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' });
    expect(written(p).metadata.annotations).not.toHaveProperty([A.replicateTo]);
    expect(written(p).metadata.annotations).not.toHaveProperty([A.stripLabels]);
  });
});

describe('plan: trust tiers', () => {
  const policyRule = (kind: Kind, over: Partial<PushRule> = {}) => ({
    id: `policy:p:${kind}/platform/obj`, origin: { type: 'policy' as const, name: 'p', uid: 'pu' },
    source: { kind, namespace: 'platform', name: 'obj' }, sourceCreated: '2030-01-01T00:00:00Z', ...over,
  });
  const platformSource = (kind: Kind) => source(kind, { data: { a: 'cGxhdGZvcm0=' } }, { namespace: 'platform', creationTimestamp: '2030-01-01T00:00:00Z' });
  const protectedSettings: Settings = { ...defaultSettings, protectedNamespaces: parseNamespacePatterns('kube-system,ops') };

  it('a policy beats an older annotation, whatever the priorities; the tenant source learns why', () => {
    const tenant = cand('Secret', source('Secret'), { priority: 100 });
    const platform = cand('Secret', platformSource('Secret'), policyRule('Secret'));
    const p = plan({ target: targetRef('Secret'), candidates: [tenant, platform], settings: defaultSettings, now: NOW });
    expect(p.owner).toBe('policy:p:Secret/platform/obj');
    expect(p.tier).toBe('trusted');
    expect(written(p).metadata.annotations![P.tier]).toBe('trusted');
    expect(written(p).data).toEqual({ a: 'cGxhdGZvcm0=' });
    const conflict = p.notes.find((n) => n.reason === 'RuleConflict')!;
    expect(conflict.on).toEqual(tenant.rule.source);
    expect(conflict.message).toContain('a trusted rule always wins over an untrusted one');
  });

  it('an annotation from a trusted source namespace beats an older untrusted one', () => {
    const settings = { ...defaultSettings, trustedSourceNamespaces: parseNamespacePatterns('platform') };
    const tenant = cand('Secret', source('Secret'));
    const trusted = cand('Secret', platformSource('Secret'), { source: { kind: 'Secret', namespace: 'platform', name: 'obj' }, id: 'annotation:Secret/platform/obj', sourceCreated: '2030-01-01T00:00:00Z' });
    const p = plan({ target: targetRef('Secret'), candidates: [tenant, trusted], settings, now: NOW });
    expect(p.owner).toBe('annotation:Secret/platform/obj');
    expect(p.losers).toEqual([tenant.rule.id]);
  });

  it('sorts trusted before untrusted in compareCandidates, then by the old order', () => {
    const a = { ...cand('Secret', source('Secret'), { priority: 10 }), tier: 'untrusted' as const };
    const b = { ...cand('Secret', source('Secret'), { id: 'z' }), tier: 'trusted' as const };
    expect(compareCandidates(b, a)).toBeLessThan(0);
    expect(compareCandidates(a, b)).toBeGreaterThan(0);
  });

  it.each(kindsList)('an untrusted push never creates a %s in a protected namespace, naming both flags', (kind) => {
    const p = plan({ target: targetRef(kind, 'obj', 'kube-system'), candidates: [cand(kind)], settings: { ...protectedSettings, trustedRbacNamespaces: parseNamespacePatterns('src') }, now: NOW });
    expect(p.write).toBeUndefined();
    expect(p.outcome).toBe('Refused');
    expect(p.notes).toEqual([expect.objectContaining({ on: cand(kind).rule.source, reason: 'ProtectedNamespace', type: 'Warning' })]);
    expect(p.notes[0]!.message).toContain('--trusted-source-namespaces');
    expect(p.notes[0]!.message).toContain('--protected-namespaces');
  });

  it('an untrusted push neither updates nor deletes its own earlier replica in a protected namespace', () => {
    const settings = { ...protectedSettings };
    const live = ourReplica('Secret');
    live.metadata.namespace = 'ops';
    const changed = source('Secret', { data: { a: 'bmV3' } });
    const updated = plan({ target: targetRef('Secret', 'obj', 'ops'), live, candidates: [cand('Secret', changed)], settings, now: NOW });
    expect(updated.write).toBeUndefined();
    const unwanted = plan({ target: targetRef('Secret', 'obj', 'ops'), live, candidates: [], settings, now: NOW });
    expect(unwanted.write).toBeUndefined();
  });

  it('trusted rules (policies, trusted namespaces, --permissive) push into protected namespaces', () => {
    const viaPolicy = plan({ target: targetRef('Secret', 'obj', 'kube-system'), candidates: [cand('Secret', platformSource('Secret'), policyRule('Secret'))], settings: protectedSettings, now: NOW });
    expect(viaPolicy.write?.type).toBe('create');
    for (const settings of [{ ...protectedSettings, trustedSourceNamespaces: parseNamespacePatterns('src') }, { ...protectedSettings, permissive: true }]) {
      expect(plan({ target: targetRef('Secret', 'obj', 'kube-system'), candidates: [cand('Secret')], settings, now: NOW }).write?.type).toBe('create');
    }
  });

  it('never replicates a bootstrap token Secret, in any tier', () => {
    const token = source('Secret', { type: 'bootstrap.kubernetes.io/token' });
    for (const c of [cand('Secret', token), cand('Secret', token, policyRule('Secret'))]) {
      const p = plan({ target: targetRef('Secret', 'obj', 'kube-system'), candidates: [c], settings: defaultSettings, now: NOW });
      expect(p.write).toBeUndefined();
      expect(reasons(p)).toEqual(['SourceNotReplicable']);
    }
  });
});

describe('plan: the target namespace\'s owner wins over an untrusted push', () => {
  const changed = { writtenByUs: true, changedSinceOurWrite: true };

  it.each(kindsList)('releases a %s replica that someone else changed: provenance removed, content kept, TargetClaimed on both sides', (kind) => {
    const live = ourReplica(kind);
    const p = run(kind, { live, history: changed });
    expect(p.outcome).toBe('Conflict');
    const out = written(p);
    expect(p.write?.type).toBe('update');
    expect(out.metadata.labels).not.toHaveProperty([P.replicaLabel]);
    expect(Object.keys(out.metadata.annotations ?? {}).filter((k) => k.startsWith('kube-replicator.io/'))).toEqual([]);
    const { metadata: _m1, ...liveContent } = live;
    const { metadata: _m2, ...outContent } = out;
    expect(outContent).toEqual(liveContent);
    expect(p.notes.map((n) => [n.on, n.reason, n.type])).toEqual([
      [targetRef(kind), 'TargetClaimed', 'Normal'],
      [cand(kind).rule.source, 'TargetClaimed', 'Warning'],
    ]);
    expect(p.notes[0]!.by).toEqual(cand(kind).rule.source);
    // Once released it is someone else's object: the push reports a conflict and writes nothing.
    const after = run(kind, { live: fromServer(out), history: changed });
    expect([after.outcome, after.write, reasons(after)]).toEqual(['Conflict', undefined, ['TargetConflict', 'TargetConflict']]);
  });

  it('reports once, and writes nothing, when the owner removed our provenance itself (kubectl replace)', () => {
    const { metadata: { labels: _l, annotations: _a, ...meta }, ...content } = ourReplica('Secret');
    const replaced = fromServer({ ...content, metadata: meta });
    const p = run('Secret', { live: replaced, history: { writtenByUs: false, changedSinceOurWrite: false, provenanceRemoved: true } });
    expect([p.outcome, p.write]).toEqual(['Conflict', undefined]);
    expect(p.notes.map((n) => [n.on, n.reason, n.type])).toEqual([[targetRef('Secret'), 'TargetClaimed', 'Normal'], [cand('Secret').rule.source, 'TargetClaimed', 'Warning']]);
    // A trusted rule does not take it back either: the object is no longer ours, so it is a conflict.
    const trusted = run('Secret', { live: replaced, history: { writtenByUs: false, changedSinceOurWrite: false, provenanceRemoved: true }, settings: { ...trusting, trustedSourceNamespaces: parseNamespacePatterns('src') } });
    expect([trusted.write, reasons(trusted)]).toEqual([undefined, ['TargetConflict', 'TargetConflict']]);
  });

  it('keeps correcting a trusted rule\'s replica (drift correction)', () => {
    const live = ourReplica('Secret');
    live.data = { a: 'ZWRpdGVk' };
    const p = run('Secret', { live, history: changed, settings: { ...trusting, trustedSourceNamespaces: parseNamespacePatterns('src') } });
    expect(p.write?.type).toBe('update');
    expect(written(p).data).toEqual(contentOf.Secret.data);
  });

  it('releases, rather than deletes, a changed untrusted replica that no rule wants any more', () => {
    const p = run('Secret', { live: ourReplica('Secret'), candidates: [], history: changed });
    expect(p.write?.type).toBe('update');
    expect(reasons(p)).toEqual(['TargetClaimed']);
  });

  it('neither deletes nor overwrites an object carrying our provenance that we never wrote', () => {
    const fake = ourReplica('Secret');
    const notOurs = { writtenByUs: false, changedSinceOurWrite: false };
    const unwanted = run('Secret', { live: fake, candidates: [], history: notOurs });
    expect([unwanted.outcome, unwanted.write]).toEqual(['Nothing', undefined]);
    const other = source('Secret', { data: { a: 'bmV3' } }, { resourceVersion: '300' });
    const wanted = run('Secret', { live: fake, candidates: [cand('Secret', other)], history: notOurs });
    expect([wanted.outcome, wanted.write]).toEqual(['Conflict', undefined]);
  });
});

describe('plan: replicas left by mittwald', () => {
  const legacy = (data: Record<string, string>, version = '90'): KubeObject => ({
    metadata: { name: 'obj', namespace: 'dst', uid: 'm-uid', resourceVersion: '95', annotations: { [A.replicatedAt]: NOW, [A.replicatedFromVersion]: version, [A.replicatedKeys]: Object.keys(data).join(',') } },
    type: 'Opaque', data,
  });

  it('are not taken over by an untrusted push that cannot prove it is their source', () => {
    const p = plan({ target: targetRef('Secret'), live: legacy({ a: 'b3RoZXI=' }), candidates: [cand('Secret')], settings: defaultSettings, now: NOW });
    expect(p.write).toBeUndefined();
    expect(p.notes.map((n) => [n.on, n.reason])).toEqual([[cand('Secret').rule.source, 'LegacyReplicaKept'], [targetRef('Secret'), 'LegacyReplicaKept']]);
  });

  it('are taken over by the source mittwald copied them from (same resourceVersion), or when nothing would change', () => {
    const byVersion = plan({ target: targetRef('Secret'), live: legacy({ a: 'b3RoZXI=' }, '100'), candidates: [cand('Secret')], settings: defaultSettings, now: NOW });
    expect(byVersion.write?.type).toBe('update');
    const sameContent = plan({ target: targetRef('Secret'), live: legacy({ ...contentOf.Secret.data }), candidates: [cand('Secret')], settings: defaultSettings, now: NOW });
    expect(sameContent.write?.type).toBe('update');
    expect(written(sameContent).metadata.labels).toHaveProperty([P.replicaLabel], 'true');
  });

  it('are taken over by a trusted rule', () => {
    const p = plan({ target: targetRef('Secret'), live: legacy({ a: 'b3RoZXI=' }), candidates: [cand('Secret')], settings: { ...defaultSettings, trustedSourceNamespaces: parseNamespacePatterns('src') }, now: NOW });
    expect(p.write?.type).toBe('update');
  });
});

describe('plan: mirrors left by Reflector', () => {
  const mirror = (data: Record<string, string>, version = '90', extra: Record<string, string> = {}): KubeObject => ({
    metadata: { name: 'obj', namespace: 'dst', uid: 'r-uid', resourceVersion: '95', annotations: { [R.reflects]: 'src/obj', [R.autoReflects]: 'True', [R.reflectedVersion]: version, [R.reflectedAt]: NOW, ...extra } },
    type: 'Opaque', data,
  });

  it('are recognised by auto-reflects, with the version they record', () => {
    expect(classify(mirror({ a: 'YQ==' }, '12'), true, 'Secret')).toEqual({ type: 'legacy', by: 'reflector', version: '12' });
    // A user's mirror (reflects without auto-reflects) pulls; on a Role, Reflector's annotations mean nothing.
    expect(classify(mirror({}, '12', { [R.autoReflects]: 'False' }), true, 'Secret')).toEqual({ type: 'pullTarget' });
    expect(classify(mirror({}, '12'), true, 'Role')).toEqual({ type: 'foreign' });
  });

  it('are taken over by the source Reflector copied them from: its bookkeeping goes, its stale keys too', () => {
    const p = plan({ target: targetRef('Secret'), live: mirror({ a: 'b3RoZXI=', gone: 'eA==' }, '100'), candidates: [cand('Secret')], settings: defaultSettings, now: NOW });
    expect(p.write?.type).toBe('update');
    const w = written(p);
    expect(w.data).toEqual(contentOf.Secret.data);
    expect(w.metadata.labels).toHaveProperty([P.replicaLabel], 'true');
    for (const k of [R.reflects, R.autoReflects, R.reflectedVersion, R.reflectedAt]) expect(w.metadata.annotations).not.toHaveProperty([k]);
  });

  it('are not taken over by an untrusted push that cannot prove it is their source', () => {
    const p = plan({ target: targetRef('Secret'), live: mirror({ a: 'b3RoZXI=' }), candidates: [cand('Secret')], settings: defaultSettings, now: NOW });
    expect(p.write).toBeUndefined();
    expect(p.notes.map((n) => n.reason)).toEqual(['LegacyReplicaKept', 'LegacyReplicaKept']);
    expect(p.notes[0]!.message).toContain('emberstack/kubernetes-reflector');
  });
});

describe('plan: a refused pull tells the puller nothing about the source', () => {
  const srcRef = (kind: Kind, name = 'obj'): ObjectRef => ({ kind, namespace: 'src', name });
  const tgt = (kind: Kind) => targetRef(kind, 'tgt');
  /** A pull target holding content of its own (the same content a source of its kind holds), with `annotations`. */
  const pullTarget = (kind: Kind, annotations: Record<string, string> = {}, from = 'src/obj'): KubeObject => ({
    metadata: { name: 'tgt', namespace: 'dst', uid: 't-uid', resourceVersion: '3', annotations: { [A.replicateFrom]: from, ...annotations } },
    ...structuredClone(contentOf[kind]),
  });
  const pullFrom = (kind: Kind, live: KubeObject, s: KubeObject | undefined, name = 'obj'): Plan =>
    plan({ target: tgt(kind), live, candidates: [], pull: { sourceRef: srcRef(kind, name), source: s }, settings: defaultSettings, now: NOW });
  /** Everything the puller can observe of a plan: the write, the outcome (a metric label), and the notes in its namespace. */
  const seenByPuller = (p: Plan) => ({ ...p, notes: p.notes.filter((n) => n.on.namespace === 'dst') });
  const toSource = (p: Plan) => p.notes.filter((n) => n.on.namespace !== 'dst');
  const allowed = A.replicationAllowed;
  const allowedNs = A.replicationAllowedNamespaces;

  /** Sources that exist and do not consent to a pull into `dst`, each for its own reason. */
  const notConsenting: [string, Record<string, string>][] = [
    ['no consent annotations', {}],
    ['replication-allowed "false"', { [allowed]: 'false', [allowedNs]: 'dst' }],
    ['replication-allowed without replication-allowed-namespaces', { [allowed]: 'true' }],
    ['replication-allowed-namespaces not matching (another name, a prefix, a longer name)', { [allowed]: 'true', [allowedNs]: 'other,ds,dst-2' }],
    ['an invalid replication-allowed', { [allowed]: 'yes please', [allowedNs]: 'dst' }],
    ['invalid replication-allowed-namespaces patterns', { [allowed]: 'true', [allowedNs]: '(dst,[dst' }],
    ['an empty replication-allowed-namespaces', { [allowed]: 'true', [allowedNs]: '' }],
  ];

  /** The target as the tenant may write it: without bookkeeping, or with forged bookkeeping (mittwald's annotations). */
  type TargetCase = [string, KubeObject, 'clears' | 'waits'];
  const targets = (kind: Kind): TargetCase[] => {
    const keys = kind === 'Secret' ? 'a' : kind === 'ConfigMap' ? 'a,b' : undefined;
    const forgedKeys: TargetCase[] = keys ? [['a forged replicated-keys', pullTarget(kind, { [A.replicatedKeys]: keys }), 'clears']] : [];
    return [
      ['no bookkeeping', pullTarget(kind), 'waits'],
      ...forgedKeys,
      // Nothing to remove from a Secret or ConfigMap that names no keys (the version alone is not worth a write).
      ['a forged replicated-from-version', pullTarget(kind, { [A.replicatedFromVersion]: '1' }), keys ? 'waits' : 'clears'],
      ['forged replicated-from-version, replicated-keys and replicated-at',
        pullTarget(kind, { [A.replicatedFromVersion]: '1', [A.replicatedKeys]: keys ?? 'x', [A.replicatedAt]: NOW }), 'clears'],
      ['content pulled from a source that consented earlier', fromServer(written(pullFrom(kind, pullTarget(kind, {}), source(kind, { ...changed(kind) }, {
        annotations: { [allowed]: 'true', [allowedNs]: 'dst' } })))), 'clears'],
    ];
  };
  /** Content other than the target's own, so that a pull changes the target. */
  const changed = (kind: Kind): Partial<KubeObject> => ({
    Secret: { data: { a: 'cHVsbGVk', c: 'Yw==' } },
    ConfigMap: { data: { a: 'pulled', c: 'c' }, binaryData: undefined },
    Role: { rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
    RoleBinding: { subjects: [{ kind: 'User', name: 'pulled', apiGroup: RBAC }] },
    ServiceAccount: { imagePullSecrets: [{ name: 'pulled' }] },
  }[kind]);

  const cases = kindsList.flatMap((kind) => targets(kind).map(([what, live, effect]) => [kind, what, live, effect] as const));

  it.each(cases)('%s with %s: a missing source and every kind of non-consenting source give the puller the same plan', (kind, _what, live, effect) => {
    const missing = pullFrom(kind, live, undefined);
    // The plan itself, so that "identical" cannot mean "identically empty".
    expect(missing.notes.map((n) => [n.on, n.type, n.reason])).toEqual([[tgt(kind), 'Warning', 'SourceNotAvailable']]);
    if (effect === 'clears') {
      expect([missing.outcome, missing.write?.type]).toEqual(['Removed', 'update']);
      const cleared = written(missing);
      expect(Object.keys(cleared.metadata.annotations ?? {})).toEqual([A.replicateFrom]);
      expect(missing.notes[0]!.message).toMatch(/; the replicated (keys were removed|rules were cleared|subjects were cleared|imagePullSecrets were cleared), and it is copied here once it does$/);
    } else {
      expect([missing.outcome, missing.write]).toEqual(['Waiting', undefined]);
      expect(missing.notes[0]!.message).toMatch(/\); it is copied here once it does$/);
    }
    for (const [why, annotations] of notConsenting) {
      const refused = pullFrom(kind, live, source(kind, changed(kind), { annotations }));
      expect({ why, plan: seenByPuller(refused) }).toEqual({ why, plan: missing });
      // Only the source's owner learns why, on the source.
      expect(toSource(refused)).toEqual([{ on: srcRef(kind), type: 'Warning', reason: 'ReplicationNotPermitted', by: tgt(kind), message: expect.stringContaining('may not pull from src/obj') }]);
    }
  });

  it.each(cases)('%s with %s: once the plan is carried out, the next plans are alike too, and write nothing', (kind, _what, live) => {
    const after = (p: Plan) => (p.write ? fromServer(written(p), '400') : live);
    const missing = pullFrom(kind, live, undefined);
    const refused = pullFrom(kind, live, source(kind, changed(kind), { annotations: {} }));
    const again = [pullFrom(kind, after(missing), undefined), pullFrom(kind, after(refused), source(kind, changed(kind), { annotations: {} }))];
    expect(again.map(seenByPuller)).toEqual([again[0], again[0]]);
    expect([again[0]!.outcome, again[0]!.write, reasons(again[0]!)]).toEqual(['Waiting', undefined, ['SourceNotAvailable']]);
  });

  it('the message never carries the reason the source gives, nor anything of the source\'s content', () => {
    const live = pullTarget('Secret', { [A.replicatedKeys]: 'a' });
    for (const [, annotations] of notConsenting) {
      const [note] = pullFrom('Secret', live, source('Secret', { data: { a: 'c2VjcmV0LXZhbHVl' } }, { annotations })).notes;
      expect(note!.message).not.toMatch(/does not set|does not match|c2VjcmV0LXZhbHVl|secret-value/);
    }
  });

  it('a never-replicated Secret type without consent looks like a missing source too (consent is checked first)', () => {
    const live = pullTarget('Secret', { [A.replicatedKeys]: 'a' });
    const missing = pullFrom('Secret', live, undefined);
    const refused = pullFrom('Secret', live, source('Secret', { type: 'bootstrap.kubernetes.io/token' }, { annotations: {} }));
    expect(seenByPuller(refused)).toEqual(missing);
    expect(reasons(missing)).toEqual(['SourceNotAvailable']);
  });

  it.each(kindsList)('%s: replicate-from re-pointed to a source that does not consent: the old source\'s content goes, as for a missing one', (kind) => {
    const consent = { [allowed]: 'true', [allowedNs]: 'dst' };
    const filled = fromServer(written(pullFrom(kind, pullTarget(kind), source(kind, changed(kind), { annotations: consent }))));
    expect(filled).toMatchObject(kind === 'ConfigMap' ? { data: changed(kind).data } : changed(kind));
    const repointed = structuredClone(filled);
    repointed.metadata.annotations![A.replicateFrom] = 'src/other';
    const other = source(kind, contentOf[kind], { name: 'other', annotations: { [allowed]: 'true', [allowedNs]: 'somewhere-else' } });
    const refused = pullFrom(kind, repointed, other, 'other');
    const missing = pullFrom(kind, repointed, undefined, 'other');
    expect(seenByPuller(refused)).toEqual(missing);
    expect(refused.outcome).toBe('Removed');
    const o = written(refused);
    expect(o.metadata.annotations).toEqual({ [A.replicateFrom]: 'src/other' });
    // What the first source put there is gone; what the target held itself stays (Secret, ConfigMap).
    if (kind === 'Secret') expect(o.data).toEqual({ b: 'Yg==' });
    else if (kind === 'ConfigMap') expect([o.data, o.binaryData]).toEqual([{}, { b: 'AAE=' }]);
    else expect(o).toMatchObject({ Role: { rules: [] }, RoleBinding: { subjects: [] }, ServiceAccount: { imagePullSecrets: [] } }[kind]);
    expect(refused.notes.find((n) => n.on.namespace === 'dst')!.message).toContain('source src/other does not exist or does not permit replication into dst');
  });

  it('consent withdrawn from a target that holds pulled keys: they are removed, as when the source is deleted', () => {
    const consent = { [allowed]: 'true', [allowedNs]: 'dst' };
    const s = source('Secret', changed('Secret'), { annotations: consent });
    const filled = fromServer(written(pullFrom('Secret', pullTarget('Secret'), s)));
    const withdrawn = pullFrom('Secret', filled, source('Secret', changed('Secret'), { resourceVersion: '101', annotations: { [allowed]: 'false', [allowedNs]: 'dst' } }));
    expect(seenByPuller(withdrawn)).toEqual(pullFrom('Secret', filled, undefined));
    expect(written(withdrawn).data).toEqual({ b: 'Yg==' });
  });

  it('--allow-all: no consent needed, so an existing source is copied (the flag gives up the promise by design)', () => {
    const p = plan({ target: tgt('Secret'), live: pullTarget('Secret'), candidates: [], pull: { sourceRef: srcRef('Secret'), source: source('Secret', changed('Secret'), { annotations: {} }) },
      settings: { ...defaultSettings, allowAll: true }, now: NOW });
    expect([p.outcome, reasons(p)]).toEqual(['Written', []]);
  });
});

describe('plan: a replica known by its metadata only', () => {
  const metadataOf = (o: KubeObject): KubeObject => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata });

  it.each(kindsList)('%s: in sync from metadata alone when the source content and the rule give the same replica', (kind) => {
    const p = run(kind, { live: metadataOf(ourReplica(kind)), liveIsMetadata: true });
    expect([p.outcome, p.write, p.notes]).toEqual(['InSync', undefined, []]);
  });

  /** As the API server stores an object: an empty map is not kept. */
  function stored(o: KubeObject): KubeObject {
    const out = { ...o };
    if (out.data && Object.keys(out.data).length === 0) delete out.data;
    if (out.binaryData && Object.keys(out.binaryData).length === 0) delete out.binaryData;
    return out;
  }

  /** The replica after the plan's patch, next to the replica the whole-object update writes. */
  function bothWays(kind: Kind, live: KubeObject, s: KubeObject) {
    const byContent = run(kind, { live, candidates: [cand(kind, s)] });
    const byMetadata = run(kind, { live: metadataOf(live), liveIsMetadata: true, candidates: [cand(kind, s)] });
    if (byMetadata.write?.type !== 'patch') throw new Error(`expected a patch, got ${JSON.stringify(byMetadata)}`);
    return { patched: stored(applyMergePatch(live, byMetadata.write.patch) as KubeObject), updated: written(byContent), patch: byMetadata.write.patch };
  }

  const changedContent: Record<Kind, Partial<KubeObject>> = {
    Secret: { data: { a: 'bmV3' } },
    ConfigMap: { data: { b: 'bmV3', c: 'y' } },
    Role: { rules: [] },
    RoleBinding: { subjects: [{ kind: 'User', name: 'ann', apiGroup: RBAC }] },
    ServiceAccount: { imagePullSecrets: [{ name: 'other' }] },
  };

  it.each(kindsList)('%s: a changed source is written as a merge patch equal to the whole-object update', (kind) => {
    const { patched, updated, patch } = bothWays(kind, ourReplica(kind), source(kind, changedContent[kind]));
    expect(patched).toEqual(updated);
    expect(patch.metadata).toEqual(expect.objectContaining({ resourceVersion: '200' }));
  });

  it.each(kindsList)('%s: a relabelled source is written as a merge patch equal to the whole-object update', (kind) => {
    const { patched, updated } = bothWays(kind, ourReplica(kind), source(kind, {}, { labels: { team: 'x' }, annotations: { [A.replicateTo]: 'dst', note: 'n' } }));
    expect(patched).toEqual(updated);
  });

  it.each(['Secret', 'ConfigMap'] as const)('%s: the patch removes keys gone from the source and keeps the replica\'s own keys', (kind) => {
    const live = ourReplica(kind);
    live.data = { ...live.data, own: 'b3du' };
    const { patched, updated } = bothWays(kind, live, source(kind, { data: { z: 'eg==' }, binaryData: undefined }));
    expect(patched).toEqual(updated);
    expect((patched as KubeObject).data).toEqual({ own: 'b3du', z: 'eg==' });
  });

  it('ConfigMap: a key that moves between data and binaryData is removed from the other map by the patch', () => {
    const { patched, updated } = bothWays('ConfigMap', ourReplica('ConfigMap'), source('ConfigMap', { data: { b: 'now text' }, binaryData: { a: 'AAE=' } }));
    expect(patched).toEqual(updated);
  });

  it('asks for the content of anything that is not provably our replica (forged provenance, a mittwald replica)', () => {
    const p = run('Secret', { live: metadataOf(ourReplica('Secret')), liveIsMetadata: true, history: { writtenByUs: false, changedSinceOurWrite: false } });
    expect(p.outcome).toBe('NeedContent');
  });

  it('asks for the content when someone else wrote the replica since our write (drift or a claim)', () => {
    const p = run('Secret', { live: metadataOf(ourReplica('Secret')), liveIsMetadata: true, history: { writtenByUs: true, changedSinceOurWrite: true } });
    expect(p.outcome).toBe('NeedContent');
  });

  it('asks for the content before deleting a replica no rule wants (it may hold keys of its own)', () => {
    expect(run('Secret', { live: metadataOf(ourReplica('Secret')), liveIsMetadata: true, candidates: [] }).outcome).toBe('NeedContent');
  });
});

describe('plan: a kind allowed by --extra-kinds', () => {
  const np = genericKind('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies');
  const npSource = (spec: unknown) => ({ ...source('Secret'), apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', type: undefined, data: undefined, spec }) as KubeObject;
  const npRule = (): PushRule => ({ ...rule('Secret'), id: 'annotation:NetworkPolicy/src/obj', source: { kind: 'NetworkPolicy', namespace: 'src', name: 'obj' } });
  const input = (s: KubeObject, live?: KubeObject, liveIsMetadata = false) =>
    ({ target: { kind: 'NetworkPolicy', namespace: 'dst', name: 'obj' }, spec: np, live, liveIsMetadata, candidates: [{ rule: npRule(), source: s }], settings: trusting, now: NOW });

  it('is created with the source\'s spec and judged in sync from its metadata while the source holds', () => {
    const s = npSource({ podSelector: {} });
    const created = planFor(input(s));
    expect(created.write).toMatchObject({ type: 'create', object: { kind: 'NetworkPolicy', spec: { podSelector: {} } } });
    const live = fromServer(written(created));
    expect(planFor(input(s, { metadata: live.metadata }, true)).outcome).toBe('InSync');
  });

  it('is never patched blind (a merge patch would keep nested keys the source dropped): its content is read first', () => {
    const live = fromServer(written(planFor(input(npSource({ podSelector: { matchLabels: { a: '1' } } })))));
    const changed = npSource({ podSelector: { matchLabels: { b: '2' } } });
    expect(planFor(input(changed, { metadata: live.metadata }, true)).outcome).toBe('NeedContent');
    const p = planFor(input(changed, live));
    expect(p.write).toMatchObject({ type: 'update', object: { spec: { podSelector: { matchLabels: { b: '2' } } } } });
  });
});
