// The README tutorial as a user runs it: the operator as its own process, YAML applied with kubectl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { admin, deleteNamespace, maybe, uniqueName, waitFor } from '../test/support/cluster.ts';
import { kubectl, OperatorProcess } from './support/process.ts';

const samples = join(import.meta.dirname, '..', 'config', 'samples', 'annotations');
const c = admin();
const operator = new OperatorProcess('tutorial');
const later = uniqueName('tutorial-later');

beforeAll(async () => {
  await operator.start();
});
afterAll(async () => {
  await operator.kill('SIGTERM');
  kubectl(['delete', '-f', join(samples, 'docker-token-pull.yaml'), '--ignore-not-found']);
  await deleteNamespace(c, later, false);
});

const allNamespaces = async () => (await c.core.listNamespace()).items.filter((n) => !n.metadata!.deletionTimestamp).map((n) => n.metadata!.name!);
const replicaNamespaces = () => kubectl(['get', 'secrets', '-A', '--field-selector=metadata.name=docker-token', '-l', 'kube-replicator.io/replica=true', '-o', 'jsonpath={.items[*].metadata.namespace}']).split(' ').filter(Boolean).sort();

const protectedNamespaces = ['kube-system', 'kube-public', 'kube-node-lease'];

describe('tutorial: registry credentials for every namespace', () => {
  it('push: docker-token appears in every namespace but the protected ones, including one created later; the source says why', async () => {
    kubectl(['apply', '-f', join(samples, 'docker-token-push.yaml')]);
    await waitFor('a replica in every other unprotected namespace', async () => {
      const want = (await allNamespaces()).filter((n) => n !== 'default' && !protectedNamespaces.includes(n)).sort();
      return JSON.stringify(replicaNamespaces()) === JSON.stringify(want);
    });
    const source = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', 'default', '-o', 'json']));
    const events = await waitFor('ProtectedNamespace Events for all three', () => {
      const list = JSON.parse(kubectl(['get', 'events', '-n', 'default', '--field-selector=involvedObject.name=docker-token,reason=ProtectedNamespace', '-o', 'json'])) as { items: { message: string; type: string }[] };
      return protectedNamespaces.every((ns) => list.items.some((e) => e.message.startsWith(`not replicated into ${ns}:`))) ? list.items : undefined;
    });
    expect(events[0]!.type).toBe('Warning');
    expect(events[0]!.message).toContain('--trusted-source-namespaces');
    expect(kubectl(['get', 'secret', 'docker-token', '-n', 'kube-system', '--ignore-not-found', '-o', 'name'])).toBe('');
    const replica = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', replicaNamespaces()[0]!, '-o', 'json']));
    expect(replica.type).toBe('kubernetes.io/dockerconfigjson');
    expect(replica.data).toEqual(source.data);
    expect(replica.metadata.annotations['kube-replicator.io/tier']).toBe('untrusted');

    kubectl(['create', 'namespace', later]);
    await waitFor('a replica in the new namespace', () => replicaNamespaces().includes(later));

    kubectl(['delete', '-f', join(samples, 'docker-token-push.yaml')]);
    await waitFor('every replica removed', () => replicaNamespaces().length === 0);
  });

  it('push with --trusted-source-namespaces=default: the listing matches mittwald\'s tutorial exactly (kube-system included)', async () => {
    await operator.kill('SIGTERM');
    const trusted = new OperatorProcess('tutorial-trusted', ['--trusted-source-namespaces=default']);
    await trusted.start();
    try {
      kubectl(['apply', '-f', join(samples, 'docker-token-push.yaml')]);
      await waitFor('a replica in every other namespace', async () => {
        const want = (await allNamespaces()).filter((n) => n !== 'default').sort();
        return JSON.stringify(replicaNamespaces()) === JSON.stringify(want);
      });
      const source = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', 'default', '-o', 'json']));
      const replica = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', 'kube-system', '-o', 'json']));
      expect(replica.type).toBe('kubernetes.io/dockerconfigjson');
      expect(replica.data).toEqual(source.data);
      expect(replica.metadata.annotations['kube-replicator.io/tier']).toBe('trusted');
      kubectl(['delete', '-f', join(samples, 'docker-token-push.yaml')]);
      await waitFor('every replica removed, kube-system\'s too', () => replicaNamespaces().length === 0);
    } finally {
      await trusted.kill('SIGTERM');
      await operator.start();
    }
  });

  it('pull: docker-token-replica in kube-system ends with the source data and replicated-keys', async () => {
    kubectl(['apply', '-f', join(samples, 'docker-token-pull.yaml')]);
    const source = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', 'default', '-o', 'json']));
    const target = await waitFor('the pulled data', async () => {
      const t = await maybe(c.core.readNamespacedSecret({ namespace: 'kube-system', name: 'docker-token-replica' }));
      return t?.data?.['.dockerconfigjson'] === source.data['.dockerconfigjson'] ? t : undefined;
    });
    expect(target.metadata!.annotations!['replicator.v1.mittwald.de/replicated-keys']).toBe('.dockerconfigjson');
    expect(target.metadata!.annotations!['replicator.v1.mittwald.de/replicated-from-version']).toBe(source.metadata.resourceVersion);
    expect(readFileSync(join(samples, 'docker-token-pull.yaml'), 'utf8')).toContain('replicate-from: default/docker-token');
  });
});
