// /metrics after a scenario: the documented names, labels and values, and nothing unbounded or secret in labels.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { admin, b64, createNamespace, deleteNamespace, uniqueName, waitFor, waitForEvent } from './support/cluster.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const M = 'replicator.v1.mittwald.de/';
const c = admin();
const run = uniqueName('metrics');
const [src, t1, t2, t3] = [`${run}-src`, `${run}-t1`, `${run}-t2`, `${run}-t3`];
const secretValue = `s3cr3t-${run}`;
let operator: TestOperator;

beforeAll(async () => {
  for (const n of [src, t1, t2, t3]) await createNamespace(c, n);
  operator = await startTestOperator();
});
afterAll(async () => {
  await operator?.stop();
  await Promise.all([src, t1, t2, t3].map((n) => deleteNamespace(c, n, false)));
});

/** The sum of the series of `name` that carry `labels` (others may differ: every series exists from the start). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const lines = text.split('\n').filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && want.every((w) => l.includes(w)));
  return lines.length === 0 ? undefined : lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('/metrics', () => {
  it('reports reconciles, writes, refusals, queue, replicas, leadership and sync time', async () => {
    await c.core.createNamespacedSecret({ namespace: t3, body: { metadata: { name: 'app' }, data: { own: b64('theirs') } } });
    await c.core.createNamespacedSecret({ namespace: src, body: {
      metadata: { name: 'app', annotations: { [`${M}replicate-to`]: `${t1},${t2},${t3}` } }, data: { password: b64(secretValue) },
    } });
    await waitForEvent(c, t3, 'app', 'TargetConflict');
    const text = await waitFor('two replicas counted', async () => {
      const t = await (await fetch(`${operator.statusUrl}/metrics`)).text();
      return sample(t, 'kube_replicator_writes_total', { kind: 'Secret', verb: 'create' }) === 2 ? t : undefined;
    });
    expect(sample(text, 'kube_replicator_reconcile_total', { kind: 'Secret', outcome: 'Written' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'kube_replicator_reconcile_total', { kind: 'Secret', outcome: 'Conflict' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'kube_replicator_refusals_total', { kind: 'Secret', reason: 'TargetConflict' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'kube_replicator_reconcile_duration_seconds_count', { kind: 'Secret' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'kube_replicator_replicas', { kind: 'Secret' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'kube_replicator_workqueue_depth')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'kube_replicator_workqueue_wait_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'kube_replicator_leader')).toBe(1);
    expect(sample(text, 'kube_replicator_last_sync_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    // Error series exist from the start (at 0 here: nothing failed), so that rate() and dashboards see them.
    expect(sample(text, 'kube_replicator_write_errors_total', { kind: 'Secret', status: '0' })).toBe(0);
    expect(sample(text, 'kube_replicator_reconcile_total', { kind: 'ConfigMap', outcome: 'Error', tier: 'none' })).toBe(0);
    expect(sample(text, 'kube_replicator_watch_restarts_total', { informer: 'Namespace' })).toBe(0);
    expect(sample(text, 'kube_replicator_api_requests_total', { method: 'POST', code: '2xx' })).toBeGreaterThanOrEqual(2);
    // Labels are bounded sets: no namespace, no name, no value.
    for (const forbidden of [run, secretValue, b64(secretValue)]) expect(text).not.toContain(forbidden);
    const labelNames = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((m) => m[1]));
    for (const l of labelNames) expect(['kind', 'outcome', 'verb', 'tier', 'status', 'reason', 'informer', 'method', 'code', 'le', 'version', 'major', 'minor', 'patch', 'space', 'type', 'quantile']).toContain(l);
  });

  it('counts a target whose write the API server refused as invalid (422, not retried) as failing until a write succeeds', async () => {
    const failing = async () => sample(await (await fetch(`${operator.statusUrl}/metrics`)).text(), 'kube_replicator_failing_targets', { kind: 'Secret' });
    expect(await failing()).toBe(0);
    await c.core.createNamespacedSecret({ namespace: src, body: {
      metadata: { name: 'tls', annotations: { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: t1 } },
      data: { 'tls.crt': b64('crt'), 'tls.key': b64('key') },
    } });
    await c.core.createNamespacedSecret({ namespace: t1, body: {
      metadata: { name: 'tls', annotations: { [`${M}replicate-from`]: `${src}/tls` } }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('x'), 'tls.key': b64('y') },
    } });
    await waitFor('the pull', async () => (await c.core.readNamespacedSecret({ namespace: t1, name: 'tls' })).data?.['tls.key'] === b64('key'));
    // A kubernetes.io/tls Secret cannot lose tls.key: the update is refused with a 422.
    await c.core.replaceNamespacedSecret({ namespace: src, name: 'tls', body: { ...await c.core.readNamespacedSecret({ namespace: src, name: 'tls' }), data: { 'tls.crt': b64('crt') } } });
    await waitForEvent(c, t1, 'tls', 'ReplicationFailed');
    await waitFor('the target counted as failing', async () => (await failing()) === 1);
    await c.core.replaceNamespacedSecret({ namespace: src, name: 'tls', body: { ...await c.core.readNamespacedSecret({ namespace: src, name: 'tls' }), data: { 'tls.crt': b64('crt2'), 'tls.key': b64('key2') } } });
    await waitFor('the target written again, and no longer failing', async () => (await failing()) === 0
      && (await c.core.readNamespacedSecret({ namespace: t1, name: 'tls' })).data?.['tls.crt'] === b64('crt2'));
  });

  it('names every gauge unlike a counter, and every counter with _total', async () => {
    const text = await (await fetch(`${operator.statusUrl}/metrics`)).text();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(types.filter((t) => t.type === 'gauge').length).toBeGreaterThan(5);
    expect(types.filter((t) => t.type === 'gauge' && t.name.endsWith('_total'))).toEqual([]);
    expect(types.filter((t) => t.type === 'counter' && !t.name.endsWith('_total'))).toEqual([]);
  });
});
