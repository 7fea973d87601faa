import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../model/objects.ts';
import { builtinKinds } from '../model/kinds.ts';
import { changesOnlyProvenance } from './provenance-only.ts';

const spec = builtinKinds.Secret;

const replica = (over: Partial<KubeObject['metadata']> = {}, data: Record<string, string> = { k: 'dg==' }): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data,
  metadata: {
    name: 's', namespace: 't', resourceVersion: '7', uid: 'u',
    labels: { app: 'x', 'kube-replicator.io/replica': 'true' },
    annotations: { 'kube-replicator.io/rule': 'annotation', 'kube-replicator.io/tier': 'untrusted', 'replicator.v1.mittwald.de/replicated-at': 'then', note: 'kept' },
    ...over,
  },
} as KubeObject);

describe('changesOnlyProvenance', () => {
  const live = replica();
  it('an update that moves the replica to another rule (provenance and bookkeeping only) is a take-over', () => {
    const taken = replica({
      resourceVersion: undefined,
      annotations: { 'kube-replicator.io/rule': 'policy/p', 'kube-replicator.io/tier': 'trusted', 'kube-replicator.io/policy-uid': 'x', 'replicator.v1.mittwald.de/replicated-at': 'now', note: 'kept' },
    });
    expect(changesOnlyProvenance(spec, { type: 'update', object: taken }, live)).toBe(true);
  });

  it.each([
    ['the data', replica({}, { k: 'dw==' })],
    ['a label of the source', replica({ labels: { app: 'y', 'kube-replicator.io/replica': 'true' } })],
    ['an annotation that is not bookkeeping', replica({ annotations: { ...live.metadata.annotations, note: 'changed' } })],
    ['ownerReferences', replica({ ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'o' }] })],
  ])('an update of %s is a change', (_what, next) => {
    expect(changesOnlyProvenance(spec, { type: 'update', object: next }, live)).toBe(false);
  });

  it('a merge patch (which always sets the content) is judged by what it leaves: provenance alone is a take-over', () => {
    const guard = { resourceVersion: '7' };
    expect(changesOnlyProvenance(spec, { type: 'patch', patch: { metadata: { ...guard, annotations: { 'kube-replicator.io/rule': 'policy/p', 'reflector.v1.k8s.emberstack.com/reflected-version': null } }, data: { k: 'dg==' }, type: 'Opaque' } }, live)).toBe(true);
    expect(changesOnlyProvenance(spec, { type: 'patch', patch: { metadata: { ...guard, labels: { app: 'y' } } } }, live)).toBe(false);
    expect(changesOnlyProvenance(spec, { type: 'patch', patch: { metadata: guard, data: { k: 'dw==' } } }, live)).toBe(false);
    expect(changesOnlyProvenance(spec, { type: 'patch', patch: { metadata: guard, data: { gone: null, extra: 'eA==' } } }, live)).toBe(false);
  });

  it('fields the kind does not replicate, and server fields, do not count', () => {
    const taken = { ...replica({ resourceVersion: '8', annotations: { ...live.metadata.annotations, 'kube-replicator.io/rule': 'policy/p' } }), immutable: undefined } as KubeObject;
    expect(changesOnlyProvenance(spec, { type: 'update', object: taken }, { ...live, status: {} } as KubeObject)).toBe(true);
  });

  it('create, recreate and delete are changes, and so is any write to an object that does not exist', () => {
    expect(changesOnlyProvenance(spec, { type: 'create', object: live }, undefined)).toBe(false);
    expect(changesOnlyProvenance(spec, { type: 'recreate', object: live }, live)).toBe(false);
    expect(changesOnlyProvenance(spec, { type: 'delete' }, live)).toBe(false);
    expect(changesOnlyProvenance(spec, { type: 'update', object: live }, undefined)).toBe(false);
  });
});
