// explain names, per rule and per namespace, the decision the planner made: these tests feed it plan()'s own answers.
import { describe, expect, it } from '@jest/globals';
import { builtinKinds as K } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { parseExcludePatterns, parseNamespacePatterns } from '../rules/patterns.ts';
import { parseLabelSelector } from '../rules/selector.ts';
import { defaultSettings, type NamespaceView, type PushRule, type Settings } from '../rules/types.ts';
import { namespaceReplicationLabel } from '../rules/vocabulary.ts';
import { explainNamespace, explainSource, explainTarget, hashKeys, notTargeted, renderNamespace, renderSource, renderTarget } from './explain.ts';
import { sha256Hex } from '../model/sha256.ts';
import { plan, type Candidate, type Plan } from './plan.ts';
import { ruleTargetsNamespace } from '../rules/targeting.ts';

const NOW = '2024-01-01T00:00:00Z';
const SECRET_VALUE = 'c3VwZXItc2VjcmV0LXZhbHVl'; // base64 of a value that must never be printed

function source(namespace: string, created = '2020-01-01T00:00:00Z'): KubeObject {
  return { metadata: { name: 'creds', namespace, uid: `${namespace}-uid`, resourceVersion: '1', creationTimestamp: created }, type: 'Opaque', data: { password: SECRET_VALUE } };
}

function rule(over: Partial<PushRule> & { source?: ObjectRef } = {}): PushRule {
  const src = over.source ?? { kind: 'Secret', namespace: 'src', name: 'creds' };
  return {
    id: `annotation:Secret/${src.namespace}/${src.name}`, origin: { type: 'annotation' }, source: src, sourceCreated: '2020-01-01T00:00:00Z', priority: 0,
    targets: { patterns: parseNamespacePatterns('dst') }, stripLabels: false, keepOwnerReferences: false, onConflict: 'Skip', ...over,
  };
}

const ns = (name: string, labels: Record<string, string> = {}): NamespaceView => ({ name, labels, terminating: false });
const target: ObjectRef = { kind: 'Secret', namespace: 'dst', name: 'creds' };

/** What the controller does: candidates are the rules that target the namespace, then the planner, then explain. */
function explain(rules: PushRule[], view: NamespaceView | undefined, settings: Settings = defaultSettings, live?: KubeObject) {
  const sources = new Map(rules.map((r) => [r.source.namespace, source(r.source.namespace, r.sourceCreated)]));
  const candidates: Candidate[] = view ? rules.filter((r) => ruleTargetsNamespace(r, view, settings)).map((r) => ({ rule: r, source: sources.get(r.source.namespace)! })) : [];
  const p = plan({ target, spec: K.Secret, live, candidates, settings, now: NOW, targetNamespace: view });
  return explainTarget({ target, spec: K.Secret, live, namespace: view, rules, source: (ref) => sources.get(ref.namespace), settings, plan: p, now: NOW, salt: 'test' });
}

