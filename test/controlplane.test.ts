// Smoke test: proves the control plane under every other test is a real Kubernetes.
import { describe, expect, it, afterAll } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  admin, controlPlaneInfo, createNamespace, deleteNamespace, expectStatus, uniqueName, userKubeConfig, waitFor,
} from './support/cluster.ts';

const c = admin();
const namespaces: string[] = [];
async function ns(labels: Record<string, string> = {}): Promise<string> {
  const name = uniqueName('smoke');
  namespaces.push(name);
  return createNamespace(c, name, labels);
}
afterAll(async () => {
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n, false)));
});

/** Raw GET with the admin client certificate, returning status and the first chunk of the body. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const info = controlPlaneInfo();
  const pki = info.pkiDir;
  return new Promise((resolve, reject) => {
    const req = request(`${info.server}${path}`, {
      ca: readFileSync(join(pki, 'ca.crt')), cert: readFileSync(join(pki, 'client-admin.crt')), key: readFileSync(join(pki, 'client-admin.key')),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.includes('\n')) { res.destroy(); resolve({ status: res.statusCode ?? 0, body }); }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the local control plane', () => {
  it('is kube-apiserver v1.37.2', async () => {
    const v = await rawGet('/version');
    expect(v.status).toBe(200);
    expect(JSON.parse(v.body).gitVersion).toBe('v1.37.2');
  });

  it('delivers an informer add event for a new Secret', async () => {
    const name = await ns();
    const seen: string[] = [];
    const informer = k8s.makeInformer(c.kc, `/api/v1/namespaces/${name}/secrets`,
      () => c.core.listNamespacedSecret({ namespace: name }));
    informer.on('add', (s: k8s.V1Secret) => seen.push(s.metadata!.name!));
    await informer.start();
    try {
      await c.core.createNamespacedSecret({ namespace: name, body: { metadata: { name: 'hello' }, stringData: { k: 'v' } } });
      await waitFor('the informer add event', () => seen.includes('hello'));
      expect(seen).toContain('hello');
    } finally {
      await informer.stop();
    }
  });

  it('enforces RBAC for a non-admin identity', async () => {
    const [denied, allowed] = [await ns(), await ns()];
    const alice = userKubeConfig(uniqueName('alice'));
    const aliceName = alice.getCurrentUser()!.name;
    await c.rbac.createNamespacedRoleBinding({ namespace: allowed, body: {
      metadata: { name: 'alice-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', name: aliceName, apiGroup: 'rbac.authorization.k8s.io' }],
    } });
    const core = alice.makeApiClient(k8s.CoreV1Api);
    await expectStatus(core.listNamespacedSecret({ namespace: denied }), 403);
    const list = await waitFor('RBAC to allow alice', async () => core.listNamespacedSecret({ namespace: allowed }));
    expect(list.items).toEqual([]);
  });

  it('finalizes a deleted namespace and removes its objects', async () => {
    const name = await ns();
    await c.core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'cm' }, data: { a: 'b' } } });
    await deleteNamespace(c, name);
    const left = await c.core.listConfigMapForAllNamespaces({ fieldSelector: `metadata.namespace=${name}` });
    expect(left.items).toEqual([]);
  });

  it('garbage-collects an object whose owner was deleted', async () => {
    const name = await ns();
    const owner = await c.core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'owner' } } });
    await c.core.createNamespacedSecret({ namespace: name, body: { metadata: { name: 'owned', ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! },
    ] } } });
    await c.core.deleteNamespacedConfigMap({ namespace: name, name: 'owner' });
    await waitFor('the owned Secret to be collected', async () => {
      const l = await c.core.listNamespacedSecret({ namespace: name, fieldSelector: 'metadata.name=owned' });
      return l.items.length === 0;
    }, 60_000);
  });

  it('answers 410 Gone to a watch from a compacted resourceVersion', async () => {
    // PodTemplates bypass the watch cache in the test control plane, so the watch reaches etcd itself.
    const name = await ns();
    const body = { metadata: { name: 'v', labels: { n: '0' } }, template: { spec: { containers: [{ name: 'c', image: 'none' }] } } };
    const first = await c.core.createNamespacedPodTemplate({ namespace: name, body });
    const rv = first.metadata!.resourceVersion!;
    // Move the revision on, then wait until etcd compaction (every 10 s in tests) has passed `rv`.
    await waitFor('compaction past the first resourceVersion', async () => {
      await c.core.patchNamespacedPodTemplate({ namespace: name, name: 'v', body: { metadata: { labels: { n: String(Date.now()) } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      const r = await rawGet(`/api/v1/namespaces/${name}/podtemplates?resourceVersion=${rv}&resourceVersionMatch=Exact`);
      return r.status === 410;
    }, 90_000);
    const watch = await rawGet(`/api/v1/namespaces/${name}/podtemplates?watch=true&resourceVersion=${rv}`);
    const status = watch.status === 200 ? JSON.parse(watch.body.split('\n')[0]!).object?.code : watch.status;
    expect(status).toBe(410);
  });

  it('has aggregated admin, edit and view ClusterRoles with rules', async () => {
    for (const name of ['admin', 'edit', 'view']) {
      const role = await c.rbac.readClusterRole({ name });
      expect((role.rules ?? []).length).toBeGreaterThan(0);
    }
  });
});
