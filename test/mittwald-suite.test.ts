// mittwald/kubernetes-replicator's own test suite (mittwald-behaviour.md §7.2: 19 Secret and 3 Role cases),
// as black-box tests against the real control plane. Where DESIGN.md §4 diverges on purpose, the test
// asserts our documented behaviour and says so in its name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  admin, b64, createNamespace, decoded, deleteNamespace, maybe, uniqueName, waitFor, waitForEvent,
} from './support/cluster.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const M = 'replicator.v1.mittwald.de/';
const c = admin();
const prefix = uniqueName('mw');
const A = `${prefix}-test`;
const B = `${prefix}-test2`;
const extra: string[] = [];
let operator: TestOperator;

beforeAll(async () => {
  await createNamespace(c, A);
  await createNamespace(c, B, { foo: 'bar' });
  operator = await startTestOperator([`--trusted-rbac-namespaces=${prefix}-.*`]);
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([A, B, ...extra].map((n) => deleteNamespace(c, n, false)));
});

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
const data = async (namespace: string, name: string) => decoded((await secret(namespace, name))?.data);

async function createSecret(namespace: string, name: string, values: Record<string, string>, annotations: Record<string, string> = {}, extraMeta: Partial<k8s.V1ObjectMeta> = {}, type?: string) {
  return c.core.createNamespacedSecret({ namespace, body: { metadata: { name, annotations, ...extraMeta }, type, data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)])) } });
}

async function removeKey(namespace: string, name: string, key: string) {
  await c.core.patchNamespacedSecret({ namespace, name, body: [{ op: 'remove', path: `/data/${key}` }] }, jsonPatch);
}

const until = (what: string, check: () => Promise<boolean>) => waitFor(what, check);

