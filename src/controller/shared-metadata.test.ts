import { describe, expect, it } from '@jest/globals';
import type { ObjectMeta } from '../model/objects.ts';
import { annotations as A, lastAppliedAnnotation, provenance as P } from '../rules/vocabulary.ts';
import { compactMetadata, internString, shareRecord } from './shared-metadata.ts';

const replica = (namespace: string, at: string): ObjectMeta => ({
  name: 'token', namespace, uid: `uid-${namespace}`, resourceVersion: `rv-${namespace}`, creationTimestamp: '2026-12-01T00:00:00Z',
  labels: { [P.replicaLabel]: 'true', [P.sourceNamespaceLabel]: 'platform' },
  annotations: { [P.source]: 'platform/token', [P.contentHash]: 'abc', [A.replicatedAt]: at, [A.replicatedFromVersion]: '42', [lastAppliedAnnotation]: '{"data":"x"}' },
});

describe('compactMetadata', () => {
  it('shares the labels and annotations of replicas of one source, frozen, without the per-write annotations', () => {
    const a = compactMetadata(replica('team-a', '2026-12-01T00:00:01Z'));
    const b = compactMetadata(replica('team-b', '2026-12-01T00:00:09Z'));
    expect(a.annotations).toBe(b.annotations);
    expect(a.labels).toBe(b.labels);
    expect(a.annotations).toEqual({ [P.source]: 'platform/token', [P.contentHash]: 'abc' });
    expect(Object.isFrozen(a.annotations)).toBe(true);
    expect([a.name, a.namespace, a.uid, a.resourceVersion, a.creationTimestamp]).toEqual(['token', 'team-a', 'uid-team-a', 'rv-team-a', '2026-12-01T00:00:00Z']);
  });

  it('keeps of other objects their labels and only the annotations of the replicator vocabularies, unshared', () => {
    const m: ObjectMeta = {
      name: 'mine', namespace: 'team-a', labels: { app: 'x' },
      annotations: { [A.replicatedFromVersion]: '7', [A.replicateTo]: 'b', [P.source]: 'x/y', note: 'x', 'helm.sh/chart': 'big', [lastAppliedAnnotation]: '{}' },
    };
    const out = compactMetadata(m);
    expect(out.annotations).toEqual({ [A.replicatedFromVersion]: '7', [A.replicateTo]: 'b', [P.source]: 'x/y' });
    expect(Object.isFrozen(out.annotations)).toBe(false);
    expect(out.labels).toBe(m.labels);
    expect(compactMetadata({ name: 'plain', annotations: { note: 'x' } })).toStrictEqual({ name: 'plain' });
  });

  it('sets no field the object did not have', () => {
    expect(compactMetadata({ name: 'n' })).toStrictEqual({ name: 'n' });
  });
});

describe('shareRecord and internString', () => {
  it('give one instance for equal content', () => {
    expect(shareRecord({ a: '1', b: '2' })).toBe(shareRecord({ a: '1', b: '2' }));
    expect(shareRecord({ a: '1' })).not.toBe(shareRecord({ a: '2' }));
    expect(internString(['team', 'a'].join('-'))).toBe('team-a');
  });
});
