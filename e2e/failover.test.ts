// High availability: two operator processes, one Lease. SIGKILL the leader during a fan-out: the standby takes
// over within the lease duration and converges; the standby never wrote while the leader lived (audit log, per
// process User-Agent); SIGTERM hands the lease back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { admin, b64, createNamespace, deleteNamespace, uniqueName, waitFor } from '../test/support/cluster.ts';
import { AuditWrites, OperatorProcess } from './support/process.ts';
import { releaseNamespace, suiteRelease } from '../test/support/chart-identity.ts';

const N = 60;
const c = admin();
const run = uniqueName('ha');
// The Lease lives where the chart's Role lets its ServiceAccount hold one: the release namespace.
const leaseNs = releaseNamespace(suiteRelease);
const source = `${run}-src`;
const targets = Array.from({ length: N }, (_, i) => `${run}-${String(i).padStart(2, '0')}`);
const args = ['--leader-elect', `--leader-election-namespace=${leaseNs}`, `--leader-election-id=${run}`,
  '--leader-election-lease-duration=4s', '--leader-election-renew-deadline=3s', '--leader-election-retry-period=500ms', '--concurrency=1'];
const a = new OperatorProcess('ha-a', args);
const b = new OperatorProcess('ha-b', args);
const audit = new AuditWrites();

async function leaderGauge(p: OperatorProcess): Promise<number> {
  const text = await (await fetch(`${p.statusUrl}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith('kube_replicator_leader '))?.split(' ')[1]);
}
const lease = () => c.kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: leaseNs, name: run });
const replicas = async () => (await c.core.listSecretForAllNamespaces({ labelSelector: `kube-replicator.io/source-namespace=${source}` })).items;

beforeAll(async () => {
  await createNamespace(c, source);
  for (let i = 0; i < N; i += 20) await Promise.all(targets.slice(i, i + 20).map((n) => createNamespace(c, n, { 'ha-run': run })));
}, 120_000);

afterAll(async () => {
  await a.kill('SIGKILL');
  await b.kill('SIGKILL');
  await Promise.all([source, ...targets].map((n) => deleteNamespace(c, n, false)));
}, 120_000);

describe('leader election', () => {
  it('fails over to the standby during a fan-out, with no write from the standby while the leader lives', async () => {
    await a.start();
    await waitFor('process A to lead', async () => (await leaderGauge(a)) === 1);
    await b.start(); // ready: caches synced, waiting for the lease
    expect((await lease()).spec!.holderIdentity).toMatch(new RegExp(`_${a.proc!.pid}$`));
    expect(await leaderGauge(b)).toBe(0);

    audit.mark();
    let killedAt = 0;
    let killed: Promise<unknown> | undefined;
    const informer = k8s.makeInformer(c.kc, '/api/v1/secrets', () => c.core.listSecretForAllNamespaces({ labelSelector: `kube-replicator.io/source-namespace=${source}` }), `kube-replicator.io/source-namespace=${source}`);
    informer.on('add', () => {
      if (killed) return;
      killedAt = Date.now();
      killed = a.kill('SIGKILL');
    });
    await informer.start();
    await c.core.createNamespacedSecret({ namespace: source, body: {
      metadata: { name: 'fanout', annotations: { 'replicator.v1.mittwald.de/replicate-to-matching': `ha-run=${run}` } },
      data: { token: b64('ha-value') },
    } });
    await waitFor('the leader to be killed mid fan-out', () => killed !== undefined);
    await killed;
    await informer.stop();
    expect((await replicas()).length).toBeLessThan(N);

    await waitFor('the standby to converge', async () => (await replicas()).length === N, 60_000);
    expect((await lease()).spec!.holderIdentity).toMatch(new RegExp(`_${b.proc!.pid}$`));
    expect(await leaderGauge(b)).toBe(1);

    const writes = audit.entries();
    const byA = writes.filter((w) => w.userAgent.endsWith(`_${a.proc!.pid}`));
    const byB = writes.filter((w) => w.userAgent.endsWith(`_${b.proc!.pid}`));
    expect(byA.length).toBeGreaterThan(0);
    expect(byB.filter((w) => w.resource === 'secrets').length).toBeGreaterThan(0);
    // Every write of B came after A was killed; none overlapped A's.
    expect(Math.min(...byB.map((w) => w.at))).toBeGreaterThanOrEqual(killedAt - 1000);
    expect(Math.min(...byB.map((w) => w.at))).toBeGreaterThanOrEqual(Math.max(...byA.map((w) => w.at)));

    // SIGTERM: in-flight work finishes, the lease is handed back, the process exits 0.
    expect(await b.kill('SIGTERM')).toBe(0);
    expect((await lease()).spec!.holderIdentity ?? '').toBe('');
  }, 240_000);
});
