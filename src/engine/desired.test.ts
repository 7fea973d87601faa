import { describe, expect, it } from '@jest/globals';
import { builtinKinds as K, genericKind, type Kind } from '../model/kinds.ts';
import { canonical } from '../model/canonical.ts';
import { sha256Hex } from '../model/sha256.ts';
import type { KubeObject } from '../model/objects.ts';
import type { PushRule } from '../rules/types.ts';
import { annotations as A, provenance as P } from '../rules/vocabulary.ts';
import {
  clearedPullTarget, contentHash, desiredPullTarget, desiredPushReplica, differs, mergeData, needsRecreate,
  strippedReplica,
} from './desired.ts';
import { classify } from './ownership.ts';

const NOW = '2024-01-02T03:04:05Z';
const LATER = '2025-06-07T08:09:10Z';

function rule(kind: Kind, over: Partial<PushRule> = {}): PushRule {
  return {
    id: `annotation:${kind}/src/obj`,
    origin: { type: 'annotation' },
    source: { kind, namespace: 'src', name: 'obj' },
    sourceCreated: '2020-01-01T00:00:00Z',
    priority: 0,
    targets: {},
    stripLabels: false,
    keepOwnerReferences: false,
    onConflict: 'Skip',
    ...over,
  };
}

function source(over: Partial<KubeObject> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: {
      name: 'obj', namespace: 'src', uid: 'uid-1', resourceVersion: '100', creationTimestamp: '2020-01-01T00:00:00Z',
      labels: { app: 'web', tier: 'x' },
      annotations: { [A.replicateTo]: 'dst', 'example.com/note': 'source only' },
      ...meta,
    },
    ...over,
  };
}

function withKeys(keys: string, o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [A.replicatedKeys]: keys } } };
}

const target = (over: Partial<KubeObject> = {}, annotations: Record<string, string> = {}, labels?: Record<string, string>): KubeObject =>
  ({ metadata: { name: 'obj', namespace: 'dst', uid: 'uid-t', resourceVersion: '7', annotations, labels }, ...over });