describe('mittwald suite: Secrets', () => {
  it('1. replicates from an existing secret (pull)', async () => {
    await createSecret(A, 'source', { foo: 'Hello World' }, { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A });
    await createSecret(A, 'target', {}, { [`${M}replicate-from`]: `${A}/source` });
    await until('target filled', async () => (await data(A, 'target')).foo === 'Hello World');
  });

  it('2. honours replication-allowed: "false" (the puller learns only that the source is not available; its owner why)', async () => {
    await createSecret(A, 'source-repl-allowed', { foo: 'Hello World' }, { [`${M}replication-allowed`]: 'false', [`${M}replication-allowed-namespaces`]: B });
    await createSecret(B, 'target-repl-allowed', {}, { [`${M}replicate-from`]: `${A}/source-repl-allowed` });
    const ev = await waitForEvent(c, B, 'target-repl-allowed', 'SourceNotAvailable');
    expect(ev.message).toContain('replication-allowed');
    const why = await waitForEvent(c, A, 'source-repl-allowed', 'ReplicationNotPermitted');
    expect(why.message).toContain('replication-allowed');
    expect((await data(B, 'target-repl-allowed')).foo).toBeUndefined();
  });

  it('3. keeps values the target had itself', async () => {
    await createSecret(A, 'source3', { foo: 'Hello Foo' }, { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A });
    await createSecret(A, 'target3', { bar: 'Hello Bar' }, { [`${M}replicate-from`]: `${A}/source3` });
    await until('foo copied', async () => (await data(A, 'target3')).foo === 'Hello Foo');
    expect((await data(A, 'target3')).bar).toBe('Hello Bar');
  });

  it('4. removes keys removed from the source', async () => {
    await createSecret(A, 'source2', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A });
    await createSecret(A, 'target2', {}, { [`${M}replicate-from`]: `${A}/source2` });
    await until('foo copied', async () => (await data(A, 'target2')).foo === 'Hello Foo');
    await removeKey(A, 'source2', 'foo');
    await until('foo removed', async () => !('foo' in (await data(A, 'target2'))));
    expect((await data(A, 'target2')).bar).toBe('Hello Bar');
  });

  it('5. does not remove values the target had itself when the source drops keys', async () => {
    await createSecret(A, 'source4', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A });
    await createSecret(A, 'target4', { bar: 'Hello Bar' }, { [`${M}replicate-from`]: `${A}/source4` });
    await until('foo copied', async () => (await data(A, 'target4')).foo === 'Hello Foo');
    await removeKey(A, 'source4', 'foo');
    await until('foo removed', async () => !('foo' in (await data(A, 'target4'))));
    expect((await data(A, 'target4')).bar).toBe('Hello Bar');
  });

  it('6. pushes to other namespaces, with the source labels (plus our provenance labels: documented divergence)', async () => {
    const labels = { foo: 'bar', hello: 'world' };
    await createSecret(A, 'source-pushed-to-other-ns', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replicate-to`]: B }, { labels });
    await until('replica', async () => (await data(B, 'source-pushed-to-other-ns')).foo === 'Hello Foo');
    const replica = (await secret(B, 'source-pushed-to-other-ns'))!;
    expect(replica.metadata!.labels).toMatchObject(labels);
    expect(replica.metadata!.labels!['kube-replicator.io/replica']).toBe('true');
    await removeKey(A, 'source-pushed-to-other-ns', 'foo');
    await until('foo removed from replica', async () => !('foo' in (await data(B, 'source-pushed-to-other-ns'))));
    expect((await data(B, 'source-pushed-to-other-ns')).bar).toBe('Hello Bar');
  });

  it('7. pushes without ownerReferences by default', async () => {
    const ns = await c.core.readNamespace({ name: A });
    const owner = { apiVersion: 'v1', kind: 'Namespace', name: A, uid: ns.metadata!.uid! };
    await createSecret(A, 'source-no-owner', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replicate-to`]: B }, { ownerReferences: [owner], labels: { a: 'b' } });
    await until('replica', async () => (await data(B, 'source-no-owner')).foo === 'Hello Foo');
    const replica = (await secret(B, 'source-no-owner'))!;
    expect(replica.metadata!.ownerReferences).toBeUndefined();
    expect(replica.metadata!.labels).toMatchObject({ a: 'b' });
    await removeKey(A, 'source-no-owner', 'foo');
    await until('foo removed from replica', async () => !('foo' in (await data(B, 'source-no-owner'))));
  });

  it('8. pushes with ownerReferences when keep-owner-references is "true"', async () => {
    const ns = await c.core.readNamespace({ name: A });
    const owner = { apiVersion: 'v1', kind: 'Namespace', name: A, uid: ns.metadata!.uid! };
    await createSecret(A, 'source-owner', { foo: 'Hello Foo' }, { [`${M}replicate-to`]: B, [`${M}keep-owner-references`]: 'true' }, { ownerReferences: [owner] });
    await until('replica', async () => (await data(B, 'source-owner')).foo === 'Hello Foo');
    expect((await secret(B, 'source-owner'))!.metadata!.ownerReferences).toEqual([owner]);
  });

  it('9. strips labels with strip-labels: "true" (only our provenance labels remain: documented divergence)', async () => {
    await createSecret(A, 'source-strip', { foo: 'Hello Foo' }, { [`${M}replicate-to`]: B, [`${M}strip-labels`]: 'true' }, { labels: { foo: 'bar' } });
    await until('replica', async () => (await data(B, 'source-strip')).foo === 'Hello Foo');
    expect(Object.keys((await secret(B, 'source-strip'))!.metadata!.labels!).sort()).toEqual(['kube-replicator.io/replica', 'kube-replicator.io/source-namespace']);
  });

  it('10. pushes by label selector (replicate-to-matching)', async () => {
    await createSecret(A, 'source-matching', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replicate-to-matching`]: 'foo' });
    await until('replica in B', async () => (await data(B, 'source-matching')).foo === 'Hello Foo');
    await removeKey(A, 'source-matching', 'foo');
    await until('foo removed from replica', async () => !('foo' in (await data(B, 'source-matching'))));
  });

  it('11. does NOT overwrite an existing non-replica (documented divergence: mittwald adopts it)', async () => {
    await createSecret(B, 'source-repl-updates-existing', { mine: 'keep me' });
    await createSecret(A, 'source-repl-updates-existing', { foo: 'Hello Foo' }, { [`${M}replicate-to`]: B });
    const ev = await waitForEvent(c, A, 'source-repl-updates-existing', 'TargetConflict');
    expect(ev.type).toBe('Warning');
    await waitForEvent(c, B, 'source-repl-updates-existing', 'TargetConflict');
    expect(await data(B, 'source-repl-updates-existing')).toEqual({ mine: 'keep me' });
  });

  it('12. replicates into a namespace created later', async () => {
    const later = `${prefix}-repl-new-ns`;
    extra.push(later);
    await createSecret(A, 'source6', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replicate-to`]: later });
    await createNamespace(c, later);
    await until('replica in the new namespace', async () => (await data(later, 'source6')).foo === 'Hello Foo');
    await removeKey(A, 'source6', 'foo');
    await until('foo removed from replica', async () => !('foo' in (await data(later, 'source6'))));
  });

  it('13. never replicates into its own namespace (replicate-to-matching)', async () => {
    const self = `${prefix}-self-match`;
    const other = `${prefix}-self-match-other`;
    extra.push(self, other);
    await createNamespace(c, self, { 'self-match': `yes-${prefix}` });
    await createNamespace(c, other, { 'self-match': `yes-${prefix}` });
    const created = await createSecret(self, 'source-self', { foo: 'Hello Foo' }, { [`${M}replicate-to-matching`]: `self-match=yes-${prefix}` });
    await until('replica in the other namespace', async () => (await data(other, 'source-self')).foo === 'Hello Foo');
    const source = (await secret(self, 'source-self'))!;
    expect(source.metadata!.resourceVersion).toBe(created.metadata!.resourceVersion);
    expect(source.metadata!.annotations![`${M}replicated-from-version`]).toBeUndefined();
  });

  it('14. never replicates into its own namespace (replicate-to)', async () => {
    const created = await createSecret(A, 'source-self-to', { foo: 'Hello Foo' }, { [`${M}replicate-to`]: `${A},${B}` });
    await until('replica in B', async () => (await data(B, 'source-self-to')).foo === 'Hello Foo');
    expect((await secret(A, 'source-self-to'))!.metadata!.resourceVersion).toBe(created.metadata!.resourceVersion);
  });

  it('15. replicates into a labelled namespace created later', async () => {
    const later = `${prefix}-labelled-later`;
    extra.push(later);
    await createSecret(A, 'source-veryspecific', { foo: 'Hello Foo', bar: 'Hello Bar' }, { [`${M}replicate-to-matching`]: `foo=veryspecificvalue-${prefix}` });
    await createNamespace(c, later, { foo: `veryspecificvalue-${prefix}` });
    await until('replica', async () => (await data(later, 'source-veryspecific')).foo === 'Hello Foo');
    await removeKey(A, 'source-veryspecific', 'foo');
    await until('foo removed from replica', async () => !('foo' in (await data(later, 'source-veryspecific'))));
  });

  it('16. deleting the source namespace removes only the replicated keys from a pull target (documented divergence: mittwald removes all data)', async () => {
    const ns4 = `${prefix}-test4`;
    extra.push(ns4);
    await createNamespace(c, ns4);
    await createSecret(ns4, 'source-ns-delete', { bar: 'Hello Bar' }, { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A });
    await createSecret(A, 'target-ns-delete', { own: 'mine' }, { [`${M}replicate-from`]: `${ns4}/source-ns-delete` });
    await until('target filled', async () => (await data(A, 'target-ns-delete')).bar === 'Hello Bar');
    await deleteNamespace(c, ns4);
    await until('replicated key removed', async () => !('bar' in (await data(A, 'target-ns-delete'))));
    expect(await data(A, 'target-ns-delete')).toEqual({ own: 'mine' });
  });

  it('17. deleting a push source deletes its replicas', async () => {
    await createSecret(A, 'source7', { foo: 'Hello Foo' }, { [`${M}replicate-to`]: B });
    await until('replica', async () => (await secret(B, 'source7')) !== undefined);
    await c.core.deleteNamespacedSecret({ namespace: A, name: 'source7' });
    await until('replica deleted', async () => (await secret(B, 'source7')) === undefined);
  });

  it('18. replicates the Secret type', async () => {
    await createSecret(A, 'source-type', { '.dockercfg': '{}' }, { [`${M}replicate-to`]: B }, {}, 'kubernetes.io/dockercfg');
    const replica = await waitFor('replica', () => secret(B, 'source-type'));
    expect(replica.type).toBe('kubernetes.io/dockercfg');
    expect(decoded(replica.data)['.dockercfg']).toBe('{}');
  });

  it('19. restores a manually changed pull target (sync by content is always on)', async () => {
    await createSecret(A, 'source-content', { foo: 'Hello World' }, { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A });
    await createSecret(A, 'target-content', {}, { [`${M}replicate-from`]: `${A}/source-content` });
    await until('target filled', async () => (await data(A, 'target-content')).foo === 'Hello World');
    // Change only the data and keep every annotation: a stronger test than upstream's (see §7.2 caveat).
    await c.core.patchNamespacedSecret({ namespace: A, name: 'target-content', body: { data: { foo: b64('manually changed secret') } } }, mergePatch);
    await until('foo restored', async () => (await data(A, 'target-content')).foo === 'Hello World');
  });
});

