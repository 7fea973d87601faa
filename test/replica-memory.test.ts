// Issue "Memory denial of service" (b): one tenant's Secrets of 4 KiB, pushed into every namespace its pattern
// reaches, must not take the operator past the chart's memory limit: replica memory follows the number of replicas,
// not their content. The operator runs as a separate process under the chart's identity; the tenant is a REAL
// non-admin user (client certificate, `admin` in its own namespace only). Peak RSS is the kernel's VmHWM.
// KR_REPLICA_FLOOD_SOURCES and KR_REPLICA_FLOOD_NAMESPACES scale it (the flood: 2 000 × 30).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { OperatorProcess } from '../e2e/support/process.ts';
import { peakRss } from './support/process-memory.ts';
import { KubeClient } from '../src/kube/client.ts';
import {
  accessOf, admin, adminKubeConfig, clientsFor, createNamespace, deleteNamespace, uniqueName, userKubeConfig, waitFor, type Clients, grantNamespaceAdmin, inParallel,
} from './support/cluster.ts';

const M = 'replicator.v1.mittwald.de/';
/** The chart's resources.limits.memory. */
const CHART_MEMORY_LIMIT = 512 * 1024 * 1024;
const SOURCES = Number(process.env.KR_REPLICA_FLOOD_SOURCES ?? 2000);
const NAMESPACES = Number(process.env.KR_REPLICA_FLOOD_NAMESPACES ?? 30);
const VALUE_BYTES = 4096;
/**
 * The V8 heap limit Node picks in a container limited to 512 MiB (it sizes the heap from the cgroup limit): here the
 * machine is larger, so the operator gets it explicitly, and an operator that needs more heap fails as it would there.
 */
const CHART_HEAP = ['--max-old-space-size=256'];

const c = admin();
const run = uniqueName('rm');
const tenantNs = `${run}-tenant`;
const targets = Array.from({ length: NAMESPACES }, (_, i) => `${run}-t-${i}`);
const tenantUser = `tenant-${run}`;
const runLabel = 'kube-replicator-test/replica-memory';
let tenant: Clients;
let operator: OperatorProcess;
let client: KubeClient;
const peaks: { what: string; MiB: number }[] = [];

/** The operator's own V8 heap figures (its /metrics), for the report. */
async function heapReport(): Promise<string> {
  const text = await (await fetch(`${operator.statusUrl}/metrics`)).text();
  const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
  const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  return `heap used ${mib(value('nodejs_heap_size_used_bytes'))} of ${mib(value('nodejs_heap_size_total_bytes'))}, external ${mib(value('nodejs_external_memory_bytes'))}`;
}

async function recordPeak(what: string): Promise<number> {
  const bytes = peakRss(operator.proc!.pid!);
  peaks.push({ what, MiB: Math.round(bytes / 1048576) });
  process.stdout.write(`replica-memory: ${what}: operator peak RSS (VmHWM) ${(bytes / 1048576).toFixed(0)} MiB for ${SOURCES * NAMESPACES} replicas; now ${await heapReport()}\n`);
  return bytes;
}

/** Our replicas in one namespace, counted from metadata only (the test must not hold 4 KiB × N either). */
async function replicasIn(namespace: string): Promise<number> {
  let count = 0;
  let cont: string | undefined;
  do {
    const q = new URLSearchParams({ labelSelector: 'kube-replicator.io/replica=true', limit: '5000', ...(cont ? { continue: cont } : {}) });
    const page = await client.request<{ items: unknown[]; metadata: { continue?: string } }>('GET', `/api/v1/namespaces/${namespace}/secrets?${q}`,
      { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' });
    count += page.items.length;
    cont = page.metadata.continue || undefined;
  } while (cont);
  return count;
}

const allReplicas = async () => (await Promise.all(targets.map(replicasIn))).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  await Promise.all([tenantNs, ...targets].map((n) => createNamespace(c, n, { [runLabel]: run })));
  await grantNamespaceAdmin(c, tenantNs, tenantUser);
  tenant = clientsFor(userKubeConfig(tenantUser));
  client = new KubeClient(await accessOf(adminKubeConfig()));
  operator = new OperatorProcess('replica-memory', [], undefined, CHART_HEAP);
  await operator.start();
}, 120_000);

afterAll(async () => {
  await operator?.kill();
  await Promise.all([tenantNs, ...targets].map((n) => deleteNamespace(c, n, false)));
  // 60 000 Secrets take the namespace controller a while: the suites after this one get a quiet control plane.
  await waitFor('the flood\'s namespaces to be gone', async () => (await c.core.listNamespace({ labelSelector: `${runLabel}=${run}` })).items.length === 0, 600_000);
  process.stdout.write(`replica-memory: peaks ${JSON.stringify(peaks)}\n`);
}, 660_000);

describe('replica memory does not follow replica content', () => {
  it(`${SOURCES} Secrets of 4 KiB into ${NAMESPACES} namespaces: every replica made, peak RSS under the chart limit`, async () => {
    await inParallel(SOURCES, 16, (i) => tenant.core.createNamespacedSecret({ namespace: tenantNs, body: {
      metadata: { name: `flood-${i}`, annotations: { [`${M}replicate-to`]: `${run}-t-.*` } },
      data: { blob: randomBytes(VALUE_BYTES).toString('base64') },
    } as k8s.V1Secret }));
    const expected = SOURCES * NAMESPACES;
    await waitFor(`${expected} replicas`, async () => (await allReplicas()) === expected, 900_000);
    expect(operator.proc!.exitCode).toBeNull();
    expect(await recordPeak('after the flood')).toBeLessThan(CHART_MEMORY_LIMIT);
  }, 1_200_000);

  it('survives a restart at the same size, writing nothing, under the limit', async () => {
    expect(await operator.kill()).toBe(0);
    operator = new OperatorProcess('replica-memory-restarted', [], undefined, CHART_HEAP);
    await operator.start(); // ready = caches synced
    const sum = async (metric: string) => (await (await fetch(`${operator.statusUrl}/metrics`)).text()).split('\n')
      .filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
    // Every replica visited after the start (the startup pass), and no write among them.
    const expected = SOURCES * NAMESPACES;
    await waitFor('the startup pass over every replica', async () => (await sum('kube_replicator_reconcile_total')) >= expected
      && (await sum('kube_replicator_workqueue_depth')) === 0, 600_000);
    expect(await sum('kube_replicator_writes_total')).toBe(0);
    expect(await recordPeak('after a restart')).toBeLessThan(CHART_MEMORY_LIMIT);
  }, 900_000);
});