describe('explainTarget', () => {
  it('a target a rule would create: the winner, the pending create, and desired keys as hashes only', () => {
    const e = explain([rule()], ns('dst'));
    expect(e.rules).toEqual([expect.objectContaining({ state: 'winner', origin: 'annotation', source: 'src/creds', tier: 'untrusted' })]);
    expect(e.outcome).toBe('Written');
    expect(e.action).toBe('create');
    expect(e.summary).toMatch(/^pending: a reconcile would create it/);
    expect(e.content?.desired?.password).toMatch(/^sha256:[0-9a-f]{12}$/);
    const text = renderTarget(e) + JSON.stringify(e);
    expect(text).not.toContain(SECRET_VALUE);
    expect(text).not.toContain('super-secret-value');
  });

  it('a trusted policy wins over an annotation; the loser is told why', () => {
    const policy = rule({ id: 'policy:p:Secret/team/creds', origin: { type: 'policy', name: 'p', uid: 'u' }, source: { kind: 'Secret', namespace: 'team', name: 'creds' } });
    const e = explain([rule(), policy], ns('dst'));
    expect(e.winner).toBe(policy.id);
    const lost = e.rules.find((r) => r.origin === 'annotation')!;
    expect(lost.state).toBe('lost');
    expect(lost.reason).toBe('RuleConflict');
    expect(lost.message).toMatch(/a trusted rule always wins over an untrusted one/);
  });

  it('a namespace the rule does not select by label: which label it lacks', () => {
    const sel = parseLabelSelector('kube-replicator.io/team=x');
    if (!sel.ok) throw new Error(sel.error);
    const r = rule({ id: 'policy:registry-credentials:Secret/src/creds', origin: { type: 'policy', name: 'registry-credentials', uid: 'u' }, targets: { selector: sel.selector } });
    const e = explain([r], ns('dst', { other: 'y' }));
    expect(e.rules[0]).toMatchObject({ state: 'notTargeted', reason: 'NotSelected' });
    expect(e.summary).toBe('not created: NotSelected: ReplicationPolicy registry-credentials selects namespaces by label "kube-replicator.io/team=x" but dst lacks kube-replicator.io/team; dst is not one of them');
  });

  it.each([
    ['DenyLabel', ns('dst', { [namespaceReplicationLabel]: 'deny' }), defaultSettings, /labelled kube-replicator.io\/replication=deny/],
    ['NotOptedIn', ns('dst'), { ...defaultSettings, requireNamespaceOptIn: true }, /has not opted in/],
    ['Excluded', ns('dst'), { ...defaultSettings, excludeNamespaces: parseExcludePatterns('ds') }, /matches --exclude-namespaces \(ds\)/],
    ['Terminating', { ...ns('dst'), terminating: true }, defaultSettings, /is being deleted/],
  ] as const)('a namespace that refuses pushes: %s', (reason, view, settings, message) => {
    const e = explain([rule()], view, settings);
    expect(e.rules[0]).toMatchObject({ state: 'notTargeted', reason });
    expect(e.rules[0]!.message).toMatch(message);
    expect(e.summary).toContain(`not created: ${reason}`);
  });

  it('a protected namespace refuses an untrusted push, with the planner\'s message', () => {
    const e = explain([rule()], ns('dst'), { ...defaultSettings, protectedNamespaces: parseNamespacePatterns('dst') });
    expect(e.rules[0]).toMatchObject({ state: 'refused', reason: 'ProtectedNamespace' });
    expect(e.outcome).toBe('Refused');
    expect(e.summary).toMatch(/^not created: ProtectedNamespace: not replicated into dst: it is a protected namespace/);
  });

  it('an existing object that is not a replica: a conflict with a non-replica', () => {
    const live: KubeObject = { metadata: { name: 'creds', namespace: 'dst', uid: 'x' }, type: 'Opaque', data: { own: 'b3du' } };
    const e = explain([rule()], ns('dst'), defaultSettings, live);
    expect(e.role).toBe('other');
    expect(e.outcome).toBe('Conflict');
    expect(e.summary).toMatch(/^Conflict: TargetConflict: Secret dst\/creds already exists and was not made by a replicator/);
    expect(e.content?.actual).toEqual({ own: expect.stringMatching(/^sha256:/) });
  });

  it('a rule excluding the namespace, and an invalid pattern, are told apart from "not selected"', () => {
    expect(notTargeted(rule({ targets: { patterns: parseNamespacePatterns('*'), exclude: parseNamespacePatterns('dst') } }), ns('dst'), defaultSettings)?.reason).toBe('ExcludedByRule');
    expect(notTargeted(rule({ targets: { patterns: parseNamespacePatterns('ns-[') } }), ns('dst'), defaultSettings)).toMatchObject({ reason: 'InvalidPattern', message: expect.stringContaining('ns-[') });
  });

  it('a pull: the consent check as the planner found it', () => {
    const live: KubeObject = { metadata: { name: 'creds', namespace: 'dst', uid: 'x', annotations: { 'replicator.v1.mittwald.de/replicate-from': 'src/creds' } }, type: 'Opaque' };
    const pullOf = (src: KubeObject | undefined) => {
      const p = plan({ target, spec: K.Secret, live, candidates: [], settings: defaultSettings, now: NOW, targetNamespace: ns('dst'), pull: { via: 'replicate-from', sourceRef: { kind: 'Secret', namespace: 'src', name: 'creds' }, source: src } });
      return explainTarget({ target, spec: K.Secret, live, namespace: ns('dst'), rules: [], source: () => src, settings: defaultSettings, plan: p, now: NOW, salt: 'test' });
    };
    expect(pullOf(source('src')).pull).toEqual({ via: 'replicate-from', source: 'src/creds', consent: 'not permitted: the source does not set replicator.v1.mittwald.de/replication-allowed: "true"' });
    expect(pullOf(undefined).pull?.consent).toBe('no source to ask (it does not exist)');
    const consenting = source('src');
    consenting.metadata.annotations = { 'replicator.v1.mittwald.de/replication-allowed': 'true', 'replicator.v1.mittwald.de/replication-allowed-namespaces': 'dst' };
    const ok = pullOf(consenting);
    expect(ok.pull?.consent).toBe('permitted');
    expect(ok.summary).toBe('pending: a reconcile would update it from src/creds (replicate-from)');
  });

  it('no rule at all, and a namespace the caller cannot see', () => {
    expect(explain([], ns('dst')).summary).toBe('no rule replicates a Secret named creds (no annotated source, no ReplicationPolicy selects one)');
    const hidden = explain([rule()], undefined);
    expect(hidden.namespaceVisible).toBe(false);
    expect(hidden.rules[0]).toMatchObject({ reason: 'NotVisible' });
    expect(hidden.summary).toMatch(/is not visible/);
  });
});

