// Which keys each kind of watch event makes worth a reconcile, over in-memory caches (no API server: the mapping
// makes no calls).
import { beforeEach, describe, expect, it } from '@jest/globals';
import { builtinKinds } from '../model/kinds.ts';
import type { KubeObject, Namespace } from '../model/objects.ts';
import type { Note } from '../engine/plan.ts';
import type { ReplicationPolicy } from '../api/replication-policy.ts';
import { compilePolicy, type CompiledPolicy } from '../rules/policy-rules.ts';
import { defaultSettings } from '../rules/types.ts';
import { annotations as A, provenance as P, reflector as R } from '../rules/vocabulary.ts';
import { EventKeys } from './event-keys.ts';

const ns = (name: string, labels: Record<string, string> = {}, terminating = false): Namespace =>
  ({ metadata: { name, labels, ...(terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) } });
const obj = (namespace: string, name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): KubeObject =>
  ({ metadata: { namespace, name, annotations, labels, creationTimestamp: '2024-01-01T00:00:00Z' } });

let namespaces: Map<string, Namespace>;
let objects: Map<string, Map<string, KubeObject>>;
let replicas: Map<string, Map<string, KubeObject>>;
let content: Set<string>;
let policies: Map<string, CompiledPolicy>;
let working: boolean;
let enqueued: string[];
let fetched: string[];
let notes: Note[];
let keys: EventKeys;

beforeEach(() => {
  namespaces = new Map(['src', 'a', 'b', 'c'].map((n) => [n, ns(n, n === 'c' ? { team: 'x' } : {})]));
  objects = new Map(['Secret', 'Role', 'RoleBinding'].map((k) => [k, new Map()]));
  replicas = new Map(['Secret', 'Role', 'RoleBinding'].map((k) => [k, new Map()]));
  content = new Set();
  policies = new Map();
  working = true;
  enqueued = [];
  fetched = [];
  notes = [];
  keys = new EventKeys({
    settings: defaultSettings,
    namespaces: { get: (n) => namespaces.get(n), values: () => namespaces.values() },
    caches: {
      kinds: () => [...objects.keys()],
      spec: (k) => builtinKinds[k as keyof typeof builtinKinds],
      objects: (k) => objects.get(k)?.values() ?? [],
      replicas: (k) => replicas.get(k)?.values() ?? [],
      hasReplica: (k, n, name) => replicas.get(k)?.has(`${n}/${name}`) ?? false,
      hasContent: (k, n, name) => content.has(`${k}/${n}/${name}`),
      forgetContent: (k, n, name) => content.delete(`${k}/${n}/${name}`),
    },
    activePolicy: (name) => policies.get(name),
    policyNames: () => [...policies.keys()],
    enqueue: (key) => enqueued.push(key),
    fetchAhead: (key) => fetched.push(key),
    working: () => working,
    note: (n) => notes.push(n),
  });
});

/** An object event, with the object added to (or removed from) the cache first, as the informer does. */
function event(kind: string, type: 'add' | 'update' | 'delete', o: KubeObject, old?: KubeObject) {
  const key = `${o.metadata.namespace}/${o.metadata.name}`;
  if (type === 'delete') objects.get(kind)!.delete(key);
  else objects.get(kind)!.set(key, o);
  keys.onObject(kind, type, o, old);
}

const pushTo = (list: string) => ({ [A.replicateTo]: list });
const taken = () => enqueued.splice(0).sort();

