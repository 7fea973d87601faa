import { afterEach, describe, expect, it } from '@jest/globals';
import { builtinKinds, type BuiltinKind } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { pushRuleFromAnnotations } from './annotation-rules.ts';
import { migrationFor, selectorObject, sourceNameEntry } from './migrate.ts';
import { parseNamespacePatterns, resetPatterns } from './patterns.ts';
import { compilePolicy, policySelectsSource } from './policy-rules.ts';
import { parseLabelSelector } from './selector.ts';
import { targetsNamespace } from './targeting.ts';
import { isProtectedFrom, ruleTier } from './trust.ts';
import { defaultSettings, type NamespaceView, type Settings } from './types.ts';
import { annotations as A, reflector as R } from './vocabulary.ts';

afterEach(() => resetPatterns());

const settings: Settings = { ...defaultSettings, protectedNamespaces: parseNamespacePatterns('kube-system,kube-public,replicator') };

function src(kind: BuiltinKind, namespace: string, name: string, annotations: Record<string, string>) {
  const obj: KubeObject = { metadata: { name, namespace, creationTimestamp: '2024-01-01T00:00:00Z', annotations } };
  return { spec: builtinKinds[kind], obj };
}

const namespaces: NamespaceView[] = [
  'team-a', 'team-b', 'team-c', 'prod-1', 'prod-2', 'dev', 'kube-system', 'kube-public', 'replicator', 'x',
].flatMap((name, i) => [
  { name, labels: {} as Record<string, string>, terminating: false },
  { name, labels: { env: i % 2 ? 'prod' : 'dev', tier: 'web', [`k${i}`]: 'v' }, terminating: false },
]);

/**
 * The heart of the matter: for each source, the namespaces the annotation rule reaches (minus where an untrusted
 * rule may not touch anything) are exactly those its policy reaches, and the policy selects exactly the source.
 */
function expectEquivalent(sources: ReturnType<typeof src>[], s: Settings = settings): void {
  const m = migrationFor(sources, s);
  for (const { spec, obj } of sources) {
    const rule = pushRuleFromAnnotations(spec.kind, obj).rule!;
    const covering = m.policies.filter((p) => p.replaces.includes(`${spec.kind} ${obj.metadata.namespace}/${obj.metadata.name}`));
    expect(covering).toHaveLength(1);
    const compiled = compilePolicy({ ...covering[0]!.policy, metadata: { name: covering[0]!.policy.metadata.name } }, Object.keys(builtinKinds));
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
    expect(policySelectsSource(compiled.policy, spec.kind, obj)).toBe(true);
    for (const ns of namespaces) {
      const byAnnotation = targetsNamespace(rule.targets, rule.source.namespace, ns, s) && !isProtectedFrom(ruleTier(rule, s), ns.name, s);
      expect([ns, targetsNamespace(compiled.policy.targets, rule.source.namespace, ns, s)]).toEqual([ns, byAnnotation]);
    }
  }
}

