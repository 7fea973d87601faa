// ReplicationPolicy against the real control plane, with the operator in-process: how replicas follow
// namespaces, sources and the policy itself (edits, deletion, suspension, filters), and who wins a target
// that two rules want. Precedence (src/engine/plan.ts compareCandidates): higher `priority`, then the OLDER
// source (creationTimestamp, one-second resolution), then the rule id (`annotation:…` before `policy:…`).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  admin, b64, createNamespace, decoded, deleteNamespace, maybe, statusOf, uniqueName, waitFor, waitForEvent,
} from './support/cluster.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const c = admin();
const run = uniqueName('pol');
const namespaces: string[] = [];
const policies: string[] = [];
let operator: TestOperator;

const group = 'kube-replicator.io';
const version = 'v1alpha1';
const plural = 'replicationpolicies';
const M = 'replicator.v1.mittwald.de/';
const KR = 'kube-replicator.io/';
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

interface Condition { type: string; status: string; reason: string; message: string; observedGeneration?: number }
interface Policy {
  metadata: { name: string; uid: string; generation: number };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; sources?: number; targetNamespaces?: number; inSync?: number; failed?: number; conflicts?: number; conditions?: Condition[] };
}

beforeAll(async () => {
  operator = await startTestOperator();
});

afterAll(async () => {
  await operator?.stop();
  for (const name of policies) await maybe(c.custom.deleteClusterCustomObject({ group, version, plural, name }));
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n, false)));
});

let nsCount = 0;
/** A fresh namespace, deleted after the file. */
async function ns(labels: Record<string, string> = {}): Promise<string> {
  const name = `${run}-${++nsCount}`;
  namespaces.push(name);
  return createNamespace(c, name, labels);
}

async function createPolicy(name: string, spec: Record<string, unknown>): Promise<Policy> {
  policies.push(name);
  return (await c.custom.createClusterCustomObject({ group, version, plural, body: { apiVersion: `${group}/${version}`, kind: 'ReplicationPolicy', metadata: { name }, spec } })) as Policy;
}

async function patchPolicy(name: string, spec: Record<string, unknown>): Promise<Policy> {
  return (await c.custom.patchClusterCustomObject({ group, version, plural, name, body: { spec } }, mergePatch)) as Policy;
}

const getPolicy = async (name: string) => (await c.custom.getClusterCustomObject({ group, version, plural, name })) as Policy;
const deletePolicy = (name: string) => c.custom.deleteClusterCustomObject({ group, version, plural, name });
const condition = (p: Policy, type: string) => p.status?.conditions?.find((x) => x.type === type);

/** Waits until the policy's status describes its current generation and satisfies `check`. */
async function waitForStatus(name: string, what: string, check: (p: Policy) => boolean, timeoutMs?: number): Promise<Policy> {
  return waitFor(`policy ${name}: ${what}`, async () => {
    const p = await getPolicy(name);
    return p.status?.observedGeneration === p.metadata.generation && check(p) ? p : undefined;
  }, timeoutMs);
}

const isReady = (p: Policy) => condition(p, 'Ready')?.status === 'True';

const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
const data = async (namespace: string, name: string) => decoded((await secret(namespace, name))?.data);

async function createSecret(namespace: string, name: string, values: Record<string, string>, meta: Partial<k8s.V1ObjectMeta> = {}): Promise<k8s.V1Secret> {
  return c.core.createNamespacedSecret({ namespace, body: { metadata: { name, ...meta }, data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)])) } });
}

async function patchSecret(namespace: string, name: string, body: Record<string, unknown>): Promise<k8s.V1Secret> {
  return c.core.patchNamespacedSecret({ namespace, name, body }, mergePatch);
}

const setData = (namespace: string, name: string, values: Record<string, string>) =>
  patchSecret(namespace, name, { data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)])) });