describe('canonical', () => {
  it('sorts object keys at every depth, so key order never matters', () => {
    expect(canonical({ b: 1, a: { d: 2, c: [{ z: 1, y: 2 }] } })).toBe('{"a":{"c":[{"y":2,"z":1}],"d":2},"b":1}');
    expect(canonical({ a: 1, b: { c: 2, d: 3 } })).toBe(canonical({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('keeps array order (rules and subjects are ordered)', () => {
    expect(canonical([2, 1])).not.toBe(canonical([1, 2]));
  });

  it('handles scalars and undefined', () => {
    expect(canonical('x')).toBe('"x"');
    expect(canonical(null)).toBe('null');
    expect(canonical(undefined)).toBeUndefined();
  });
});

describe('contentHash', () => {
  const secret = source({ type: 'Opaque', data: { password: 'c3VwZXJzZWNyZXQ=', user: 'YWRtaW4=' } });

  it('is 16 hex characters and never contains the data', () => {
    const h = contentHash(K.Secret, secret);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(h).not.toContain('c3VwZXJzZWNyZXQ');
    expect(h).not.toContain('supersecret');
  });

  it('does not depend on key order', () => {
    const reordered = source({ data: { user: 'YWRtaW4=', password: 'c3VwZXJzZWNyZXQ=' }, type: 'Opaque' });
    expect(contentHash(K.Secret, reordered)).toBe(contentHash(K.Secret, secret));
  });

  it('does not depend on metadata (labels, annotations, versions)', () => {
    const other = source({ type: 'Opaque', data: secret.data }, { labels: {}, annotations: {}, resourceVersion: '999', uid: 'other' });
    expect(contentHash(K.Secret, other)).toBe(contentHash(K.Secret, secret));
  });

  it('changes with data, with the Secret type, and treats a missing type as Opaque', () => {
    expect(contentHash(K.Secret, source({ type: 'Opaque', data: { user: 'eA==' } }))).not.toBe(contentHash(K.Secret, secret));
    expect(contentHash(K.Secret, source({ type: 'kubernetes.io/tls', data: secret.data }))).not.toBe(contentHash(K.Secret, secret));
    expect(contentHash(K.Secret, source({ data: secret.data }))).toBe(contentHash(K.Secret, secret));
  });

  it('covers the replicated fields of each kind', () => {
    expect(contentHash(K.ConfigMap, source({ binaryData: { a: 'AA==' } }))).not.toBe(contentHash(K.ConfigMap, source({})));
    expect(contentHash(K.Role, source({ rules: [{ verbs: ['get'] }] }))).not.toBe(contentHash(K.Role, source({ rules: [{ verbs: ['list'] }] })));
    const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' };
    expect(contentHash(K.RoleBinding, source({ roleRef: ref, subjects: [] })))
      .not.toBe(contentHash(K.RoleBinding, source({ roleRef: { ...ref, name: 'q' }, subjects: [] })));
    expect(contentHash(K.ServiceAccount, source({ imagePullSecrets: [{ name: 'a' }] })))
      .not.toBe(contentHash(K.ServiceAccount, source({ imagePullSecrets: [{ name: 'b' }] })));
    // Fields a kind does not replicate are not part of its hash.
    expect(contentHash(K.ServiceAccount, source({ secrets: [{ name: 'tok' }] }))).toBe(contentHash(K.ServiceAccount, source({})));
  });
  it('hashes what v0.1 hashed (a changed hash would rewrite every replica after an upgrade)', () => {
    const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' };
    const cases: [keyof typeof K, Partial<KubeObject>, unknown][] = [
      ['Secret', { data: { a: 'YQ==' } }, { type: 'Opaque', data: { a: 'YQ==' } }],
      ['ConfigMap', { data: { a: 'b' } }, { data: { a: 'b' }, binaryData: {} }],
      ['Role', {}, { rules: [] }],
      ['RoleBinding', { roleRef: ref }, { subjects: [], roleRef: ref }],
      ['ServiceAccount', { imagePullSecrets: [{ name: 'r' }] }, { imagePullSecrets: [{ name: 'r' }] }],
    ];
    for (const [kind, over, hashed] of cases) expect(contentHash(K[kind], source(over))).toBe(sha256Hex(canonical(hashed)).slice(0, 16));
  });
});

describe('kinds allowed by --extra-kinds', () => {
  const np = genericKind('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies');
  const spec = { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] };
  const src = () => source({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec, status: { conditions: [] } } as Partial<KubeObject>);

  it('a push replica carries the source\'s spec, not its status, and no data-key bookkeeping', () => {
    const r = desiredPushReplica(np, rule('NetworkPolicy'), src(), 'dst', undefined, NOW, 'trusted');
    expect(r).toMatchObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec });
    expect(r).not.toHaveProperty('status');
    expect(r.metadata.annotations).not.toHaveProperty(A.replicatedKeys);
    expect(r.metadata.annotations![P.contentHash]).toBe(contentHash(np, src()));
  });

  it('an update replaces the whole spec: keys gone from the source go from the replica', () => {
    const live = desiredPushReplica(np, rule('NetworkPolicy'), src(), 'dst', undefined, NOW, 'trusted');
    const changed = source({ spec: { podSelector: { matchLabels: { tier: 'db' } } } } as Partial<KubeObject>);
    const next = desiredPushReplica(np, rule('NetworkPolicy'), changed, 'dst', live, LATER, 'trusted');
    expect(next.spec).toEqual({ podSelector: { matchLabels: { tier: 'db' } } });
    expect(differs(np, next, live)).toBe(true);
    expect(needsRecreate(np, next, live)).toBe(false);
  });

  it('a pull copies the spec; a pull target whose source is gone keeps its content (an empty spec may be invalid)', () => {
    const live = target({ spec: { podSelector: {} } } as Partial<KubeObject>, { [A.replicateFrom]: 'src/obj' });
    const pulled = desiredPullTarget(np, live, src(), NOW);
    expect(pulled.spec).toEqual(spec);
    const cleared = clearedPullTarget(np, pulled)!;
    expect(cleared.spec).toEqual(spec);
    expect(cleared.metadata.annotations).not.toHaveProperty(A.replicatedFromVersion);
  });
});

describe('mergeData', () => {
  it('copies every source key into a new target and lists them sorted', () => {
    expect(mergeData(undefined, source({ data: { b: 'Yg==', a: 'YQ==' }, binaryData: { c: 'Yw==' } }))).toEqual({
      data: { a: 'YQ==', b: 'Yg==' }, binaryData: { c: 'Yw==' }, keys: ['a', 'b', 'c'],
    });
  });

  it('lets source keys overwrite, removes keys replicated before but gone, keeps the target\'s own keys', () => {
    const live = withKeys('a,gone', target({ data: { a: 'old', gone: 'Zw==', own: 'bw==' } }));
    expect(mergeData(live, source({ data: { a: 'new', b: 'Yg==' } }))).toEqual({
      data: { a: 'new', b: 'Yg==', own: 'bw==' }, binaryData: undefined, keys: ['a', 'b'],
    });
  });

  it('removes a vanished replicated key from binaryData too (mittwald forgets binaryData on push)', () => {
    const live = withKeys('bin,txt', target({ data: { txt: 'dA==' }, binaryData: { bin: 'Yg==', ownbin: 'bw==' } }));
    expect(mergeData(live, source({ data: { txt: 'dA==' } }))).toEqual({
      data: { txt: 'dA==' }, binaryData: { ownbin: 'bw==' }, keys: ['txt'],
    });
  });

  it('moves a key between data and binaryData when the source moves it', () => {
    const live = withKeys('k', target({ data: { k: 'dGV4dA==' } }));
    expect(mergeData(live, source({ binaryData: { k: 'AAE=' } }))).toEqual({ data: undefined, binaryData: { k: 'AAE=' }, keys: ['k'] });
    const live2 = withKeys('k', target({ binaryData: { k: 'AAE=' } }));
    expect(mergeData(live2, source({ data: { k: 'dA==' } }))).toEqual({ data: { k: 'dA==' }, binaryData: undefined, keys: ['k'] });
  });

  it('overwrites an own key of the same name (source wins) and from then on counts it as replicated', () => {
    const live = target({ data: { a: 'bWluZQ==' } });
    expect(mergeData(live, source({ data: { a: 'dGhlaXJz' } }))).toEqual({ data: { a: 'dGhlaXJz' }, binaryData: undefined, keys: ['a'] });
  });

  it('gives undefined maps and no keys for an empty source and an empty target', () => {
    expect(mergeData(target(), source({}))).toEqual({ data: undefined, binaryData: undefined, keys: [] });
  });

  it('empties a target that only held replicated keys when the source is emptied', () => {
    const live = withKeys('a,b', target({ data: { a: '' }, binaryData: { b: '' } }));
    expect(mergeData(live, source({ data: {} }))).toEqual({ data: undefined, binaryData: undefined, keys: [] });
  });

  it('does not modify its inputs', () => {
    const live = withKeys('gone', target({ data: { gone: 'Zw==' } }));
    const src = source({ data: { a: 'YQ==' } });
    const before = [structuredClone(live), structuredClone(src)];
    mergeData(live, src);
    expect([live, src]).toEqual(before);
  });
});

describe('desiredPushReplica', () => {
  const secretSrc = source({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30=' } }, {
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'o-1' }],
  });

  it('builds a new Secret replica: name, namespace, type, data, labels, provenance, replication annotations', () => {
    const r = desiredPushReplica(K.Secret, rule('Secret'), secretSrc, 'dst', undefined, NOW, 'untrusted');
    expect(r).toEqual({
      apiVersion: 'v1', kind: 'Secret',
      metadata: {
        name: 'obj', namespace: 'dst',
        labels: { app: 'web', tier: 'x', [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' },
        annotations: {
          [P.source]: 'src/obj', [P.sourceUid]: 'uid-1', [P.rule]: 'annotation', [P.tier]: 'untrusted',
          [P.contentHash]: contentHash(K.Secret, secretSrc),
          [A.replicatedAt]: NOW, [A.replicatedFromVersion]: '100', [A.replicatedKeys]: '.dockerconfigjson',
        },
      },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': 'e30=' },
    });
    expect(classify(r)).toEqual({ type: 'ours', source: 'src/obj', rule: 'annotation' });
  });

  it('never copies the source\'s annotations (no replicate-to on replicas, no loops)', () => {
    const r = desiredPushReplica(K.Secret, rule('Secret'), secretSrc, 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.annotations).not.toHaveProperty([A.replicateTo]);
    expect(r.metadata.annotations).not.toHaveProperty(['example.com/note']);
  });

  it('does not copy the source\'s server fields or immutable flag', () => {
    const r = desiredPushReplica(K.ConfigMap, rule('ConfigMap'), source({ data: { a: 'b' }, immutable: true }), 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.uid).toBeUndefined();
    expect(r.metadata.resourceVersion).toBeUndefined();
    expect(r.metadata.creationTimestamp).toBeUndefined();
    expect(r.immutable).toBeUndefined();
  });

  it('defaults the Secret type to Opaque', () => {
    expect(desiredPushReplica(K.Secret, rule('Secret'), source({ data: {} }), 'dst', undefined, NOW, 'untrusted').type).toBe('Opaque');
  });

  it('does not set a type on ConfigMaps and always records replicated-keys for data kinds', () => {
    const r = desiredPushReplica(K.ConfigMap, rule('ConfigMap'), source({}), 'dst', undefined, NOW, 'untrusted');
    expect(r.type).toBeUndefined();
    expect(r.data).toBeUndefined();
    expect(r.binaryData).toBeUndefined();
    expect(r.metadata.annotations![A.replicatedKeys]).toBe('');
    expect(r.apiVersion).toBe('v1');
    expect(r.kind).toBe('ConfigMap');
  });

  it('replaces the target\'s labels with the source\'s (mittwald), plus ours', () => {
    const live = target({ data: {} }, {}, { mine: 'yes', app: 'old' });
    const r = desiredPushReplica(K.Secret, rule('Secret'), secretSrc, 'dst', live, NOW, 'untrusted');
    expect(r.metadata.labels).toEqual({ app: 'web', tier: 'x', [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' });
  });

  it('with strip-labels keeps only our own labels', () => {
    const r = desiredPushReplica(K.Secret, rule('Secret', { stripLabels: true }), secretSrc, 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.labels).toEqual({ [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' });
  });

  it('does not let the source overwrite our labels', () => {
    const src = source({}, { labels: { [P.replicaLabel]: 'false', [P.sourceNamespaceLabel]: 'evil' } });
    const r = desiredPushReplica(K.ConfigMap, rule('ConfigMap'), src, 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.labels).toEqual({ [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'src' });
  });

  it('copies ownerReferences only with keep-owner-references', () => {
    expect(desiredPushReplica(K.Secret, rule('Secret'), secretSrc, 'dst', undefined, NOW, 'untrusted').metadata.ownerReferences).toBeUndefined();
    const kept = desiredPushReplica(K.Secret, rule('Secret', { keepOwnerReferences: true }), secretSrc, 'dst', undefined, NOW, 'untrusted');
    expect(kept.metadata.ownerReferences).toEqual(secretSrc.metadata.ownerReferences);
    expect(kept.metadata.ownerReferences).not.toBe(secretSrc.metadata.ownerReferences);
  });

  it('leaves an existing target\'s ownerReferences alone without keep-owner-references, replaces them with it', () => {
    const theirs = [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'p-1' }];
    const live = target({}, {}, {});
    live.metadata.ownerReferences = theirs;
    expect(desiredPushReplica(K.Secret, rule('Secret'), secretSrc, 'dst', live, NOW, 'untrusted').metadata.ownerReferences).toEqual(theirs);
    expect(desiredPushReplica(K.Secret, rule('Secret', { keepOwnerReferences: true }), secretSrc, 'dst', live, NOW, 'untrusted').metadata.ownerReferences)
      .toEqual(secretSrc.metadata.ownerReferences);
    // keep-owner-references with a source that has none: the field is dropped rather than left empty.
    const noOwners = source({ data: {} }, { ownerReferences: [] });
    expect(desiredPushReplica(K.Secret, rule('Secret', { keepOwnerReferences: true }), noOwners, 'dst', live, NOW, 'untrusted').metadata)
      .not.toHaveProperty('ownerReferences');
  });

  it('starts from the live object: keeps its own annotations and keys, merges ours', () => {
    const live = withKeys('old', target({ type: 'Opaque', data: { old: 'bw==', own: 'eA==' } }, { 'team.example/owner': 'me', [A.replicatedAt]: 'then' }));
    const r = desiredPushReplica(K.Secret, rule('Secret'), source({ data: { a: 'YQ==' } }), 'dst', live, NOW, 'untrusted');
    expect(r.data).toEqual({ a: 'YQ==', own: 'eA==' });
    expect(r.metadata.annotations).toMatchObject({ 'team.example/owner': 'me', [A.replicatedAt]: NOW, [A.replicatedKeys]: 'a' });
    expect(r.metadata.uid).toBe('uid-t');
    expect(r.metadata.resourceVersion).toBe('7');
    expect(live.data).toEqual({ old: 'bw==', own: 'eA==' }); // not mutated
  });

  it('takes the source\'s Secret type even over an existing target\'s (a change is a recreate)', () => {
    const live = target({ type: 'Opaque', data: {} });
    const r = desiredPushReplica(K.Secret, rule('Secret'), secretSrc, 'dst', live, NOW, 'untrusted');
    expect(r.type).toBe('kubernetes.io/dockerconfigjson');
    expect(needsRecreate(K.Secret, r, live)).toBe(true);
  });

  it('records the policy uid for policy rules and drops a stale one for annotation rules', () => {
    const pol = rule('Secret', { origin: { type: 'policy', name: 'p1', uid: 'pu-1' }, id: 'policy/p1' });
    const r = desiredPushReplica(K.Secret, pol, source({}), 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.annotations).toMatchObject({ [P.rule]: 'policy/p1', [P.policyUid]: 'pu-1' });
    const again = desiredPushReplica(K.Secret, rule('Secret'), source({}), 'dst', r, NOW, 'untrusted');
    expect(again.metadata.annotations![P.rule]).toBe('annotation');
    expect(again.metadata.annotations).not.toHaveProperty([P.policyUid]);
  });

  it('uses the rule\'s source namespace for provenance', () => {
    const r = desiredPushReplica(K.ConfigMap, rule('ConfigMap', { source: { kind: 'ConfigMap', namespace: 'other', name: 'obj' } }), source({}), 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.annotations![P.source]).toBe('other/obj');
    expect(r.metadata.labels![P.sourceNamespaceLabel]).toBe('other');
  });

  it('copies rules for Roles (deeply), without replicated-keys', () => {
    const src = source({ rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] });
    const r = desiredPushReplica(K.Role, rule('Role'), src, 'dst', undefined, NOW, 'untrusted');
    expect(r.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect(r.kind).toBe('Role');
    expect(r.rules).toEqual(src.rules);
    expect(r.rules).not.toBe(src.rules);
    expect(r.metadata.annotations).not.toHaveProperty([A.replicatedKeys]);
    expect(r.data).toBeUndefined();
  });

  it('copies subjects and roleRef for RoleBindings', () => {
    const src = source({
      subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'src' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    });
    const r = desiredPushReplica(K.RoleBinding, rule('RoleBinding'), src, 'dst', undefined, NOW, 'untrusted');
    expect(r.subjects).toEqual(src.subjects);
    expect(r.roleRef).toEqual(src.roleRef);
  });

  it('copies only imagePullSecrets for ServiceAccounts', () => {
    const src = source({ imagePullSecrets: [{ name: 'reg' }], secrets: [{ name: 'tok' }], automountServiceAccountToken: false });
    const r = desiredPushReplica(K.ServiceAccount, rule('ServiceAccount'), src, 'dst', undefined, NOW, 'untrusted');
    expect(r.imagePullSecrets).toEqual([{ name: 'reg' }]);
    expect(r.secrets).toBeUndefined();
    expect(r.automountServiceAccountToken).toBeUndefined();
  });

  it('writes an empty replicated-from-version when the source has no resourceVersion', () => {
    const src = source({}, { resourceVersion: undefined, uid: undefined });
    const r = desiredPushReplica(K.ServiceAccount, rule('ServiceAccount'), src, 'dst', undefined, NOW, 'untrusted');
    expect(r.metadata.annotations).toMatchObject({ [A.replicatedFromVersion]: '', [P.sourceUid]: '' });
  });
});

describe('desiredPullTarget', () => {
  it('merges data into the target and touches nothing else but the replication annotations', () => {
    const live = withKeys('gone', target({ type: 'kubernetes.io/tls', data: { gone: 'Zw==', 'tls.crt': 'bWluZQ==' } },
      { [A.replicateFrom]: 'src/obj', mine: 'x' }, { team: 'a' }));
    const src = source({ type: 'Opaque', data: { 'tls.key': 'a2V5' } });
    const out = desiredPullTarget(K.Secret, live, src, NOW);
    expect(out.data).toEqual({ 'tls.crt': 'bWluZQ==', 'tls.key': 'a2V5' });
    expect(out.type).toBe('kubernetes.io/tls');
    expect(out.metadata.labels).toEqual({ team: 'a' });
    expect(out.metadata.annotations).toEqual({
      [A.replicateFrom]: 'src/obj', mine: 'x', [A.replicatedKeys]: 'tls.key', [A.replicatedAt]: NOW, [A.replicatedFromVersion]: '100',
    });
    expect(live.data).toHaveProperty('gone'); // not mutated
  });

  it('copies binaryData for ConfigMaps', () => {
    const out = desiredPullTarget(K.ConfigMap, target({}, { [A.replicateFrom]: 'src/obj' }), source({ binaryData: { b: 'AA==' } }), NOW);
    expect(out.binaryData).toEqual({ b: 'AA==' });
    expect(out).not.toHaveProperty('data');
  });

  it('replaces Role rules wholesale', () => {
    const live = target({ rules: [{ verbs: ['delete'], resources: ['x'] }] });
    expect(desiredPullTarget(K.Role, live, source({ rules: [{ verbs: ['get'] }] }), NOW).rules).toEqual([{ verbs: ['get'] }]);
    expect(desiredPullTarget(K.Role, live, source({}), NOW).rules).toEqual([]);
  });

  it('copies only subjects for RoleBindings: roleRef is immutable and stays', () => {
    const live = target({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mine' }, subjects: [] });
    const src = source({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'u' }] });
    const out = desiredPullTarget(K.RoleBinding, live, src, NOW);
    expect(out.roleRef).toEqual(live.roleRef);
    expect(out.subjects).toEqual([{ kind: 'User', name: 'u' }]);
    expect(out.metadata.annotations).not.toHaveProperty([A.replicatedKeys]);
  });

  it('copies only imagePullSecrets for ServiceAccounts', () => {
    const live = target({ secrets: [{ name: 'own-token' }] });
    const out = desiredPullTarget(K.ServiceAccount, live, source({ imagePullSecrets: [{ name: 'reg' }], secrets: [{ name: 'theirs' }] }), NOW);
    expect(out.imagePullSecrets).toEqual([{ name: 'reg' }]);
    expect(out.secrets).toEqual([{ name: 'own-token' }]);
  });
});

describe('clearedPullTarget', () => {
  it('is undefined when nothing was ever replicated into the target', () => {
    expect(clearedPullTarget(K.Secret, target({ data: { a: 'YQ==' } }, { [A.replicateFrom]: 's/x' }))).toBeUndefined();
  });

  it('removes only the replicated keys (mittwald removes all of data) and the replication annotations', () => {
    const live = withKeys('a,b', target({ data: { a: '1', own: '2' }, binaryData: { b: '3', ownbin: '4' } },
      { [A.replicateFrom]: 's/x', [A.replicatedAt]: 't', [A.replicatedFromVersion]: '9', other: 'o' }));
    const out = clearedPullTarget(K.ConfigMap, live)!;
    expect(out.data).toEqual({ own: '2' });
    expect(out.binaryData).toEqual({ ownbin: '4' });
    expect(out.metadata.annotations).toEqual({ [A.replicateFrom]: 's/x', other: 'o' });
    expect(live.data).toEqual({ a: '1', own: '2' }); // not mutated
  });

  it('works from replicated-from-version alone (kinds without keys)', () => {
    const ann = { [A.replicatedFromVersion]: '3' };
    expect(clearedPullTarget(K.Role, target({ rules: [{ verbs: ['get'] }] }, ann))!.rules).toEqual([]);
    expect(clearedPullTarget(K.RoleBinding, target({ subjects: [{ kind: 'User', name: 'u' }] }, ann))!.subjects).toEqual([]);
    expect(clearedPullTarget(K.ServiceAccount, target({ imagePullSecrets: [{ name: 'r' }] }, ann))!.imagePullSecrets).toEqual([]);
  });
});

describe('strippedReplica', () => {
  it('keeps the object with its own keys, minus what we put there (keys, labels, annotations)', () => {
    const live = desiredPushReplica(K.Secret, rule('Secret', { origin: { type: 'policy', name: 'p', uid: 'u' } }),
      source({ data: { a: 'YQ==' } }), 'dst', target({ data: { own: 'bw==' } }, { keep: 'me' }, { team: 'x' }), NOW, 'untrusted');
    const out = strippedReplica(K.Secret, live);
    expect(out.data).toEqual({ own: 'bw==' });
    expect(out.metadata.annotations).toEqual({ keep: 'me' });
    expect(out.metadata.labels).toEqual({ app: 'web', tier: 'x' });
    expect(classify(out).type).toBe('foreign');
  });

  it('without replication annotations only removes our marks', () => {
    const live = target({ data: { own: 'bw==' } }, { [P.source]: 'a/b', [P.contentHash]: 'h', mine: '1' }, { [P.replicaLabel]: 'true', x: 'y' });
    const out = strippedReplica(K.ConfigMap, live);
    expect(out.data).toEqual({ own: 'bw==' });
    expect(out.metadata.annotations).toEqual({ mine: '1' });
    expect(out.metadata.labels).toEqual({ x: 'y' });
  });
});

describe('differs', () => {
  const src = source({ type: 'Opaque', data: { a: 'YQ==' } });
  const replica = desiredPushReplica(K.Secret, rule('Secret'), src, 'dst', undefined, NOW, 'untrusted');

  it('ignores replicated-at and replicated-from-version', () => {
    const newer = desiredPushReplica(K.Secret, rule('Secret'), { ...src, metadata: { ...src.metadata, resourceVersion: '101' } }, 'dst', replica, LATER, 'untrusted');
    expect(newer.metadata.annotations![A.replicatedAt]).toBe(LATER);
    expect(differs(K.Secret, newer, replica)).toBe(false);
  });

  it('ignores server fields and key order', () => {
    const live = structuredClone(replica);
    live.metadata.uid = 'u'; live.metadata.resourceVersion = '5'; live.metadata.creationTimestamp = 'c';
    live.data = { ...live.data };
    live.metadata.labels = Object.fromEntries(Object.entries(live.metadata.labels!).reverse());
    expect(differs(K.Secret, replica, live)).toBe(false);
  });

  it('treats missing and empty maps alike', () => {
    expect(differs(K.ConfigMap, target({}, {}), target({ data: {}, binaryData: {} }, {}, {}))).toBe(false);
    expect(differs(K.Secret, target({}), target({ type: 'Opaque' }))).toBe(false);
  });

  it.each<[string, (o: KubeObject) => void]>([
    ['a data value', (o) => { o.data = { a: 'Yg==' }; }],
    ['an extra key', (o) => { o.data = { ...o.data, b: '' }; }],
    ['the Secret type', (o) => { o.type = 'kubernetes.io/tls'; }],
    ['a label', (o) => { o.metadata.labels = { ...o.metadata.labels, extra: '1' }; }],
    ['an annotation', (o) => { o.metadata.annotations = { ...o.metadata.annotations, extra: '1' }; }],
    ['replicated-keys', (o) => { o.metadata.annotations = { ...o.metadata.annotations, [A.replicatedKeys]: 'a,b' }; }],
    ['the content hash', (o) => { o.metadata.annotations = { ...o.metadata.annotations, [P.contentHash]: 'x' }; }],
    ['ownerReferences', (o) => { o.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' }]; }],
  ])('notices a change of %s', (_name, edit) => {
    const live = structuredClone(replica);
    edit(live);
    expect(differs(K.Secret, replica, live)).toBe(true);
  });

  it('only compares the fields of the given kind', () => {
    expect(differs(K.ServiceAccount, target({ secrets: [{ name: 'a' }] }), target({ secrets: [{ name: 'b' }] }))).toBe(false);
    expect(differs(K.ServiceAccount, target({ imagePullSecrets: [{ name: 'a' }] }), target({ imagePullSecrets: [{ name: 'b' }] }))).toBe(true);
    expect(differs(K.Role, target({ rules: [{ verbs: ['get', 'list'] }] }), target({ rules: [{ verbs: ['list', 'get'] }] }))).toBe(true);
    expect(differs(K.RoleBinding, target({ subjects: [] }), target({}))).toBe(false);
  });
});

describe('needsRecreate', () => {
  const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' };

  it('recreates a RoleBinding whose roleRef changes, and only then', () => {
    expect(needsRecreate(K.RoleBinding, target({ roleRef: ref }), target({ roleRef: { ...ref, name: 'other' } }))).toBe(true);
    expect(needsRecreate(K.RoleBinding, target({ roleRef: ref }), target({ roleRef: { ...ref, kind: 'ClusterRole' } }))).toBe(true);
    expect(needsRecreate(K.RoleBinding, target({ roleRef: ref, subjects: [{ kind: 'User', name: 'u' }] }), target({ roleRef: { name: 'r', kind: 'Role', apiGroup: 'rbac.authorization.k8s.io' } })))
      .toBe(false);
  });

  it('recreates a Secret whose type changes (type is immutable), treating no type as Opaque', () => {
    expect(needsRecreate(K.Secret, target({ type: 'kubernetes.io/tls' }), target({ type: 'Opaque' }))).toBe(true);
    expect(needsRecreate(K.Secret, target({ type: 'Opaque' }), target({}))).toBe(false);
    expect(needsRecreate(K.Secret, target({}), target({ type: 'Opaque' }))).toBe(false);
  });

  it('recreates an immutable Secret or ConfigMap whose data must change', () => {
    expect(needsRecreate(K.Secret, target({ data: { a: 'Yg==' } }), target({ data: { a: 'YQ==' }, immutable: true }))).toBe(true);
    expect(needsRecreate(K.ConfigMap, target({ binaryData: { a: 'Yg==' } }), target({ immutable: true }))).toBe(true);
    expect(needsRecreate(K.ConfigMap, target({ data: { a: 'Yg==' } }), target({ data: { a: 'YQ==' } }))).toBe(false);
  });

  it('does not recreate an immutable Secret or ConfigMap whose data is already right (or it would loop)', () => {
    expect(needsRecreate(K.Secret, target({ data: { a: 'YQ==' }, immutable: true }), target({ data: { a: 'YQ==' }, immutable: true }))).toBe(false);
    // Labels and annotations of an immutable object can be updated in place.
    expect(needsRecreate(K.ConfigMap, target({ data: { a: 'x' } }, { n: '1' }), target({ data: { a: 'x' }, immutable: true }, { n: '2' }))).toBe(false);
  });

  it('never recreates Roles or ServiceAccounts', () => {
    expect(needsRecreate(K.Role, target({ rules: [{ verbs: ['get'] }] }), target({ rules: [] }))).toBe(false);
    expect(needsRecreate(K.ServiceAccount, target({ imagePullSecrets: [{ name: 'a' }] }), target({}))).toBe(false);
  });
});