describe('object events', () => {
  it('a new push source whose content is at hand: its targets', () => {
    content.add('Secret/src/s');
    event('Secret', 'add', obj('src', 's', pushTo('a,b')));
    expect(taken()).toEqual(['Secret/a/s', 'Secret/b/s']);
  });

  it('a new push source whose content is not at hand: fetched first, then its targets', () => {
    event('Secret', 'add', obj('src', 's', pushTo('a')));
    expect([enqueued, fetched]).toEqual([[], ['Secret/src/s']]);
    keys.afterFetch('Secret/src/s');
    expect(taken()).toEqual(['Secret/a/s']);
  });

  it('a source that stops pushing: its old targets and the replicas it made, so they can be removed', () => {
    content.add('Secret/src/s');
    event('Secret', 'add', obj('src', 's', pushTo('a')));
    keys.onReplica('Secret', 'add', obj('b', 's', { [P.source]: 'src/s' }), undefined);
    taken();
    const before = obj('src', 's', pushTo('a'));
    event('Secret', 'update', obj('src', 's'), before);
    expect(taken()).toEqual(['Secret/a/s', 'Secret/b/s']);
  });

  it('an object that takes no part in replication: its content is not kept', () => {
    content.add('Secret/src/plain');
    event('Secret', 'add', obj('src', 'plain'));
    expect(content.has('Secret/src/plain')).toBe(false);
  });

  it('a deleted source: its targets', () => {
    content.add('Secret/src/s');
    const s = obj('src', 's', pushTo('a'));
    event('Secret', 'add', s);
    taken();
    event('Secret', 'delete', s);
    expect(taken()).toEqual(['Secret/a/s']);
    expect(keys.rules.size).toBe(0);
  });

  it('an invalid annotation: one Event when it appears, none while it stays the same', () => {
    const bad = obj('src', 's', { [A.replicateToMatching]: 'a in (' });
    event('Secret', 'add', bad);
    expect(notes.map((n) => [n.reason, n.on.name])).toEqual([['InvalidAnnotation', 's']]);
    event('Secret', 'update', obj('src', 's', { [A.replicateToMatching]: 'a in (' }, { touched: 'yes' }), bad);
    expect(notes).toHaveLength(1);
  });

  it('a source that something pulls from: the pulling targets', () => {
    event('Secret', 'add', obj('a', 'mine', { [A.replicateFrom]: 'src/shared' }));
    taken();
    event('Secret', 'update', obj('src', 'shared', { [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: 'a' }), obj('src', 'shared'));
    expect(taken()).toEqual(['Secret/a/mine']);
  });

  it('a pull source that does not consent to a target\'s namespace, before or after the change: that target is not looked at again', () => {
    // A source the puller may not read must look like a missing one, also in when the puller's target is reconciled
    // (and its Event repeated): its edits, its creation and its deletion say nothing to the puller.
    const consent = (namespaces: string) => ({ [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: namespaces });
    event('Secret', 'add', obj('a', 'mine', { [A.replicateFrom]: 'src/shared' }));
    event('Secret', 'add', obj('b', 'mine', { [A.replicateFrom]: 'src/shared' }));
    taken();
    const private1 = obj('src', 'shared', {}, { v: '1' });
    event('Secret', 'add', private1);
    expect(taken()).toEqual([]);
    const private2 = obj('src', 'shared', consent('c'), { v: '2' });
    event('Secret', 'update', private2, private1);
    expect(taken()).toEqual([]);
    // Consent given to b: b's target only; withdrawn again: b's target again (its copies go).
    const forB = obj('src', 'shared', consent('b'));
    event('Secret', 'update', forB, private2);
    expect(taken()).toEqual(['Secret/b/mine']);
    const withdrawn = obj('src', 'shared', consent('c'));
    event('Secret', 'update', withdrawn, forB);
    expect(taken()).toEqual(['Secret/b/mine']);
    event('Secret', 'delete', withdrawn, withdrawn);
    expect(taken()).toEqual([]);
    // A consenting source that goes: its targets lose what they pulled.
    event('Secret', 'add', forB);
    expect(taken()).toEqual(['Secret/b/mine']);
    event('Secret', 'delete', forB, forB);
    expect(taken()).toEqual(['Secret/b/mine']);
  });

  it('a Role that appears: the RoleBindings pushed into its namespace (one may wait for it)', () => {
    content.add('RoleBinding/src/rb');
    event('RoleBinding', 'add', obj('src', 'rb', pushTo('a,b')));
    taken();
    event('Role', 'add', obj('a', 'reader'));
    expect(taken()).toEqual(['RoleBinding/a/rb']);
    event('Role', 'update', obj('a', 'reader', { x: 'y' }), obj('a', 'reader'));
    expect(taken()).toEqual([]);
  });

  it('before work starts: nothing is enqueued or fetched, and forEachKey still covers every target', () => {
    working = false;
    event('Secret', 'add', obj('src', 's', pushTo('a,b')));
    expect([enqueued, fetched]).toEqual([[], []]);
    const all: string[] = [];
    keys.forEachKey((k) => all.push(k));
    expect(all.sort()).toEqual(['Secret/a/s', 'Secret/b/s']);
  });
});

describe('object events in the Reflector dialect', () => {
  const auto = (extra: Record<string, string> = {}) => ({ [R.allowed]: 'true', [R.autoEnabled]: 'true', ...extra });
  const distinct = () => [...new Set(taken())]; // the queue de-duplicates keys

  it('auto-reflection turned on, narrowed, turned off: the targets before and after', () => {
    content.add('Secret/src/s');
    event('Secret', 'add', obj('src', 's', auto()));
    expect(taken()).toEqual(['Secret/a/s', 'Secret/b/s', 'Secret/c/s']);
    const narrowed = obj('src', 's', auto({ [R.autoNamespaces]: 'a' }));
    event('Secret', 'update', narrowed, obj('src', 's', auto()));
    expect(distinct()).toEqual(['Secret/a/s', 'Secret/b/s', 'Secret/c/s']);
    // Held within an allowed list that excludes a: a (where the replica is) and b.
    keys.onReplica('Secret', 'add', obj('a', 's', { [P.source]: 'src/s' }), undefined);
    const within = obj('src', 's', auto({ [R.autoNamespaces]: 'a,b', [R.allowedNamespaces]: 'b' }));
    event('Secret', 'update', within, narrowed);
    expect(distinct()).toEqual(['Secret/a/s', 'Secret/b/s']);
    event('Secret', 'update', obj('src', 's', { [R.allowed]: 'false', [R.autoEnabled]: 'true' }), within);
    expect(distinct()).toEqual(['Secret/a/s', 'Secret/b/s']);
    expect(keys.rules.size).toBe(0);
  });

  it('a mirror that reflects a source, and a change of that source\'s consent: the mirror', () => {
    event('Secret', 'add', obj('a', 'mirror', { [R.reflects]: 'src/shared' }));
    taken();
    event('Secret', 'update', obj('src', 'shared', { [R.allowed]: 'true' }), obj('src', 'shared'));
    expect(taken()).toEqual(['Secret/a/mirror']);
  });

  it('a mirror Reflector made by auto-reflection is no pull: its source\'s changes do not enqueue it as one', () => {
    event('Secret', 'add', obj('a', 'auto', { [R.reflects]: 'src/shared', [R.autoReflects]: 'True' }));
    taken();
    event('Secret', 'update', obj('src', 'shared', { [R.allowed]: 'true' }), obj('src', 'shared'));
    expect(taken()).toEqual([]);
  });

  it('a consenting source keeps its content; an invalid Reflector annotation: one Event', () => {
    content.add('Secret/src/consents');
    event('Secret', 'add', obj('src', 'consents', { [R.allowed]: 'true' }));
    expect(content.has('Secret/src/consents')).toBe(true);
    event('Secret', 'add', obj('src', 'bad', { [R.allowed]: 'yes' }));
    expect(notes.map((n) => [n.reason, n.on.name, n.message.startsWith(R.allowed)])).toEqual([['InvalidAnnotation', 'bad', true]]);
  });
});

describe('replica events', () => {
  it('index replicas by the source in their provenance, and move them when it changes', () => {
    content.add('Secret/src/s');
    content.add('Secret/src/t');
    event('Secret', 'add', obj('src', 's', pushTo('a')));
    event('Secret', 'add', obj('src', 't', pushTo('a')));
    const r = obj('c', 's', { [P.source]: 'src/s' });
    keys.onReplica('Secret', 'add', r, undefined);
    keys.onReplica('Secret', 'update', obj('c', 's', { [P.source]: 'src/t' }), r);
    taken();
    event('Secret', 'update', obj('src', 't'), obj('src', 't', pushTo('a')));
    expect(taken()).toEqual(['Secret/a/t', 'Secret/c/s']);
    event('Secret', 'update', obj('src', 's'), obj('src', 's', pushTo('a')));
    expect(taken()).toEqual(['Secret/a/s']);
  });

  it('forEachKey covers every replica, and every pulling target', () => {
    replicas.get('Secret')!.set('b/x', obj('b', 'x'));
    event('Secret', 'add', obj('a', 'mine', { [A.replicateFrom]: 'src/shared' }));
    const all: string[] = [];
    keys.forEachKey((k) => all.push(k));
    expect(all.sort()).toEqual(['Secret/a/mine', 'Secret/b/x']);
  });
});

describe('namespace events', () => {
  beforeEach(() => {
    content.add('Secret/src/s');
    event('Secret', 'add', obj('src', 's', { [A.replicateToMatching]: 'team=x' }));
    taken();
  });

  it('a new namespace the rule targets: its key', () => {
    const d = ns('d', { team: 'x' });
    namespaces.set('d', d);
    keys.onNamespace('add', d, undefined);
    expect(taken()).toEqual(['Secret/d/s']);
  });

  it('a new namespace no rule targets: nothing', () => {
    keys.onNamespace('add', ns('e'), undefined);
    expect(taken()).toEqual([]);
  });

  it('labels changed so that the rule no longer targets it: the replica there, to be removed', () => {
    replicas.get('Secret')!.set('c/s', obj('c', 's'));
    keys.onNamespace('update', ns('c'), ns('c', { team: 'x' }));
    expect(taken()).toEqual(['Secret/c/s']);
  });

  it('labels changed: the pull targets in it (a source may consent by a namespace selector), and no others', () => {
    event('Secret', 'add', obj('a', 'mirror', { [R.reflects]: 'src/shared' }));
    event('Secret', 'add', obj('b', 'other', { [A.replicateFrom]: 'src/shared' }));
    taken();
    keys.onNamespace('update', ns('a', { env: 'prod' }), ns('a'));
    expect(taken()).toEqual(['Secret/a/mirror']);
    // No longer a pull target: no longer enqueued.
    event('Secret', 'update', obj('a', 'mirror'), obj('a', 'mirror', { [R.reflects]: 'src/shared' }));
    taken();
    keys.onNamespace('update', ns('a'), ns('a', { env: 'prod' }));
    expect(taken()).toEqual([]);
  });

  it('an update that changes neither labels nor termination, and a deletion: nothing', () => {
    keys.onNamespace('update', ns('c', { team: 'x' }), ns('c', { team: 'x' }));
    keys.onNamespace('delete', ns('c', { team: 'x' }), undefined);
    expect(taken()).toEqual([]);
  });

  it('a namespace that starts terminating: looked at again', () => {
    replicas.get('Secret')!.set('c/s', obj('c', 's'));
    keys.onNamespace('update', ns('c', { team: 'x' }, true), ns('c', { team: 'x' }));
    expect(taken()).toEqual(['Secret/c/s']);
  });
});

describe('policy events', () => {
  const policy = (spec: ReplicationPolicy['spec']): CompiledPolicy => {
    const r = compilePolicy({ metadata: { name: 'p', uid: 'u', generation: 1 }, spec } as ReplicationPolicy, ['Secret', 'Role', 'RoleBinding']);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return r.policy;
  };

  it('a new policy: rules for the sources it selects in the caches, and their targets', () => {
    event('Secret', 'add', obj('src', 's1'));
    event('Secret', 'add', obj('src', 's2'));
    event('Secret', 'add', obj('a', 's1'));
    for (const n of ['s1', 's2']) content.add(`Secret/src/${n}`);
    taken();
    const p = policy({ kinds: ['Secret'], source: { namespace: 'src', names: ['s1'] }, targets: { namespaces: ['a', 'b'] } });
    policies.set('p', p);
    keys.onPolicy('p', p);
    expect(taken()).toEqual(['Secret/a/s1', 'Secret/b/s1']);
    expect(keys.policyCounts('p')).toEqual({ sources: 1, targetNamespaces: 2, expected: 2 });
  });

  it('a source created later that the policy selects: its targets', () => {
    policies.set('p', policy({ kinds: ['Secret'], source: { namespace: 'src', selector: { matchLabels: { share: 'yes' } } }, targets: { namespaces: ['b'] } }));
    event('Secret', 'add', obj('src', 'new', {}, { share: 'yes' }));
    expect([taken(), fetched]).toEqual([[], ['Secret/src/new']]);
    keys.afterFetch('Secret/src/new');
    expect(taken()).toEqual(['Secret/b/new']);
  });

  it('a policy that goes: its rules go, its targets and the replicas it made are looked at', () => {
    event('Secret', 'add', obj('src', 's1'));
    content.add('Secret/src/s1');
    const p = policy({ kinds: ['Secret'], source: { namespace: 'src', names: ['s1'] }, targets: { namespaces: ['a'] } });
    policies.set('p', p);
    keys.onPolicy('p', p);
    replicas.get('Secret')!.set('c/s1', obj('c', 's1', { [P.rule]: 'policy/p' }));
    taken();
    policies.delete('p');
    keys.onPolicy('p', undefined);
    expect(taken()).toEqual(['Secret/a/s1', 'Secret/c/s1']);
    expect(keys.rules.forPolicy('p')).toEqual([]);
  });
});
