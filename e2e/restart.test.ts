// SIGKILL in the middle of a fan-out to 300 namespaces, then restart: the operator converges with no orphan
// and no stray replica, and a further restart once converged makes zero writes (counted in the audit log).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { admin, b64, createNamespace, deleteNamespace, uniqueName, waitFor } from '../test/support/cluster.ts';
import { AuditWrites, OperatorProcess } from './support/process.ts';

const N = 300;
const c = admin();
const run = uniqueName('restart');
const source = `${run}-src`;
const targets = Array.from({ length: N }, (_, i) => `${run}-${String(i).padStart(3, '0')}`);
const audit = new AuditWrites();

async function inBatches<T>(items: T[], size: number, f: (x: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

const replicas = async () => (await c.core.listSecretForAllNamespaces({ labelSelector: `kube-replicator.io/source-namespace=${source}` })).items;

/** Sum of a counter family on the operator's /metrics. */
async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

beforeAll(async () => {
  await createNamespace(c, source);
  await inBatches(targets, 25, (n) => createNamespace(c, n, { 'restart-run': run }));
}, 180_000);

afterAll(async () => {
  await inBatches([source, ...targets], 50, (n) => deleteNamespace(c, n, false));
}, 180_000);

describe('restart safety', () => {
  it('converges after SIGKILL mid fan-out, and a converged restart writes nothing', async () => {
    const first = new OperatorProcess('restart-1', ['--concurrency=1']);
    await first.start();
    // Kill the operator the moment its first replica appears: the fan-out is then barely started.
    let killed: Promise<unknown> | undefined;
    const informer = k8s.makeInformer(c.kc, '/api/v1/secrets', () => c.core.listSecretForAllNamespaces({ labelSelector: `kube-replicator.io/source-namespace=${source}` }), `kube-replicator.io/source-namespace=${source}`);
    informer.on('add', () => { killed ??= first.kill('SIGKILL'); });
    await informer.start();
    await c.core.createNamespacedSecret({ namespace: source, body: {
      metadata: { name: 'fanout', annotations: { 'replicator.v1.mittwald.de/replicate-to-matching': `restart-run=${run}` } },
      data: { token: b64('fan-out-value') },
    } });
    await waitFor('the first replica and the kill', () => killed !== undefined);
    await killed;
    await informer.stop();
    const afterKill = (await replicas()).length;
    expect(afterKill).toBeGreaterThan(0);
    expect(afterKill).toBeLessThan(N);

    const second = new OperatorProcess('restart-2');
    await second.start();
    const sourceObj = await c.core.readNamespacedSecret({ namespace: source, name: 'fanout' });
    const converged = await waitFor('all replicas equal to the source', async () => {
      const list = await replicas();
      return list.length === N && list.every((r) => r.data?.token === sourceObj.data!.token) ? list : undefined;
    }, 120_000);
    // Exactly one replica per target namespace and none anywhere else; each names its live source.
    expect(converged.map((r) => r.metadata!.namespace).sort()).toEqual(targets);
    expect(new Set(converged.map((r) => r.metadata!.annotations!['kube-replicator.io/source-uid']))).toEqual(new Set([sourceObj.metadata!.uid]));
    await second.kill('SIGTERM');

    // A restart with everything in sync: every target is reconciled, and nothing is written.
    audit.mark();
    const third = new OperatorProcess('restart-3');
    await third.start();
    await waitFor('every replica reconciled', async () => (await metricSum(third.statusUrl, 'kube_replicator_reconcile_total')) >= N + 1);
    await waitFor('the work queue to drain', async () => (await metricSum(third.statusUrl, 'kube_replicator_workqueue_depth')) === 0);
    await third.kill('SIGTERM');
    // Its own namespaces only: the control plane is shared, and other files' namespaces may still be terminating.
    const ours = new Set([source, ...targets]);
    expect(audit.writes().filter((w) => w.namespace && ours.has(w.namespace))).toEqual([]);
    expect(audit.writes().filter((w) => !w.namespace)).toEqual([]);
  }, 300_000);
});
