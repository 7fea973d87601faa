// A tenant's explain: what its own reads show, and nothing the planner would need other namespaces for.
import { describe, expect, it } from '@jest/globals';
import { builtinKinds as K } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { ownNamespaceObjects, ownObject, renderOwnView, type OwnEvent, type OwnInput } from './explain-own.ts';

const SECRET_VALUE = 'c3VwZXItc2VjcmV0LXZhbHVl';
const ref = { kind: 'Secret', namespace: 'team-a', name: 'creds' };
const written = [{ manager: 'kube-replicator', operation: 'Update', time: '2024-01-01T00:00:00Z' }];

function replica(managedFields = written): KubeObject {
  return {
    metadata: {
      name: 'creds', namespace: 'team-a', labels: { 'kube-replicator.io/replica': 'true' }, managedFields,
      annotations: { 'kube-replicator.io/source': 'platform/creds', 'kube-replicator.io/rule': 'policy/registry', 'kube-replicator.io/tier': 'trusted', 'replicator.v1.mittwald.de/replicated-at': '2024-01-01T00:00:00Z' },
    } as KubeObject['metadata'],
    data: { password: SECRET_VALUE },
  };
}

const input = (live: OwnInput['live'], events: OwnInput['events'] = []): OwnInput => ({ ref, spec: K.Secret, live, events, salt: 'salt' });
const event = (reason: string, at: string): OwnEvent => ({ type: 'Warning', reason, message: `${reason} happened`, at });

describe('ownObject', () => {
  it('a replica: its provenance and salted key hashes, never the value', () => {
    const o = ownObject(input(replica()), 'kube-replicator')!;
    expect(o).toMatchObject({ role: 'replica', replicaOf: { source: 'platform/creds', rule: 'policy/registry', tier: 'trusted' } });
    expect(o.summary).toBe('a replica of platform/creds by the policy/registry rule (trusted), last written 2024-01-01T00:00:00Z');
    expect(o.keys).toEqual({ password: expect.stringMatching(/^sha256:[0-9a-f]{12}$/) });
    expect(JSON.stringify(o)).not.toContain(SECRET_VALUE);
  });

  it('provenance kube-replicator never wrote (copied by hand) makes no replica', () => {
    expect(ownObject(input(replica([{ manager: 'kubectl', operation: 'Update', time: '2024-01-01T00:00:00Z' }])), 'kube-replicator')!.role).toBe('other');
  });

  it('a pull target: what it asks for, and the newest Event first', () => {
    const live: KubeObject = { metadata: { name: 'creds', namespace: 'team-a', annotations: { 'replicator.v1.mittwald.de/replicate-from': 'platform/creds' } } };
    const o = ownObject(input(live, [event('Old', '2024-01-01T00:00:00Z'), event('SourceNotAvailable', '2024-02-01T00:00:00Z')]), 'kube-replicator')!;
    expect(o.pull).toEqual({ via: 'replicate-from', source: 'platform/creds', lastCopy: undefined });
    expect(o.events.map((e) => e.reason)).toEqual(['SourceNotAvailable', 'Old']);
    expect(o.summary).toBe('pulls from platform/creds (replicate-from), nothing copied yet; kube-replicator\'s latest Event on it: Warning SourceNotAvailable: SourceNotAvailable happened');
  });

  it('absent, unreadable, and Events that may not be listed are said', () => {
    expect(ownObject(input(undefined), 'kube-replicator')!.summary).toBe('does not exist');
    expect(ownObject(input('forbidden'), 'kube-replicator')).toBeUndefined();
    expect(ownObject(input(undefined, 'forbidden'), 'kube-replicator')!.summary).toBe('does not exist (you may not list its Events)');
  });
});

describe('ownNamespaceObjects', () => {
  it('lists replicas, pull targets and objects kube-replicator spoke of; not the namespace\'s other objects', () => {
    const plain = (name: string): OwnInput => ({ ...input({ metadata: { name, namespace: 'team-a' } }), ref: { ...ref, name } });
    const objects = ownNamespaceObjects([input(replica()), plain('own'), { ...plain('conflicted'), events: [event('TargetConflict', '2024-01-01T00:00:00Z')] }], 'kube-replicator');
    expect(objects.map((o) => [o.target, o.role])).toEqual([['Secret team-a/conflicted', 'other'], ['Secret team-a/creds', 'replica']]);
  });
});

describe('renderOwnView', () => {
  it('says what is not visible first, then the namespace as the caller reads it', () => {
    const text = renderOwnView({
      subject: 'Secret team-a/creds', visible: false, notVisible: ['namespaces'], message: 'not visible: …',
      namespaceView: { namespace: 'team-a', objects: [ownObject(input(replica(), [event('A', '2024-01-01T00:00:00Z')]), 'kube-replicator')!], unreadable: ['roles in team-a'] },
    });
    expect(text.split('\n')).toEqual([
      'not visible: …',
      'what your own reads in namespace team-a show (whether a replica matches its source, and which rules reach it, is not visible to you):',
      expect.stringMatching(/^ {2}Secret team-a\/creds: a replica of platform\/creds/),
      expect.stringMatching(/^ {4}keys: password sha256:[0-9a-f]{12}$/),
      '    2024-01-01T00:00:00Z Warning A: A happened',
      '  not visible: roles in team-a',
      '',
    ]);
  });
});