async function deleteSecret(namespace: string, name: string): Promise<void> {
  try {
    await c.core.deleteNamespacedSecret({ namespace, name });
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
}

async function labelNamespace(name: string, labels: Record<string, string | null>): Promise<void> {
  await c.core.patchNamespace({ name, body: { metadata: { labels } } }, mergePatch);
}

const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
const sameData = (a: Record<string, string>, b: Record<string, string>) => sorted(a) === sorted(b);

const replicaWith = (namespace: string, name: string, values: Record<string, string>) =>
  waitFor(`${namespace}/${name} to hold ${JSON.stringify(Object.keys(values))}`, async () => {
    const s = await secret(namespace, name);
    return s && sameData(decoded(s.data), values) ? s : undefined;
  });

const gone = (namespace: string, name: string) => waitFor(`${namespace}/${name} to be removed`, async () => (await secret(namespace, name)) === undefined);

/** Creation timestamps have one-second resolution: waits until an object created now is strictly younger. */
async function afterCreationSecondOf(obj: { metadata?: { creationTimestamp?: Date } }): Promise<void> {
  const created = new Date(obj.metadata!.creationTimestamp!).getTime();
  await waitFor('the next creationTimestamp second', () => Date.now() >= created + 1100, 5000);
}

/** Sum of a counter family on the operator's /metrics, optionally only the series whose labels contain `filter`. */
async function metricSum(name: string, filter = ''): Promise<number> {
  const text = await (await fetch(`${operator.statusUrl}/metrics`)).text();
  return text.split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(filter))
    .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

describe('ReplicationPolicy: replicas follow namespaces, sources and the policy', () => {
  it('namespace created / labelled / unlabelled: the replica appears / appears / is removed; replicas carry provenance', async () => {
    const src = await ns();
    const team = `${run}-team`;
    await createSecret(src, 'creds', { token: 'one' });
    const name = `${run}-namespaces`;
    const policy = await createPolicy(name, { kinds: ['Secret'], source: { namespace: src, names: ['creds'] }, targets: { namespaceSelector: { matchLabels: { 'kr-test/team': team } } } });

    const unlabelled = await ns();
    const created = await ns({ 'kr-test/team': team });
    const replica = await replicaWith(created, 'creds', { token: 'one' });
    expect(replica.metadata!.annotations![`${KR}rule`]).toBe(`policy/${name}`);
    expect(replica.metadata!.annotations![`${KR}policy-uid`]).toBe(policy.metadata.uid);
    expect(replica.metadata!.annotations![`${KR}source`]).toBe(`${src}/creds`);
    expect(replica.metadata!.labels![`${KR}replica`]).toBe('true');
    await waitForStatus(name, 'Ready with one target', (p) => isReady(p) && p.status!.targetNamespaces === 1 && p.status!.inSync === 1);
    expect(await secret(unlabelled, 'creds')).toBeUndefined();

    await labelNamespace(unlabelled, { 'kr-test/team': team });
    await replicaWith(unlabelled, 'creds', { token: 'one' });
    await waitForStatus(name, 'two targets in sync', (p) => isReady(p) && p.status!.targetNamespaces === 2 && p.status!.inSync === 2);

    await labelNamespace(unlabelled, { 'kr-test/team': null });
    await gone(unlabelled, 'creds');
    await waitForStatus(name, 'back to one target', (p) => isReady(p) && p.status!.targetNamespaces === 1 && p.status!.inSync === 1);
    expect(await data(created, 'creds')).toEqual({ token: 'one' });
  });

  it('source added / edited / removed (source.selector): replicas appear / follow / disappear', async () => {
    const src = await ns();
    const target = await ns();
    const name = `${run}-selector`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: src, selector: { matchLabels: { 'kr-test/share': 'yes' } } }, targets: { namespaces: [target] } });
    await waitForStatus(name, 'no sources yet', (p) => isReady(p) && p.status!.sources === 0);

    await createSecret(src, 'unselected', { v: 'x' });
    await createSecret(src, 'sel-a', { v: 'a1' }, { labels: { 'kr-test/share': 'yes' } });
    await createSecret(src, 'sel-b', { v: 'b1' }, { labels: { 'kr-test/share': 'yes' } });
    await replicaWith(target, 'sel-a', { v: 'a1' });
    await replicaWith(target, 'sel-b', { v: 'b1' });
    await waitForStatus(name, 'two sources', (p) => isReady(p) && p.status!.sources === 2 && p.status!.inSync === 2);
    expect(await secret(target, 'unselected')).toBeUndefined();

    await setData(src, 'sel-a', { v: 'a2' });
    await replicaWith(target, 'sel-a', { v: 'a2' });

    await deleteSecret(src, 'sel-a');
    await gone(target, 'sel-a');
    // Leaving the selection counts as removed, too.
    await patchSecret(src, 'sel-b', { metadata: { labels: { 'kr-test/share': null } } });
    await gone(target, 'sel-b');
    await waitForStatus(name, 'no sources again', (p) => isReady(p) && p.status!.sources === 0 && p.status!.inSync === 0);
  });

  it('policy narrowed and widened (targets edited): replicas are removed / added', async () => {
    const src = await ns();
    const [t1, t2, t3] = [await ns(), await ns(), await ns()];
    await createSecret(src, 'narrow', { v: '1' });
    const name = `${run}-narrow`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: src, names: ['narrow'] }, targets: { namespaces: [t1, t2] } });
    await replicaWith(t1, 'narrow', { v: '1' });
    await replicaWith(t2, 'narrow', { v: '1' });
    await waitForStatus(name, 'two targets', (p) => isReady(p) && p.status!.inSync === 2);
    expect(await secret(t3, 'narrow')).toBeUndefined();

    await patchPolicy(name, { targets: { namespaces: [t1] } });
    await gone(t2, 'narrow');
    await waitForStatus(name, 'one target', (p) => isReady(p) && p.status!.targetNamespaces === 1 && p.status!.inSync === 1);
    expect(await data(t1, 'narrow')).toEqual({ v: '1' });

    await patchPolicy(name, { targets: { namespaces: [t1, `${run}-(${t2.slice(run.length + 1)}|${t3.slice(run.length + 1)})`] } });
    await replicaWith(t2, 'narrow', { v: '1' });
    await replicaWith(t3, 'narrow', { v: '1' });
    await waitForStatus(name, 'three targets', (p) => isReady(p) && p.status!.targetNamespaces === 3 && p.status!.inSync === 3);
  });

  it('policy deleted under deletionPolicy Delete: its replicas are removed', async () => {
    const src = await ns();
    const [t1, t2] = [await ns(), await ns()];
    await createSecret(src, 'del', { v: '1' });
    const name = `${run}-delete`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: src, names: ['del'] }, targets: { namespaces: [t1, t2] }, deletionPolicy: 'Delete' });
    await replicaWith(t1, 'del', { v: '1' });
    await replicaWith(t2, 'del', { v: '1' });
    await deletePolicy(name);
    await gone(t1, 'del');
    await gone(t2, 'del');
    expect(await data(src, 'del')).toEqual({ v: '1' });
  });

  it('policy deleted under deletionPolicy Orphan: replicas stay, without the replica label', async () => {
    const src = await ns();
    const [t1, t2] = [await ns(), await ns()];
    await createSecret(src, 'orphan', { v: '1' }, { labels: { app: 'demo' } });
    const name = `${run}-orphan`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: src, names: ['orphan'] }, targets: { namespaces: [t1, t2] }, deletionPolicy: 'Orphan' });
    const before = await replicaWith(t1, 'orphan', { v: '1' });
    expect(before.metadata!.annotations![`${KR}deletion-policy`]).toBe('Orphan');
    await replicaWith(t2, 'orphan', { v: '1' });
    await deletePolicy(name);
    for (const t of [t1, t2]) {
      const orphan = await waitFor(`${t}/orphan to lose the replica label`, async () => {
        const s = await secret(t, 'orphan');
        return s && !(`${KR}replica` in (s.metadata!.labels ?? {})) ? s : undefined;
      });
      expect(decoded(orphan.data)).toEqual({ v: '1' });
      expect(orphan.metadata!.labels).toEqual({ app: 'demo' });
      expect(Object.keys(orphan.metadata!.annotations ?? {}).filter((k) => k.startsWith(KR) || k.startsWith(M))).toEqual([]);
    }
    // No longer ours: a later source edit does not reach it.
    const reconcilesBefore = await metricSum('kube_replicator_reconcile_total');
    await setData(src, 'orphan', { v: '2' });
    await waitFor('the source edit to be reconciled', async () => (await metricSum('kube_replicator_reconcile_total')) > reconcilesBefore);
    expect(await data(t1, 'orphan')).toEqual({ v: '1' });
  });

  it('suspend: true freezes writes (edits and deleted replicas), and resuming converges', async () => {
    const src = await ns();
    const [t1, t2, witness] = [await ns(), await ns(), await ns()];
    await createSecret(src, 'frozen', { v: '1' });
    const name = `${run}-suspend`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: src, names: ['frozen'] }, targets: { namespaces: [t1, t2] } });
    // A second policy on the same source, never suspended: its replica shows when an edit has been processed.
    await createPolicy(`${run}-suspend-witness`, { kinds: ['Secret'], source: { namespace: src, names: ['frozen'] }, targets: { namespaces: [witness] } });
    await replicaWith(t1, 'frozen', { v: '1' });
    await replicaWith(t2, 'frozen', { v: '1' });
    await replicaWith(witness, 'frozen', { v: '1' });

    await patchPolicy(name, { suspend: true });
    const suspended = await waitForStatus(name, 'Ready=False reason Suspended', (p) => condition(p, 'Ready')?.reason === 'Suspended');
    expect(condition(suspended, 'Ready')!.status).toBe('False');

    const frozenBefore = await metricSum('kube_replicator_reconcile_total', 'outcome="Suspended"');
    await setData(src, 'frozen', { v: '2' });
    await replicaWith(witness, 'frozen', { v: '2' });
    await waitFor('both suspended targets reconciled after the edit', async () => (await metricSum('kube_replicator_reconcile_total', 'outcome="Suspended"')) >= frozenBefore + 2);
    expect(await data(t1, 'frozen')).toEqual({ v: '1' });
    expect(await data(t2, 'frozen')).toEqual({ v: '1' });

    const deletedBefore = await metricSum('kube_replicator_reconcile_total', 'outcome="Suspended"');
    await deleteSecret(t1, 'frozen');
    await waitFor('the deleted replica reconciled while suspended', async () => (await metricSum('kube_replicator_reconcile_total', 'outcome="Suspended"')) > deletedBefore);
    expect(await secret(t1, 'frozen')).toBeUndefined();

    await patchPolicy(name, { suspend: false });
    await replicaWith(t1, 'frozen', { v: '2' });
    await replicaWith(t2, 'frozen', { v: '2' });
    await waitForStatus(name, 'Ready again', (p) => isReady(p) && p.status!.inSync === 2);
  });
});

