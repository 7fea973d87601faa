// The hardened informer against a real API server: 410 Gone → relist with a correct diff, a silent watch is
// restarted without losing events, and failures are retried with backoff instead of a tight loop.
import { afterAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { KubeClient } from '../src/kube/client.ts';
import { Informer, type InformerEvent } from '../src/kube/informer.ts';
import type { KubeObject } from '../src/model/objects.ts';
import { accessOf, admin, createNamespace, deleteNamespace, uniqueName, userKubeConfig, waitFor } from './support/cluster.ts';

const c = admin();
const namespaces: string[] = [];
const informers: Informer<KubeObject>[] = [];
afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n, false)));
});

async function ns(): Promise<string> {
  const n = uniqueName('informer');
  namespaces.push(n);
  return createNamespace(c, n);
}

function track(client: KubeClient, path: string, extra: Partial<ConstructorParameters<typeof Informer<KubeObject>>[1]> = {}) {
  const events: { type: InformerEvent; name: string }[] = [];
  const errors: unknown[] = [];
  const informer = new Informer<KubeObject>(client, {
    name: 'test', path, onEvent: (type, o) => events.push({ type, name: o.metadata.name }), onError: (e) => errors.push(e), ...extra,
  });
  informers.push(informer);
  return { informer, events, errors };
}

const template = (name: string) => ({ metadata: { name }, template: { spec: { containers: [{ name: 'c', image: 'none' }] } } });

describe('Informer', () => {
  it('relists after 410 Gone and reports what changed while it was away', async () => {
    // PodTemplates bypass the watch cache in the test control plane: a stale resourceVersion reaches etcd.
    const n = await ns();
    const client = new KubeClient(await accessOf(c.kc));
    await c.core.createNamespacedPodTemplate({ namespace: n, body: template('keep') });
    await c.core.createNamespacedPodTemplate({ namespace: n, body: template('gone') });
    const { informer, events } = track(client, `/api/v1/namespaces/${n}/podtemplates`);
    informer.start();
    await informer.synced;
    await informer.stop();
    await c.core.deleteNamespacedPodTemplate({ namespace: n, name: 'gone' });
    // Churn until etcd has compacted past the informer's resourceVersion (compaction every 10 s in tests).
    const stale = informer.get(`${n}/keep`)!.metadata.resourceVersion!;
    await waitFor('compaction past the informer', async () => {
      await c.core.patchNamespacedPodTemplate({ namespace: n, name: 'keep', body: { metadata: { labels: { t: String(Date.now()) } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      try {
        await client.request('GET', `/api/v1/namespaces/${n}/podtemplates`, { query: { resourceVersion: stale, resourceVersionMatch: 'Exact' } });
        return false;
      } catch (e) {
        return (e as { status?: number }).status === 410;
      }
    }, 90_000);
    const restartsBefore = informer.restarts;
    informer.start();
    await waitFor('the deletion missed while away', () => events.some((e) => e.type === 'delete' && e.name === 'gone'), 60_000);
    expect(informer.restarts - restartsBefore).toBeGreaterThanOrEqual(1);
    expect(informer.get(`${n}/gone`)).toBeUndefined();
    expect(informer.get(`${n}/keep`)).toBeDefined();
  });

  it('restarts a silent watch and keeps delivering events', async () => {
    const n = await ns();
    const { informer, events } = track(new KubeClient(await accessOf(c.kc)), `/api/v1/namespaces/${n}/configmaps`, { inactivityMs: 1500 });
    informer.start();
    await informer.synced;
    await waitFor('two watchdog restarts', () => informer.restarts >= 2, 30_000);
    await c.core.createNamespacedConfigMap({ namespace: n, body: { metadata: { name: 'after-restarts' } } });
    await waitFor('the add event after restarts', () => events.some((e) => e.type === 'add' && e.name === 'after-restarts'));
  });

  it('retries a forbidden list with backoff, not in a tight loop', async () => {
    const n = await ns();
    const nobody = new KubeClient(await accessOf(userKubeConfig(uniqueName('nobody'))));
    let requests = 0;
    nobody.onRequest(() => requests++);
    const { informer, errors } = track(nobody, `/api/v1/namespaces/${n}/secrets`);
    informer.start();
    await waitFor('three failed attempts', () => errors.length >= 3, 30_000);
    await informer.stop();
    expect((errors[0] as { status?: number }).status).toBe(403);
    expect(informer.hasSynced).toBe(false);
    // One request per attempt: a tight loop would have made hundreds by now.
    expect(requests).toBeLessThanOrEqual(errors.length + 1);
  });

  it('an optional resource that is missing is reported absent once, and present once it is installed', async () => {
    const group = `${uniqueName('absent')}.example.com`;
    const client = new KubeClient(await accessOf(c.kc));
    const presence: boolean[] = [];
    const { informer } = track(client, `/apis/${group}/v1/gizmos`, { optional: true, absentRecheckMs: 300, onPresence: (p) => presence.push(p) });
    informer.start();
    await informer.synced;
    await waitFor('absent reported', () => presence.length >= 1);
    const crds = c.kc.makeApiClient(k8s.ApiextensionsV1Api);
    await crds.createCustomResourceDefinition({ body: {
      metadata: { name: `gizmos.${group}` },
      spec: { group, scope: 'Namespaced', names: { plural: 'gizmos', kind: 'Gizmo' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
    } });
    try {
      await waitFor('present reported', () => presence.length >= 2, 60_000);
      expect(presence).toEqual([false, true]);
    } finally {
      await crds.deleteCustomResourceDefinition({ name: `gizmos.${group}` });
    }
  });
});

