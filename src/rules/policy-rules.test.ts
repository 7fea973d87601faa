import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { ReplicationPolicy } from '../api/replication-policy.ts';
import { compilePolicy, policySpecValidator } from './policy-rules.ts';

const crd = parse(readFileSync(new URL('../../crds/replicationpolicies.yaml', import.meta.url), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
const validate = policySpecValidator(crd.spec.versions[0]!.schema.openAPIV3Schema);
const policy = (spec: unknown) => ({ metadata: { name: 'p', uid: 'u', generation: 1 }, spec }) as ReplicationPolicy;
const valid = { kinds: ['Secret'], source: { namespace: 'src', names: ['a'] }, targets: { namespaces: ['b'] } };

describe('compilePolicy', () => {
  it('with the CRD\'s schema: what the API server would refuse is refused, naming the field', () => {
    expect(compilePolicy(policy(valid), ['Secret'], validate).ok).toBe(true);
    const r = compilePolicy(policy({ ...valid, kinds: ['secret'] }), ['Secret'], validate);
    expect(r).toEqual({ ok: false, problems: [expect.objectContaining({ field: 'spec.kinds.0' })] });
  });

  it('names the flag of a disabled built-in kind, and --extra-kinds for a kind the operator does not replicate', () => {
    const r = compilePolicy(policy({ ...valid, kinds: ['Secret', 'Role', 'NetworkPolicy'] }), ['Secret']);
    expect(r.ok ? [] : r.problems).toEqual([
      { field: 'spec.kinds[1]', message: 'Role replication is disabled in this operator (--replicate-roles=false)' },
      { field: 'spec.kinds[2]', message: 'NetworkPolicy is not a kind this operator replicates (built-in kinds, and those in its --extra-kinds)' },
    ]);
    expect(compilePolicy(policy({ ...valid, kinds: ['NetworkPolicy'] }), ['Secret', 'NetworkPolicy']).ok).toBe(true);
  });
});
