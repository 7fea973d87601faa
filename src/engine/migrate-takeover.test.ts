// What `kube-replicator migrate` promises, held to the planner: a replica made by an annotation is taken over by the
// policy migrate prints with one write that changes only its provenance, and once the annotation is gone the policy
// alone finds it in sync.
import { describe, expect, it } from '@jest/globals';
import { builtinKinds } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { pushRuleFromAnnotations } from '../rules/annotation-rules.ts';
import { migrationFor } from '../rules/migrate.ts';
import { parseNamespacePatterns } from '../rules/patterns.ts';
import { compilePolicy, policyRule } from '../rules/policy-rules.ts';
import { defaultSettings, type Settings } from '../rules/types.ts';
import { annotations as A, provenance as P, reflector as R } from '../rules/vocabulary.ts';
import { plan, type Candidate } from './plan.ts';

const spec = builtinKinds.Secret;
const target = { kind: 'Secret', namespace: 'dst', name: 'tls' };
const base: Settings = { ...defaultSettings, protectedNamespaces: parseNamespacePatterns('kube-system') };
const provenanceKeys: string[] = [P.rule, P.tier, P.policyUid, A.replicatedAt];

function source(annotations: Record<string, string>): KubeObject {
  return {
    metadata: { name: 'tls', namespace: 'src', uid: 'u1', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z', labels: { app: 'web' }, annotations },
    type: 'Opaque', data: { a: 'YQ==' },
  };
}

const withoutProvenance = (o: KubeObject) => ({
  ...o, metadata: { ...o.metadata, annotations: Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).filter(([k]) => !provenanceKeys.includes(k))) },
});

describe.each([
  ['an untrusted mittwald push', base, { [A.replicateTo]: 'dst' }],
  ['an untrusted mittwald push that strips labels', base, { [A.replicateTo]: 'dst', [A.stripLabels]: 'true' }],
  ['a Reflector auto-reflection', base, { [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'dst' }],
  ['a trusted mittwald push', { ...base, trustedSourceNamespaces: parseNamespacePatterns('src') }, { [A.replicateTo]: 'dst' }],
] as const)('%s', (_, settings, annotations) => {
  it('is taken over by its migrated policy with a provenance update alone, then left in sync', () => {
    const obj = source(annotations);
    const byAnnotation: Candidate = { rule: pushRuleFromAnnotations('Secret', obj).rule!, source: obj };
    const made = plan({ target, spec, candidates: [byAnnotation], settings, now: '2024-02-01T00:00:00Z' });
    if (made.write?.type !== 'create') throw new Error(`expected a create, got ${JSON.stringify(made)}`);
    const live: KubeObject = { ...made.write.object, metadata: { ...made.write.object.metadata, uid: 'r1', resourceVersion: '9' } };

    const migration = migrationFor([{ spec, obj }], settings);
    expect(migration.notExpressible).toEqual([]);
    const compiled = compilePolicy({ ...migration.policies[0]!.policy, metadata: { name: migration.policies[0]!.policy.metadata.name, uid: 'p1' } }, ['Secret']);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
    const byPolicy: Candidate = { rule: policyRule(compiled.policy, 'Secret', obj), source: obj };

    const takeOver = plan({ target, spec, live, candidates: [byAnnotation, byPolicy], settings, now: '2024-03-01T00:00:00Z' });
    expect(takeOver.owner).toBe(byPolicy.rule.id);
    if (takeOver.write?.type !== 'update') throw new Error(`expected an update, got ${JSON.stringify(takeOver)}`);
    const written = takeOver.write.object;
    expect(withoutProvenance(written)).toEqual(withoutProvenance(live));
    expect(written.metadata.annotations?.[P.rule]).toBe(`policy/${compiled.policy.name}`);

    const after = plan({ target, spec, live: written, candidates: [byPolicy], settings, now: '2024-04-01T00:00:00Z' });
    expect(after).toMatchObject({ outcome: 'InSync', owner: byPolicy.rule.id });
    expect(after.write).toBeUndefined();
  });
});
