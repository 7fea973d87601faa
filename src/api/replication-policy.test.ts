import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { builtinKindNames } from '../model/kinds.ts';
import { kindNamePattern } from '../model/extra-kinds.ts';
import { apiEnums, apiFields, policyGroup, policyVersion } from './replication-policy.ts';

interface Schema { type?: string; properties?: Record<string, Schema>; items?: Schema; required?: string[]; enum?: string[]; pattern?: string; description?: string }
const crd = parse(readFileSync(new URL('../../crds/replicationpolicies.yaml', import.meta.url), 'utf8')) as {
  spec: { group: string; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
};
const root = crd.spec.versions[0]!.schema.openAPIV3Schema;

/** The schema at a path such as `spec.source` or `status.conditions[]`. */
function at(path: string): Schema {
  let s = root;
  for (const part of path.split('.')) {
    const name = part.replace(/\[\]$/, '');
    s = s.properties![name]!;
    if (part.endsWith('[]')) s = s.items!;
  }
  return s;
}

describe('the ReplicationPolicy API types agree with the CRD', () => {
  it('group and version', () => {
    expect([crd.spec.group, crd.spec.versions[0]!.name]).toEqual([policyGroup, policyVersion]);
  });

  it.each(Object.entries(apiFields))('%s: the same fields, required the same way', (path, fields) => {
    const schema = at(path);
    expect(Object.keys(schema.properties ?? {}).sort()).toEqual(Object.keys(fields).sort());
    const required = Object.entries(fields).filter(([, r]) => r === 'required').map(([k]) => k).sort();
    expect([...(schema.required ?? [])].sort()).toEqual(required);
  });

  it.each(Object.entries(apiEnums))('%s: the same values', (path, values) => {
    expect(at(path).enum).toEqual(values);
  });

  it('spec.kinds: any Kind name (the built-in ones and those an operator allows), each built-in one named', () => {
    expect(at('spec.kinds[]').pattern).toBe(kindNamePattern.source);
    for (const k of builtinKindNames) expect(new RegExp(at('spec.kinds[]').pattern!).test(k)).toBe(true);
    for (const k of builtinKindNames) expect(at('spec.kinds').description).toContain(k);
  });

  it('every field has a description (what kubectl explain shows), but metadata (the API server allows none there)', () => {
    const missing: string[] = [];
    const walk = (schema: Schema, path: string) => {
      if (!schema.description && path !== 'metadata') missing.push(path || '(the kind)');
      for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, path ? `${path}.${k}` : k);
      for (const [k, v] of Object.entries(schema.items?.properties ?? {})) walk(v, `${path}[].${k}`);
    };
    walk(root, '');
    expect(missing).toEqual([]);
  });
});