describe('mittwald suite: Roles', () => {
  const rules = [{ apiGroups: [''], resources: ['pods'], verbs: ['list', 'get', 'watch'] }];
  const role = (namespace: string, name: string) => maybe(c.rbac.readNamespacedRole({ namespace, name }));

  it('20. replicates from an existing Role (pull)', async () => {
    await c.rbac.createNamespacedRole({ namespace: A, body: { metadata: { name: 'source', annotations: { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: A } }, rules } });
    await c.rbac.createNamespacedRole({ namespace: A, body: { metadata: { name: 'target', annotations: { [`${M}replicate-from`]: `${A}/source` } } } });
    await until('rules copied', async () => JSON.stringify((await role(A, 'target'))?.rules) === JSON.stringify(rules));
  });

  it('21. pushes a Role to other namespaces and propagates rule removal', async () => {
    await c.rbac.createNamespacedRole({ namespace: A, body: { metadata: { name: 'source-pushed', annotations: { [`${M}replicate-to`]: B } }, rules } });
    await until('replica rules', async () => JSON.stringify((await role(B, 'source-pushed'))?.rules) === JSON.stringify(rules));
    await c.rbac.patchNamespacedRole({ namespace: A, name: 'source-pushed', body: [{ op: 'remove', path: '/rules/0' }] }, jsonPatch);
    await until('replica rules emptied', async () => ((await role(B, 'source-pushed'))?.rules ?? []).length === 0);
  });

  it('22. replicates a Role into a namespace created later', async () => {
    const later = `${prefix}-role-new-ns`;
    extra.push(later);
    await c.rbac.createNamespacedRole({ namespace: A, body: { metadata: { name: 'source-later', annotations: { [`${M}replicate-to`]: later } }, rules } });
    await createNamespace(c, later);
    await until('replica', async () => (await role(later, 'source-later')) !== undefined);
    await c.rbac.patchNamespacedRole({ namespace: A, name: 'source-later', body: [{ op: 'remove', path: '/rules/0' }] }, jsonPatch);
    await until('replica rules emptied', async () => ((await role(later, 'source-later'))?.rules ?? []).length === 0);
  });
});
