import { describe, expect, it } from '@jest/globals';
import { builtinKindNames, builtinKinds, contentFields, copiedFields, genericKind, KindTable } from './kinds.ts';
import type { KubeObject } from './objects.ts';

const obj = (over: Record<string, unknown>): KubeObject => ({ metadata: { name: 'x', namespace: 'ns' }, ...over }) as KubeObject;

describe('the built-in kind table', () => {
  it('lists every built-in kind once, under its own name, with its flag', () => {
    expect(Object.keys(builtinKinds)).toEqual([...builtinKindNames]);
    for (const k of builtinKindNames) expect(builtinKinds[k].kind).toBe(k);
    expect(new Set(builtinKindNames.map((k) => builtinKinds[k].flag)).size).toBe(builtinKindNames.length);
  });

  it.each([
    ['Secret', { type: 'Opaque', data: {} }],
    ['ConfigMap', { data: {}, binaryData: {} }],
    ['Role', { rules: [] }],
    ['RoleBinding', { subjects: [] }],
    ['ServiceAccount', { imagePullSecrets: [] }],
  ] as const)('%s content of an empty object: what the API server means by absent fields', (kind, expected) => {
    expect(contentFields(builtinKinds[kind], obj({}))).toEqual(expected);
  });

  it('Secret and ConfigMap merge data maps; only they do', () => {
    expect(builtinKindNames.filter((k) => builtinKinds[k].dataMaps)).toEqual(['Secret', 'ConfigMap']);
  });

  it('a push copies push-only fields, a pull does not', () => {
    expect(copiedFields(builtinKinds.RoleBinding, obj({}), 'push')).toEqual(['subjects', 'roleRef']);
    expect(copiedFields(builtinKinds.RoleBinding, obj({}), 'pull')).toEqual(['subjects']);
    expect(copiedFields(builtinKinds.Secret, obj({}), 'pull')).toEqual([]);
  });
});

describe('genericKind (kinds allowed by --extra-kinds)', () => {
  const np = genericKind('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies');

  it('copies the spec when there is one', () => {
    const o = obj({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec: { podSelector: {} }, status: { x: 1 } });
    expect(contentFields(np, o)).toEqual({ spec: { podSelector: {} } });
    expect(copiedFields(np, o, 'push')).toEqual(['spec']);
  });

  it('copies every top-level field but identity, metadata and status when there is no spec', () => {
    const o = obj({ apiVersion: 'example.com/v1', kind: 'Thing', settings: { a: 1 }, items: [1], status: {} });
    expect(contentFields(np, o)).toEqual({ settings: { a: 1 }, items: [1] });
    expect(copiedFields(np, o, 'pull')).toEqual(['settings', 'items']);
  });
});

describe('KindTable', () => {
  it('finds the kinds it holds and names the one it does not', () => {
    const t = new KindTable([builtinKinds.Secret, genericKind('LimitRange', 'v1', 'limitranges')]);
    expect(t.kinds).toEqual(['Secret', 'LimitRange']);
    expect(t.spec('LimitRange').plural).toBe('limitranges');
    expect(t.get('ConfigMap')).toBeUndefined();
    expect(() => t.spec('ConfigMap')).toThrow('kind ConfigMap is not replicated by this operator');
  });
});