describe('explainTarget: the winner against an object of the namespace\'s own', () => {
  it('summarizes the target\'s conflict, not the loser\'s RuleConflict', () => {
    const annotation = rule();
    const policy = rule({ id: 'policy:p:Secret/src/creds', origin: { type: 'policy', name: 'p', uid: 'u' } });
    const foreign: KubeObject = { metadata: { name: 'creds', namespace: 'dst', uid: 'own', resourceVersion: '1' }, data: { mine: 'eA==' } };
    const e = explain([annotation, policy], ns('dst'), defaultSettings, foreign);
    expect(e.summary).toMatch(/^Conflict: TargetConflict: Secret dst\/creds already exists/);
    expect(explainNamespace('dst', ns('dst'), [e], [], defaultSettings).objects).toEqual([expect.objectContaining({ state: 'refused', reason: 'TargetConflict', rule: policy.id })]);
  });
});

describe('explainSource', () => {
  it('groups the namespaces a source names by state, with counts, and leaves out those it never names', () => {
    const r = rule({ targets: { patterns: parseNamespacePatterns('*') } });
    const views = [ns('src'), ns('a'), ns('b', { [namespaceReplicationLabel]: 'deny' }), ns('c')];
    const settings = { ...defaultSettings, protectedNamespaces: parseNamespacePatterns('c') };
    const s = explainSource(r.source, [r], views, settings, (name) => plan({
      target: { ...target, namespace: name }, spec: K.Secret, candidates: [{ rule: r, source: source('src') }], settings, now: NOW,
    }));
    expect(s.counts).toEqual({ inSync: 0, pending: 1, refused: 2 });
    expect(s.namespaces.map((n) => [n.namespace, n.state, n.reason])).toEqual([['a', 'pending', 'create'], ['b', 'refused', 'DenyLabel'], ['c', 'refused', 'ProtectedNamespace']]);
    expect(renderSource(s)).toContain('refused (DenyLabel): 1: b');
  });

  it('a policy and an annotation on the same source, against an object of the namespace\'s own: the winner is refused by the object, the other lost', () => {
    const annotation = rule({ targets: { patterns: parseNamespacePatterns('*') } });
    const policy = rule({ id: 'policy:p:Secret/src/creds', origin: { type: 'policy', name: 'p', uid: 'u' }, targets: { patterns: parseNamespacePatterns('*') } });
    const foreign: KubeObject = { metadata: { name: 'creds', namespace: 'dst', uid: 'own', resourceVersion: '1' }, data: { mine: 'eA==' } };
    const s = explainSource(annotation.source, [annotation, policy], [ns('dst')], defaultSettings, () => plan({
      target, spec: K.Secret, live: foreign, candidates: [annotation, policy].map((r) => ({ rule: r, source: source('src') })), settings: defaultSettings, now: NOW, targetNamespace: ns('dst'),
    }));
    expect(s.namespaces.map((n) => [n.rule, n.state, n.reason])).toEqual([[annotation.id, 'refused', 'RuleConflict'], [policy.id, 'refused', 'TargetConflict']]);
    expect(s.namespaces[0]!.message).toMatch(/trusted rule always wins/);
    expect(s.namespaces[1]!.message).toMatch(/already exists and was not made by a replicator/);
  });

  it('a large group is counted, and only its first names are listed', () => {
    const r = rule({ targets: { patterns: parseNamespacePatterns('*') } });
    const views = Array.from({ length: 25 }, (_, i) => ns(`t${i}`, { [namespaceReplicationLabel]: 'deny' }));
    const text = renderSource(explainSource(r.source, [r], views, defaultSettings, () => undefined));
    expect(text).toContain('refused (DenyLabel): 25: t0, t1');
    expect(text).toContain('… and 15 more');
  });

  it('pull targets that name the source, with the consent check\'s answer (the source owner\'s view)', () => {
    const src = { kind: 'Secret', namespace: 'src', name: 'creds' };
    const refusedPlan: Plan = { outcome: 'Waiting', notes: [
      { type: 'Warning', reason: 'SourceNotAvailable', on: { kind: 'Secret', namespace: 'x', name: 'mine' }, message: 'source src/creds does not exist or does not permit replication into x' },
      { type: 'Warning', reason: 'ReplicationNotPermitted', on: src, message: 'x/mine may not pull: the source does not set replication-allowed' },
    ] };
    const s = explainSource(src, [], [], defaultSettings, () => undefined, [
      { target: { kind: 'Secret', namespace: 'x', name: 'mine' }, plan: refusedPlan },
      { target: { kind: 'Secret', namespace: 'y', name: 'creds' }, plan: { outcome: 'InSync', notes: [] } },
    ]);
    expect(s).toMatchObject({ pulls: 2, counts: { inSync: 1, pending: 0, refused: 1 } });
    expect(s.namespaces).toEqual([
      { namespace: 'x', rule: 'pull', target: 'x/mine', state: 'refused', reason: 'ReplicationNotPermitted', message: 'x/mine may not pull: the source does not set replication-allowed' },
      { namespace: 'y', rule: 'pull', target: 'y/creds', state: 'inSync' },
    ]);
    const text = renderSource(s);
    expect(text).toContain('Secret src/creds: source of 0 rule(s) and 2 pull target(s); 1 in sync, 0 pending, 1 refused');
    expect(text).toContain('refused (ReplicationNotPermitted): 1: x/mine (pull)');
  });

  it('a rule with an invalid namespace pattern says so once, not once per namespace', () => {
    const r = rule({ targets: { patterns: parseNamespacePatterns('a,[') } });
    const s = explainSource(r.source, [r], [ns('a'), ns('b')], defaultSettings, () => ({ outcome: 'InSync', notes: [] }));
    expect(s.rules[0]!.invalid).toMatch(/^invalid namespace pattern in the annotations on src\/creds \(it matches nothing\): "\[": /);
    expect(renderSource(s)).toMatch(/rule annotation \(untrusted\): namespaces "a,\[" {2}InvalidPattern: invalid namespace pattern/);
  });
});