describe('ReplicationPolicy: what is carried', () => {
  it('keys carries only the listed data keys', async () => {
    const src = await ns();
    const target = await ns();
    await createSecret(src, 'keyed', { 'ca.crt': 'CA', 'tls.key': 'private', extra: 'x' });
    await createPolicy(`${run}-keys`, { kinds: ['Secret'], source: { namespace: src, names: ['keyed'] }, targets: { namespaces: [target] }, keys: ['ca.crt', 'extra'] });
    const replica = await replicaWith(target, 'keyed', { 'ca.crt': 'CA', extra: 'x' });
    expect(replica.data!['tls.key']).toBeUndefined();
    expect(replica.metadata!.annotations![`${M}replicated-keys`]).toBe('ca.crt,extra');
    await setData(src, 'keyed', { 'tls.key': 'rotated', extra: 'y' });
    await replicaWith(target, 'keyed', { 'ca.crt': 'CA', extra: 'y' });
  });

  it('labels and annotations carry only what their filters match (exact keys or whole-key RE2)', async () => {
    const src = await ns();
    const [filtered, unfiltered] = [await ns(), await ns()];
    const meta = {
      labels: { 'keep-me': '1', drop: '2', 'team.example.com/owner': 'ops', 'team.example.com.evil/x': 'no' },
      annotations: { 'note.example.com/why': 'because', 'other.example.com/x': 'no', 'plain': 'no' },
    };
    await createSecret(src, 'carried', { v: '1' }, meta);
    await createSecret(src, 'carried-all', { v: '1' }, meta);
    await createPolicy(`${run}-carry`, {
      kinds: ['Secret'], source: { namespace: src, names: ['carried'] }, targets: { namespaces: [filtered] },
      labels: ['keep-me', 'team\\.example\\.com/.*'], annotations: ['note\\.example\\.com/.*'],
    });
    await createPolicy(`${run}-carry-default`, { kinds: ['Secret'], source: { namespace: src, names: ['carried-all'] }, targets: { namespaces: [unfiltered] } });
    const r = await replicaWith(filtered, 'carried', { v: '1' });
    expect(r.metadata!.labels).toEqual({ 'keep-me': '1', 'team.example.com/owner': 'ops', [`${KR}replica`]: 'true', [`${KR}source-namespace`]: src });
    const annotations = r.metadata!.annotations!;
    expect(annotations['note.example.com/why']).toBe('because');
    expect(Object.keys(annotations).filter((k) => !k.startsWith(KR) && !k.startsWith(M))).toEqual(['note.example.com/why']);
    // Defaults: every label, no annotation.
    const d = await replicaWith(unfiltered, 'carried-all', { v: '1' });
    expect(d.metadata!.labels).toMatchObject(meta.labels);
    expect(Object.keys(d.metadata!.annotations!).filter((k) => !k.startsWith(KR) && !k.startsWith(M))).toEqual([]);
  });
});

