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

describe('tutorial: registry credentials for every namespace', () => {
  it('push: docker-token appears in every namespace, including one created later, and disappears with its source', async () => {
    kubectl(['apply', '-f', join(samples, 'docker-token-push.yaml')]);
    await waitFor('a replica in every other namespace', async () => {
      const want = (await allNamespaces()).filter((n) => n !== 'default').sort();
      return JSON.stringify(replicaNamespaces()) === JSON.stringify(want);
    });
    const source = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', 'default', '-o', 'json']));
    const replica = JSON.parse(kubectl(['get', 'secret', 'docker-token', '-n', 'kube-system', '-o', 'json']));
    expect(replica.type).toBe('kubernetes.io/dockerconfigjson');
    expect(replica.data).toEqual(source.data);

    kubectl(['create', 'namespace', later]);
    await waitFor('a replica in the new namespace', () => replicaNamespaces().includes(later));

    kubectl(['delete', '-f', join(samples, 'docker-token-push.yaml')]);
    await waitFor('every replica removed', () => replicaNamespaces().length === 0);
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