describe('explainNamespace', () => {
  it('what is replicated into a namespace, what is pending, and what is refused there and why', () => {
    const wanted = rule({ source: { kind: 'Secret', namespace: 'src', name: 'creds' } });
    const denied = rule({ id: 'annotation:Secret/src/other', source: { kind: 'Secret', namespace: 'src', name: 'other' }, targets: { patterns: parseNamespacePatterns('dst') } });
    const view = ns('dst');
    const e = explainNamespace('dst', view, [explain([wanted], view)], [wanted, denied], { ...defaultSettings, requireNamespaceOptIn: false });
    expect(e.objects).toEqual([expect.objectContaining({ target: 'Secret dst/creds', state: 'pending', reason: 'create', rule: wanted.id })]);
    const optIn = { ...defaultSettings, requireNamespaceOptIn: true };
    const refused = explainNamespace('dst', view, [], [wanted, denied], optIn);
    expect(refused.counts).toEqual({ inSync: 0, pending: 0, refused: 2 });
    expect(refused.objects.map((o) => [o.target, o.reason])).toEqual([['Secret dst/creds', 'NotOptedIn'], ['Secret dst/other', 'NotOptedIn']]);
    expect(renderNamespace(refused)).toContain('refused  Secret dst/creds  (annotation:Secret/src/creds)  NotOptedIn: namespace dst has not opted in');
  });

  it('a namespace the caller cannot see lists nothing', () => {
    const e = explainNamespace('dst', undefined, [], [rule()], defaultSettings);
    expect(e).toMatchObject({ visible: false, objects: [] });
    expect(renderNamespace(e)).toBe('namespace dst: not visible (it does not exist, or you may not read it)\n');
  });
});

describe('content hashes', () => {
  it('are salted per run: equal values agree within one answer, but a value cannot be looked up from its hash', () => {
    const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, data: { a: 'c2VjcmV0', b: 'c2VjcmV0' } } as KubeObject;
    const one = hashKeys(K.Secret, obj, 'salt-1')!;
    expect(one.a).toBe(one.b);
    expect(hashKeys(K.Secret, obj, 'salt-2')!.a).not.toBe(one.a);
    expect(one.a).not.toBe(`sha256:${sha256Hex('c2VjcmV0').slice(0, 12)}`);
  });
});