describe('ReplicationPolicy: conflicts and precedence', () => {
  it('two policies, same source name from two namespaces, same target: the older source wins; the loser reports the conflict', async () => {
    const [srcOld, srcNew, target] = [await ns(), await ns(), await ns()];
    const older = await createSecret(srcOld, 'shared', { from: 'old' });
    await afterCreationSecondOf(older);
    await createSecret(srcNew, 'shared', { from: 'new' });
    // Named so that the rule-id tie-break would pick the other one: age decides before the id.
    const winner = `${run}-z-older-source`;
    const loser = `${run}-a-newer-source`;
    await createPolicy(loser, { kinds: ['Secret'], source: { namespace: srcNew, names: ['shared'] }, targets: { namespaces: [target] } });
    await createPolicy(winner, { kinds: ['Secret'], source: { namespace: srcOld, names: ['shared'] }, targets: { namespaces: [target] } });
    const replica = await waitFor('the older source to own the replica', async () => {
      const s = await secret(target, 'shared');
      return s?.metadata?.annotations?.[`${KR}rule`] === `policy/${winner}` ? s : undefined;
    });
    expect(decoded(replica.data)).toEqual({ from: 'old' });
    const lost = await waitForStatus(loser, 'conflicts ≥ 1 and Degraded', (p) => (p.status!.conflicts ?? 0) >= 1 && condition(p, 'Degraded')?.status === 'True');
    expect(condition(lost, 'Ready')!.status).toBe('False');
    expect(condition(lost, 'Degraded')!.reason).toBe('TargetConflict');
    const won = await waitForStatus(winner, 'Ready', isReady);
    expect(won.status!.conflicts).toBe(0);
    const ev = await waitForEvent(c, srcNew, 'shared', 'RuleConflict');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain(`policy/${winner}`);
  });

  it('policy vs an untrusted annotation, annotation source older: the policy still wins (trusted before untrusted); the annotation source gets RuleConflict', async () => {
    const [srcAnn, srcPol, target] = [await ns(), await ns(), await ns()];
    const ann = await createSecret(srcAnn, 'contested', { from: 'annotation' }, { annotations: { [`${M}replicate-to`]: target } });
    await replicaWith(target, 'contested', { from: 'annotation' });
    await afterCreationSecondOf(ann);
    await createSecret(srcPol, 'contested', { from: 'policy' });
    const name = `${run}-beats-older-annotation`;
    const policy = await createPolicy(name, { kinds: ['Secret'], source: { namespace: srcPol, names: ['contested'] }, targets: { namespaces: [target] } });
    const r = await replicaWith(target, 'contested', { from: 'policy' });
    expect(r.metadata!.annotations![`${KR}rule`]).toBe(`policy/${name}`);
    expect(r.metadata!.annotations![`${KR}policy-uid`]).toBe(policy.metadata.uid);
    expect(r.metadata!.annotations![`${KR}tier`]).toBe('trusted');
    const ev = await waitForEvent(c, srcAnn, 'contested', 'RuleConflict');
    expect(ev.message).toContain('a trusted rule always wins over an untrusted one');
    const won = await waitForStatus(name, 'Ready', isReady);
    expect(won.status!.conflicts).toBe(0);
  });

  it('policy vs annotation, equal priority, policy source older: the policy wins (age decides before the rule id)', async () => {
    const [srcAnn, srcPol, target] = [await ns(), await ns(), await ns()];
    const pol = await createSecret(srcPol, 'contested2', { from: 'policy' });
    const name = `${run}-beats-annotation`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: srcPol, names: ['contested2'] }, targets: { namespaces: [target] } });
    await replicaWith(target, 'contested2', { from: 'policy' });
    await afterCreationSecondOf(pol);
    await createSecret(srcAnn, 'contested2', { from: 'annotation' }, { annotations: { [`${M}replicate-to`]: target } });
    await waitForEvent(c, srcAnn, 'contested2', 'RuleConflict');
    const r = await replicaWith(target, 'contested2', { from: 'policy' });
    expect(r.metadata!.annotations![`${KR}rule`]).toBe(`policy/${name}`);
    const won = await waitForStatus(name, 'Ready', isReady);
    expect(won.status!.conflicts).toBe(0);
  });

  it('a policy with a higher priority wins over an older annotation source', async () => {
    const [srcAnn, srcPol, target] = [await ns(), await ns(), await ns()];
    const ann = await createSecret(srcAnn, 'prio', { from: 'annotation' }, { annotations: { [`${M}replicate-to`]: target } });
    await replicaWith(target, 'prio', { from: 'annotation' });
    await afterCreationSecondOf(ann);
    await createSecret(srcPol, 'prio', { from: 'policy' });
    const name = `${run}-priority`;
    const policy = await createPolicy(name, { kinds: ['Secret'], source: { namespace: srcPol, names: ['prio'] }, targets: { namespaces: [target] }, priority: 10 });
    const r = await replicaWith(target, 'prio', { from: 'policy' });
    expect(r.metadata!.annotations![`${KR}rule`]).toBe(`policy/${name}`);
    expect(r.metadata!.annotations![`${KR}policy-uid`]).toBe(policy.metadata.uid);
    expect(r.metadata!.annotations![`${KR}source`]).toBe(`${srcPol}/prio`);
    await waitForEvent(c, srcAnn, 'prio', 'RuleConflict');
    await waitForStatus(name, 'Ready', isReady);
  });

  it('a winner whose Secret type differs takes over the replica: the API server refuses the type change in place, so the replica is recreated', async () => {
    const [srcAnn, srcPol, target] = [await ns(), await ns(), await ns()];
    await createSecret(srcAnn, 'typed', { from: 'annotation' }, { annotations: { [`${M}replicate-to`]: target } });
    const first = await replicaWith(target, 'typed', { from: 'annotation' });
    await c.core.createNamespacedSecret({ namespace: srcPol, body: { metadata: { name: 'typed' }, type: 'example.com/token', data: { from: b64('policy') } } });
    const name = `${run}-typed`;
    await createPolicy(name, { kinds: ['Secret'], source: { namespace: srcPol, names: ['typed'] }, targets: { namespaces: [target] }, priority: 10 });
    const r = await waitFor('the replica recreated with the winner\'s type', async () => {
      const s = await secret(target, 'typed');
      return s?.type === 'example.com/token' ? s : undefined;
    });
    expect(decoded(r.data)).toEqual({ from: 'policy' });
    expect(r.metadata!.uid).not.toBe(first.metadata!.uid);
    expect(r.metadata!.annotations![`${KR}rule`]).toBe(`policy/${name}`);
    await waitForStatus(name, 'Ready', isReady);
  });

  it('the winner stays the same after an operator restart, and the restart writes nothing', async () => {
    const [srcA, srcB, srcAnn, target] = [await ns(), await ns(), await ns(), await ns()];
    const oldest = await createSecret(srcA, 'sticky', { from: 'a' });
    await afterCreationSecondOf(oldest);
    const newer = await createSecret(srcB, 'sticky', { from: 'b' });
    await createSecret(srcAnn, 'sticky', { from: 'annotation' }, { annotations: { [`${M}replicate-to`]: target } });
    const winner = `${run}-sticky-z`;
    const loser = `${run}-sticky-a`;
    const w = await createPolicy(winner, { kinds: ['Secret'], source: { namespace: srcA, names: ['sticky'] }, targets: { namespaces: [target] } });
    await createPolicy(loser, { kinds: ['Secret'], source: { namespace: srcB, names: ['sticky'] }, targets: { namespaces: [target] } });
    expect(new Date(newer.metadata!.creationTimestamp!).getTime()).toBeGreaterThan(new Date(oldest.metadata!.creationTimestamp!).getTime());
    const before = await waitFor('the oldest source to own the replica', async () => {
      const s = await secret(target, 'sticky');
      return s?.metadata?.annotations?.[`${KR}rule`] === `policy/${winner}` ? s : undefined;
    });
    expect(decoded(before.data)).toEqual({ from: 'a' });
    await waitForStatus(winner, 'Ready', isReady);
    await waitForStatus(loser, 'the conflict', (p) => (p.status!.conflicts ?? 0) >= 1);

    await operator.stop();
    operator = await startTestOperator();
    const keys: string[] = [];
    operator.op.controller.forEachKey((k) => keys.push(k));
    expect(keys).toContain(`Secret/${target}/sticky`);
    // The new operator has reconciled every key it knows (the replica among them) and its queue is empty.
    await waitFor('the new operator to reconcile every key', async () =>
      (await metricSum('kube_replicator_reconcile_total')) >= new Set(keys).size && operator.op.controller.queueDepth + operator.op.controller.inFlight === 0);
    await waitForStatus(winner, 'Ready after the restart', isReady);
    const after = (await secret(target, 'sticky'))!;
    expect(after.metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
    expect(after.metadata!.annotations![`${KR}rule`]).toBe(`policy/${winner}`);
    expect(after.metadata!.annotations![`${KR}policy-uid`]).toBe(w.metadata.uid);
    expect(decoded(after.data)).toEqual({ from: 'a' });
    // Everything earlier in this file had converged too: the new operator wrote no object at all.
    expect(await metricSum('kube_replicator_writes_total')).toBe(0);
  });
});