describe('migrationFor: equivalent targets', () => {
  it('mittwald replicate-to and replicate-to-matching, with the protected namespaces excluded for tenants', () => {
    expectEquivalent([
      src('Secret', 'team-a', 'tls', { [A.replicateTo]: '.*' }),
      src('Secret', 'team-a', 'db', { [A.replicateTo]: 'team-b, prod-[0-9]' }),
      src('ConfigMap', 'team-a', 'cfg', { [A.replicateToMatching]: 'env=prod,tier in (web,api),!k3' }),
      src('ConfigMap', 'team-b', 'both', { [A.replicateTo]: 'dev', [A.replicateToMatching]: 'env!=dev' }),
    ]);
  });

  it('Reflector auto-reflection: everywhere, an auto list, an allowed list, a literal auto list within patterns', () => {
    const on = { [R.allowed]: 'true', [R.autoEnabled]: 'true' };
    expectEquivalent([
      src('Secret', 'team-a', 'r1', on),
      src('Secret', 'team-a', 'r2', { ...on, [R.autoNamespaces]: 'prod-.*,dev' }),
      src('Secret', 'team-a', 'r3', { ...on, [R.allowedNamespaces]: 'team-.*' }),
      src('Secret', 'team-a', 'r4', { ...on, [R.allowedNamespaces]: 'prod-.*', [R.autoNamespaces]: 'prod-1,dev,x' }),
      src('ConfigMap', 'team-a', 'r5', { ...on, [R.autoNamespacesSelector]: 'env=prod' }),
    ]);
  });

  it('both dialects on one source: the union, when at most one of them selects by labels', () => {
    expectEquivalent([
      src('Secret', 'team-c', 'u1', { [A.replicateTo]: 'team-a', [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'prod-1' }),
      src('Secret', 'team-c', 'u2', { [A.replicateToMatching]: 'env=dev', [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'prod-2' }),
    ]);
  });

  it('a trusted source namespace gets no exclusions (its annotations already reach protected namespaces)', () => {
    const s = { ...settings, trustedSourceNamespaces: parseNamespacePatterns('team-a') };
    const m = migrationFor([src('Secret', 'team-a', 'tls', { [A.replicateTo]: '.*' })], s);
    expect(m.policies[0]!.policy.spec.targets).toEqual({ namespaces: ['.*'] });
    expect(m.policies[0]!.policy.spec.priority).toBe(1);
    expect(migrationFor([src('Secret', 'team-b', 'tls', { [A.replicateTo]: '.*' })], s).policies[0]!.policy.spec).not.toHaveProperty('priority');
    expectEquivalent([src('Secret', 'team-a', 'tls', { [A.replicateTo]: '.*' })], s);
  });
});

describe('migrationFor: grouping and output', () => {
  it('one policy per source namespace, kind, target set and carry options, naming every source', () => {
    const m = migrationFor([
      src('Secret', 'team-a', 'b', { [A.replicateTo]: 'team-b' }),
      src('Secret', 'team-a', 'a', { [A.replicateTo]: 'team-b' }),
      src('Secret', 'team-a', 'stripped', { [A.replicateTo]: 'team-b', [A.stripLabels]: 'true' }),
      src('ConfigMap', 'team-a', 'a', { [A.replicateTo]: 'team-b' }),
      src('Secret', 'team-b', 'a', { [A.replicateTo]: 'team-b' }),
      src('Secret', 'team-a', 'c', { [A.replicateTo]: 'team-c' }),
    ], settings);
    expect(m.policies).toHaveLength(5);
    const grouped = m.policies.find((p) => p.policy.spec.source.names?.length === 2)!;
    expect(grouped.policy.spec).toEqual({
      kinds: ['Secret'], source: { namespace: 'team-a', names: ['a', 'b'] },
      targets: { namespaces: ['team-b'], exclude: ['kube-system', 'kube-public', 'replicator'] }, onConflict: 'Skip', deletionPolicy: 'Delete',
    });
    expect(grouped.replaces).toEqual(['Secret team-a/a', 'Secret team-a/b']);
    expect(grouped.policy.metadata.name).toMatch(/^migrated-team-a-secret-[0-9a-f]{8}$/);
    expect(m.policies.find((p) => p.replaces.includes('Secret team-a/stripped'))!.policy.spec.labels).toEqual([]);
    const names = m.policies.map((p) => p.policy.metadata.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(5);
  });

  it('is deterministic whatever the order of the sources', () => {
    const sources = [
      src('Secret', 'team-a', 'b', { [A.replicateTo]: 'team-b' }),
      src('Secret', 'team-a', 'a', { [A.replicateTo]: 'team-b' }),
      src('ConfigMap', 'team-a', 'a', { [A.replicateTo]: 'x' }),
    ];
    expect(migrationFor([...sources].reverse(), settings)).toEqual(migrationFor(sources, settings));
  });

  it('Reflector-only pushes carry no labels; mittwald pushes carry them unless stripped', () => {
    const m = migrationFor([src('Secret', 'team-a', 'r', { [R.allowed]: 'true', [R.autoEnabled]: 'true' }), src('Secret', 'team-a', 'm', { [A.replicateTo]: 'x' })], settings);
    expect(m.policies.find((p) => p.replaces.includes('Secret team-a/r'))!.policy.spec.labels).toEqual([]);
    expect(m.policies.find((p) => p.replaces.includes('Secret team-a/m'))!.policy.spec).not.toHaveProperty('labels');
  });

  it('splits a group over policies of at most 64 names', () => {
    const sources = Array.from({ length: 70 }, (_, i) => src('ConfigMap', 'team-a', `c${String(i).padStart(2, '0')}`, { [A.replicateTo]: 'x' }));
    const m = migrationFor(sources, settings);
    expect(m.policies.map((p) => p.policy.spec.source.names!.length)).toEqual([64, 6]);
    expect(m.policies[1]!.policy.metadata.name).toBe(`${m.policies[0]!.policy.metadata.name}-2`);
  });
});

describe('sourceNameEntry', () => {
  it('keeps DNS names literal and escapes anything that would be read as RE2', () => {
    expect(sourceNameEntry('tls.example.com')).toBe('tls.example.com');
    expect(sourceNameEntry('system:Reader.x+(1)')).toBe('system:Reader\\.x\\+\\(1\\)');
    for (const name of ['system:Reader.x+(1)', 'a[b]*', 'Admin|x', 'q?$^{2}\\']) {
      const compiled = compilePolicy({ metadata: { name: 'p' }, spec: { kinds: ['Role'], source: { namespace: 'n', names: [sourceNameEntry(name)] }, targets: { namespaces: ['x'] } } }, ['Role']);
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
      expect(compiled.policy.sourceNames!(name)).toBe(true);
      expect(compiled.policy.sourceNames!(`${name}x`)).toBe(false);
      expect(compiled.policy.sourceNames!(name.slice(1))).toBe(false);
    }
  });
});

describe('selectorObject', () => {
  it('has the object form of =, !=, in, notin, exists and !, and none for > and <', () => {
    const s = parseLabelSelector('a=1,b!=2,c in (x,y),d notin (z),e,!f');
    if (!s.ok) throw new Error(s.error);
    expect(selectorObject(s.selector)).toEqual({ matchExpressions: expect.arrayContaining([
      { key: 'a', operator: 'In', values: ['1'] }, { key: 'b', operator: 'NotIn', values: ['2'] }, { key: 'c', operator: 'In', values: ['x', 'y'] },
      { key: 'd', operator: 'NotIn', values: ['z'] }, { key: 'e', operator: 'Exists' }, { key: 'f', operator: 'DoesNotExist' },
    ]) });
    const gt = parseLabelSelector('n>3');
    if (!gt.ok) throw new Error(gt.error);
    expect(selectorObject(gt.selector)).toBeUndefined();
  });
});

describe('migrationFor: what no policy expresses', () => {
  it('lists pulls, consent, keep-owner-references, untrusted RBAC pushes, intersections and two selectors, with reasons', () => {
    const m = migrationFor([
      src('Secret', 'team-b', 'pulled', { [A.replicateFrom]: 'team-a/tls' }),
      src('ConfigMap', 'team-b', 'mirror', { [R.reflects]: 'team-a/cfg' }),
      src('Secret', 'team-a', 'tls', { [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: 'team-b' }),
      src('Secret', 'team-a', 'owned', { [A.replicateTo]: 'x', [A.keepOwnerReferences]: 'true' }),
      src('Role', 'team-a', 'reader', { [A.replicateTo]: 'x' }),
      src('Secret', 'team-a', 'within', { [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.allowedNamespaces]: 'prod-.*', [R.autoNamespaces]: 'p.*' }),
      src('Secret', 'team-a', 'twosel', { [A.replicateToMatching]: 'env=dev', [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespacesSelector]: 'env=prod' }),
      src('ConfigMap', 'team-a', 'gt', { [A.replicateToMatching]: 'n>3' }),
    ], settings);
    expect(m.policies).toEqual([]);
    const reasons = Object.fromEntries(m.notExpressible.map((n) => [n.source, n.reason]));
    expect(reasons).toEqual({
      'Secret team-b/pulled': expect.stringContaining(A.replicateFrom),
      'ConfigMap team-b/mirror': expect.stringContaining(R.reflects),
      'Secret team-a/tls': expect.stringContaining('consent'),
      'Secret team-a/owned': expect.stringContaining(A.keepOwnerReferences),
      'Role team-a/reader': expect.stringContaining('refused today'),
      'Secret team-a/within': expect.stringContaining('intersection'),
      'Secret team-a/twosel': expect.stringContaining('one namespaceSelector'),
      'ConfigMap team-a/gt': expect.stringContaining('> or <'),
    });
  });

  it('converts an RBAC push from a namespace trusted for RBAC', () => {
    const s = { ...settings, trustedRbacNamespaces: parseNamespacePatterns('team-a') };
    const m = migrationFor([src('Role', 'team-a', 'system:Reader', { [A.replicateTo]: 'x' })], s);
    expect(m.notExpressible).toEqual([]);
    expect(m.policies[0]!.policy.spec.source.names).toEqual(['system:Reader']);
  });
});
