// The extra compatibility cases of mittwald-behaviour.md §7.3 (not in upstream's own suite), as black-box
// tests against the real control plane. Where DESIGN.md §4 diverges on purpose, the test asserts our
// documented behaviour and says so in its name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  admin, b64, createNamespace, decoded, deleteNamespace, maybe, uniqueName, waitFor, waitForEvent,
} from './support/cluster.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';
import { kindOps, type Kind } from './support/kind-ops.ts';

const M = 'replicator.v1.mittwald.de/';
const REPLICA = 'kube-replicator.io/replica';
const c = admin();
const prefix = uniqueName('mwx');
const A = `${prefix}-a`;
const B = `${prefix}-b`;
const extra: string[] = [];

beforeAll(async () => {
  await createNamespace(c, A);
  await createNamespace(c, B);
});

afterAll(async () => {
  await Promise.all([A, B, ...extra].map((n) => deleteNamespace(c, n, false)));
});

async function namespace(suffix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${suffix}`;
  extra.push(name);
  return createNamespace(c, name, labels);
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const until = (what: string, check: () => Promise<boolean>) => waitFor(what, check);
const allow = (namespaces: string) => ({ [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: namespaces });

// ---- per-kind access, so one case can run over every kind ---------------------------------------------

const ops = kindOps(c);

function make(kind: Kind, namespace: string, name: string, value: string, annotations: Record<string, string> = {}, labels?: Record<string, string>) {
  return ops[kind].create(namespace, { metadata: { name, annotations, labels }, ...ops[kind].content(value) });
}

const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
const data = async (namespace: string, name: string) => decoded((await secret(namespace, name))?.data);
const configMap = (namespace: string, name: string) => maybe(c.core.readNamespacedConfigMap({ namespace, name }));

async function createSecret(namespace: string, name: string, values: Record<string, string>, annotations: Record<string, string> = {}, labels?: Record<string, string>) {
  return c.core.createNamespacedSecret({ namespace, body: { metadata: { name, annotations, labels }, data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)])) } });
}

/** Namespaces that exist and are not being deleted: where an "everywhere" rule must land. */
async function activeNamespaces(): Promise<string[]> {
  const list = await c.core.listNamespace();
  return list.items.filter((n) => !n.metadata!.deletionTimestamp && n.status?.phase !== 'Terminating').map((n) => n.metadata!.name!).sort();
}

// ---- the cases --------------------------------------------------------------------------------------

describe('mittwald §7.3 extra cases (default flags)', () => {
  let operator: TestOperator;
  beforeAll(async () => {
    // A plays the platform's namespace (trusted), as for most mittwald users; untrusted pushes: divergences.test.ts.
    operator = await startTestOperator([`--trusted-rbac-namespaces=${A}`, `--trusted-source-namespaces=${A}`]);
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it('1. ConfigMap pull without allow annotations is REFUSED (divergence: consent checked for every kind)', async () => {
    await c.core.createNamespacedConfigMap({ namespace: A, body: { metadata: { name: 'cm1-source' }, data: { foo: 'Hello World' } } });
    await c.core.createNamespacedConfigMap({ namespace: A, body: { metadata: { name: 'cm1-target', annotations: { [`${M}replicate-from`]: `${A}/cm1-source` } } } });
    await c.core.createNamespacedConfigMap({ namespace: B, body: { metadata: { name: 'cm1-target', annotations: { [`${M}replicate-from`]: `${A}/cm1-source` } } } });
    const same = await waitForEvent(c, A, 'cm1-target', 'SourceNotAvailable');
    expect(same.message).toContain('replication-allowed');
    await waitForEvent(c, B, 'cm1-target', 'SourceNotAvailable');
    const why = await waitForEvent(c, A, 'cm1-source', 'ReplicationNotPermitted');
    expect(why.message).toContain('replication-allowed');
    expect((await configMap(A, 'cm1-target'))!.data).toBeUndefined();
    expect((await configMap(B, 'cm1-target'))!.data).toBeUndefined();
  });

  it('2. replicate-to: "*" replicates to all namespaces AND (divergence) the replicas are removed when the source is deleted', async () => {
    await createSecret(A, 'star-source', { foo: 'everywhere' }, { [`${M}replicate-to`]: '*' });
    const expected = (await activeNamespaces()).filter((n) => n !== A);
    expect(expected).toEqual(expect.arrayContaining([B, 'default', 'kube-system']));
    const replicaNamespaces = async () => (await c.core.listSecretForAllNamespaces({ fieldSelector: 'metadata.name=star-source' })).items
      .filter((s) => s.metadata!.labels?.[REPLICA] === 'true').map((s) => s.metadata!.namespace!);
    await until('a replica in every other namespace', async () => {
      const got = new Set(await replicaNamespaces());
      return expected.every((n) => got.has(n));
    });
    expect(await replicaNamespaces()).not.toContain(A);
    expect((await data('default', 'star-source')).foo).toBe('everywhere');
    await c.core.deleteNamespacedSecret({ namespace: A, name: 'star-source' });
    await until('every replica removed', async () => (await c.core.listSecretForAllNamespaces({ fieldSelector: 'metadata.name=star-source' })).items.length === 0);
  });

  it('3. strip-labels: "false" (or empty) KEEPS the labels (divergence: mittwald strips on any value)', async () => {
    const labels = { team: 'blue', tier: 'gold' };
    await createSecret(A, 'strip-false', { foo: 'x' }, { [`${M}replicate-to`]: B, [`${M}strip-labels`]: 'false' }, labels);
    await createSecret(A, 'strip-empty', { foo: 'x' }, { [`${M}replicate-to`]: B, [`${M}strip-labels`]: '' }, labels);
    await createSecret(A, 'strip-true', { foo: 'x' }, { [`${M}replicate-to`]: B, [`${M}strip-labels`]: 'true' }, labels);
    const f = await waitFor('replica strip-false', () => secret(B, 'strip-false'));
    const e = await waitFor('replica strip-empty', () => secret(B, 'strip-empty'));
    const t = await waitFor('replica strip-true', () => secret(B, 'strip-true'));
    expect(f.metadata!.labels).toMatchObject({ ...labels, [REPLICA]: 'true' });
    expect(e.metadata!.labels).toMatchObject({ ...labels, [REPLICA]: 'true' });
    expect(t.metadata!.labels!.team).toBeUndefined();
    expect(t.metadata!.labels![REPLICA]).toBe('true');
  });

  it('4. replicate-to "a|b" matches whole names only (divergence: mittwald builds ^a|b$, so "axxx" and "xxb" match)', async () => {
    const x = await namespace('x4');
    const y = await namespace('y4');
    const axxx = await namespace('x4xxx');
    const xxb = `xx-${y}`;
    extra.push(xxb);
    await createNamespace(c, xxb);
    await createSecret(A, 'alternation', { foo: 'x' }, { [`${M}replicate-to`]: `${x}|${y}` });
    await waitFor(`replica in ${x}`, () => secret(x, 'alternation'));
    await waitFor(`replica in ${y}`, () => secret(y, 'alternation'));
    expect(await secret(axxx, 'alternation')).toBeUndefined();
    expect(await secret(xxb, 'alternation')).toBeUndefined();
  });

  it('5. an empty selector (replicate-to-matching: "") replicates to every namespace (same as mittwald)', async () => {
    await c.core.createNamespacedConfigMap({ namespace: A, body: { metadata: { name: 'empty-selector', annotations: { [`${M}replicate-to-matching`]: '' } }, data: { foo: 'all' } } });
    const expected = (await activeNamespaces()).filter((n) => n !== A);
    const replicaNamespaces = async () => (await c.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=empty-selector' })).items
      .filter((o) => o.metadata!.labels?.[REPLICA] === 'true').map((o) => o.metadata!.namespace!);
    await until('a replica in every other namespace', async () => {
      const got = new Set(await replicaNamespaces());
      return expected.every((n) => got.has(n));
    });
    expect(await replicaNamespaces()).not.toContain(A);
    expect((await configMap('kube-public', 'empty-selector'))!.data).toEqual({ foo: 'all' });
    await c.core.deleteNamespacedConfigMap({ namespace: A, name: 'empty-selector' });
    await until('every replica removed', async () => (await c.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=empty-selector' })).items.length === 0);
  });

  it('7. cleanup of Role/RoleBinding/ServiceAccount deletes only provable replicas (divergence: a same-named non-replica in a namespace matched unanchored survives)', async () => {
    const target = await namespace('c7');
    const bystander = await namespace('c70'); // mittwald's unanchored deletion match of "<prefix>-c7" hits it
    const kinds: Kind[] = ['Role', 'RoleBinding', 'ServiceAccount'];
    const before = new Map<Kind, string>();
    for (const kind of kinds) {
      const created = await make(kind, bystander, 'cleanup7', 'not-a-replica');
      before.set(kind, created.metadata!.resourceVersion!);
      await make(kind, A, 'cleanup7', 'replicated', { [`${M}replicate-to`]: target });
    }
    for (const kind of kinds) await until(`${kind} replica`, async () => ops[kind].valueOf(await ops[kind].read(target, 'cleanup7')) === 'replicated');
    for (const kind of kinds) await ops[kind].remove(A, 'cleanup7');
    for (const kind of kinds) await until(`${kind} replica deleted`, async () => (await ops[kind].read(target, 'cleanup7')) === undefined);
    for (const kind of kinds) {
      const survivor = await ops[kind].read(bystander, 'cleanup7');
      expect(survivor?.metadata!.resourceVersion).toBe(before.get(kind));
      expect(ops[kind].valueOf(survivor)).toBe('not-a-replica');
    }
  });

  it('8. unlabelling a namespace deletes the replica there (divergence #241: mittwald leaves it)', async () => {
    const label = `case8-${prefix}`;
    const labelled = await namespace('c8', { case8: label });
    await createSecret(A, 'unlabel8', { foo: 'x' }, { [`${M}replicate-to-matching`]: `case8=${label}` });
    await waitFor('replica', () => secret(labelled, 'unlabel8'));
    await c.core.patchNamespace({ name: labelled, body: { metadata: { labels: { case8: null } } } }, mergePatch);
    await until('replica deleted', async () => (await secret(labelled, 'unlabel8')) === undefined);
    expect(await secret(A, 'unlabel8')).toBeDefined();
  });

  it('9. a manual edit of a trusted push replica IS reverted at once (divergence: mittwald waits for a source change)', async () => {
    await createSecret(A, 'edit9', { foo: 'original' }, { [`${M}replicate-to`]: B });
    await until('replica', async () => (await data(B, 'edit9')).foo === 'original');
    // Only the data changes: replicated-from-version still equals the source's version, as in mittwald's blind spot.
    const edited = await c.core.patchNamespacedSecret({ namespace: B, name: 'edit9', body: { data: { foo: b64('manually changed') } } }, mergePatch);
    expect(edited.metadata!.annotations![`${M}replicated-from-version`]).toBeDefined();
    await until('edit reverted', async () => (await data(B, 'edit9')).foo === 'original');
  });

  it('10. a deleted push replica is recreated at once (divergence: mittwald needs a resync)', async () => {
    await createSecret(A, 'deleted10', { foo: 'x' }, { [`${M}replicate-to`]: B });
    const first = await waitFor('replica', () => secret(B, 'deleted10'));
    await c.core.deleteNamespacedSecret({ namespace: B, name: 'deleted10' });
    const again = await waitFor('replica recreated', async () => {
      const s = await secret(B, 'deleted10');
      return s && s.metadata!.uid !== first.metadata!.uid ? s : undefined;
    });
    expect(decoded(again.data).foo).toBe('x');
  });

  it('11. a RoleBinding referencing a missing Role is created once the Role exists (divergence: retried until then, no extra event needed)', async () => {
    const target = await namespace('c11');
    const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role11' };
    const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }];
    await c.rbac.createNamespacedRoleBinding({ namespace: A, body: { metadata: { name: 'binding11', annotations: { [`${M}replicate-to`]: target } }, roleRef, subjects } });
    const ev = await waitForEvent(c, A, 'binding11', 'WaitingForRole');
    expect(ev.message).toContain('role11');
    expect(await maybe(c.rbac.readNamespacedRoleBinding({ namespace: target, name: 'binding11' }))).toBeUndefined();
    await c.rbac.createNamespacedRole({ namespace: target, body: { metadata: { name: 'role11' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] } });
    const binding = await waitFor('binding created', () => maybe(c.rbac.readNamespacedRoleBinding({ namespace: target, name: 'binding11' })));
    expect(binding.roleRef).toEqual(roleRef);
    expect(binding.subjects).toEqual(subjects);
  });

  it('12. a pull target created before its source is filled when the source appears', async () => {
    await createSecret(B, 'target12', {}, { [`${M}replicate-from`]: `${A}/source12` });
    await waitForEvent(c, B, 'target12', 'SourceNotAvailable');
    expect(await data(B, 'target12')).toEqual({});
    await createSecret(A, 'source12', { foo: 'late' }, allow(B));
    await until('target filled', async () => (await data(B, 'target12')).foo === 'late');
  });

  it('13. a pull target in a disallowed namespace stays empty: SourceNotAvailable on it, ReplicationNotPermitted on the source', async () => {
    await createSecret(A, 'source13', { foo: 'secret' }, allow(A));
    await createSecret(B, 'target13', { own: 'mine' }, { [`${M}replicate-from`]: `${A}/source13` });
    const ev = await waitForEvent(c, B, 'target13', 'SourceNotAvailable');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain(B);
    const why = await waitForEvent(c, A, 'source13', 'ReplicationNotPermitted');
    expect(why.type).toBe('Warning');
    expect(why.message).toContain(`${B}/target13`);
    expect(await data(B, 'target13')).toEqual({ own: 'mine' });
  });

  it('14. source deletion removes only the replicated keys from a pull target (divergence: mittwald removes all data)', async () => {
    await createSecret(A, 'source14', { foo: 'replicated', bar: 'replicated too' }, allow(B));
    await createSecret(B, 'target14', { own: 'mine' }, { [`${M}replicate-from`]: `${A}/source14` });
    await c.core.createNamespacedConfigMap({ namespace: A, body: { metadata: { name: 'source14', annotations: allow(B) }, data: { foo: 'replicated' }, binaryData: { blob: b64('binary') } } });
    await c.core.createNamespacedConfigMap({ namespace: B, body: { metadata: { name: 'target14', annotations: { [`${M}replicate-from`]: `${A}/source14` } }, data: { own: 'mine' }, binaryData: { ownblob: b64('own binary') } } });
    await until('secret target filled', async () => (await data(B, 'target14')).bar === 'replicated too');
    await until('configmap target filled', async () => (await configMap(B, 'target14'))?.binaryData?.blob === b64('binary'));
    await c.core.deleteNamespacedSecret({ namespace: A, name: 'source14' });
    await c.core.deleteNamespacedConfigMap({ namespace: A, name: 'source14' });
    await until('secret keys removed', async () => !('foo' in (await data(B, 'target14'))));
    expect(await data(B, 'target14')).toEqual({ own: 'mine' });
    await until('configmap keys removed', async () => (await configMap(B, 'target14'))?.binaryData?.blob === undefined);
    const cm = (await configMap(B, 'target14'))!;
    expect(cm.data).toEqual({ own: 'mine' });
    expect(cm.binaryData).toEqual({ ownblob: b64('own binary') });
    expect(cm.metadata!.annotations![`${M}replicate-from`]).toBe(`${A}/source14`);
    // As in mittwald, the relationship outlives the source: creating it again refills the target.
    await createSecret(A, 'source14', { foo: 'again' }, allow(B));
    await until('secret target refilled', async () => (await data(B, 'target14')).foo === 'again');
    expect(await data(B, 'target14')).toEqual({ own: 'mine', foo: 'again' });
  });
});

describe('mittwald §7.3 extra case 6 (--exclude-namespaces)', () => {
  const id = prefix.slice(-8);
  const kinds: Kind[] = ['Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'];
  let operator: TestOperator;
  let skipped: string;
  let kept: string;
  beforeAll(async () => {
    // Unanchored: "skip6-<id>" matches "<prefix>-skip6-<id>-ns" anywhere in the name.
    skipped = await namespace(`skip6-${id}-ns`);
    kept = await namespace(`keep6-${id}`);
    operator = await startTestOperator([`--exclude-namespaces=skip6-${id}`, `--trusted-rbac-namespaces=${A}`]);
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it('6. --exclude-namespaces is unanchored and applies to ALL kinds (divergence: mittwald only Secrets/ConfigMaps)', async () => {
    for (const kind of kinds) await make(kind, A, 'excluded6', `${kind}-value`, { [`${M}replicate-to`]: `${prefix}-(skip6|keep6)-.*` });
    for (const kind of kinds) {
      await until(`${kind} replica in ${kept}`, async () => ops[kind].valueOf(await ops[kind].read(kept, 'excluded6')) === `${kind}-value`);
    }
    for (const kind of kinds) expect(await ops[kind].read(skipped, 'excluded6')).toBeUndefined();
  });
});
