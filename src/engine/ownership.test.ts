import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../model/objects.ts';
import { annotations as A, provenance as P } from '../rules/vocabulary.ts';
import { classify, dataKeys, hasOwnKeys, replicatedKeys } from './ownership.ts';

function obj(over: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
} = {}): KubeObject {
  const o: KubeObject = { metadata: { name: 'x', namespace: 'ns', labels: over.labels, annotations: over.annotations } };
  if (over.data) o.data = over.data;
  if (over.binaryData) o.binaryData = over.binaryData;
  return o;
}

const ours = { [P.replicaLabel]: 'true' };

describe('classify', () => {
  it('is absent without a live object', () => {
    expect(classify(undefined)).toEqual({ type: 'absent' });
  });

  it('recognises our replica by label and source annotation, with its rule', () => {
    expect(classify(obj({ labels: ours, annotations: { [P.source]: 'a/b', [P.rule]: 'policy/p' } })))
      .toEqual({ type: 'ours', source: 'a/b', rule: 'policy/p' });
  });

  it('defaults the rule of our replica to annotation', () => {
    expect(classify(obj({ labels: ours, annotations: { [P.source]: 'a/b' } })))
      .toEqual({ type: 'ours', source: 'a/b', rule: 'annotation' });
  });

  it.each<[string, KubeObject]>([
    ['label without source annotation', obj({ labels: ours })],
    ['label with an empty source annotation', obj({ labels: ours, annotations: { [P.source]: '' } })],
    ['label not "true"', obj({ labels: { [P.replicaLabel]: 'yes' }, annotations: { [P.source]: 'a/b' } })],
    ['source annotation without label', obj({ annotations: { [P.source]: 'a/b' } })],
    ['nothing at all', obj()],
    ['plain data', obj({ data: { k: 'dg==' } })],
  ])('is foreign with %s', (_name, o) => {
    expect(classify(o)).toEqual({ type: 'foreign' });
  });

  it('treats any object with replicate-from as a pull target, even one carrying our marks', () => {
    expect(classify(obj({ annotations: { [A.replicateFrom]: 'a/b' } }))).toEqual({ type: 'pullTarget' });
    expect(classify(obj({ labels: ours, annotations: { [P.source]: 'a/b', [A.replicateFrom]: '' } })))
      .toEqual({ type: 'pullTarget' });
  });

  it('recognises a mittwald push replica whose keys are all replicated', () => {
    expect(classify(obj({
      annotations: { [A.replicatedFromVersion]: '12', [A.replicatedKeys]: 'a,b' },
      data: { a: 'YQ==' }, binaryData: { b: 'Yg==' },
    }))).toMatchObject({ type: 'legacy', by: 'mittwald' });
  });

  it('recognises a mittwald replica of a kind without data (Role, ServiceAccount…)', () => {
    expect(classify(obj({ annotations: { [A.replicatedFromVersion]: '' } }))).toMatchObject({ type: 'legacy', by: 'mittwald' });
  });

  it('does not call an object with keys of its own a mittwald replica', () => {
    expect(classify(obj({
      annotations: { [A.replicatedFromVersion]: '12', [A.replicatedKeys]: 'a' },
      data: { a: 'YQ==', mine: 'bQ==' },
    }))).toEqual({ type: 'foreign' });
    // No replicated-keys annotation at all: every key is its own.
    expect(classify(obj({ annotations: { [A.replicatedFromVersion]: '12' }, data: { a: 'YQ==' } })))
      .toEqual({ type: 'foreign' });
  });

  it('prefers our marks over the mittwald annotation', () => {
    expect(classify(obj({ labels: ours, annotations: { [P.source]: 's/n', [A.replicatedFromVersion]: '1' } })).type)
      .toBe('ours');
  });
});

describe('replicatedKeys', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['a', ['a']],
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,b,', ['a', 'b']],
    [',', []],
  ])('%j → %j', (value, keys) => {
    expect(replicatedKeys(obj(value === undefined ? {} : { annotations: { [A.replicatedKeys]: value } }))).toEqual(keys);
  });
});

describe('dataKeys', () => {
  it('joins data and binaryData keys, sorted', () => {
    expect(dataKeys(obj({ data: { z: '', b: '' }, binaryData: { a: '', y: '' } }))).toEqual(['a', 'b', 'y', 'z']);
  });

  it('is empty without data', () => {
    expect(dataKeys(obj())).toEqual([]);
  });
});

describe('hasOwnKeys', () => {
  it.each<[string, KubeObject, boolean]>([
    ['no data', obj(), false],
    ['all keys replicated', obj({ annotations: { [A.replicatedKeys]: 'a,b' }, data: { a: '' }, binaryData: { b: '' } }), false],
    ['replicated keys that are gone', obj({ annotations: { [A.replicatedKeys]: 'a,b' }, data: { a: '' } }), false],
    ['one extra data key', obj({ annotations: { [A.replicatedKeys]: 'a' }, data: { a: '', own: '' } }), true],
    ['one extra binaryData key', obj({ annotations: { [A.replicatedKeys]: 'a' }, data: { a: '' }, binaryData: { own: '' } }), true],
    ['keys but no replicated-keys annotation', obj({ data: { a: '' } }), true],
  ])('%s → %s', (_name, o, expected) => {
    expect(hasOwnKeys(o)).toBe(expected);
  });
});
