import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../model/objects.ts';
import { forgetPushSource, hasPushAnnotations, parseGoBool, pullConsent, pullSourceFromAnnotations, pushRuleFromAnnotations } from './annotation-rules.ts';
import { configurePatternBudget, patternMemoryUsage, resetPatterns } from './patterns.ts';
import { annotations as A } from './vocabulary.ts';

function obj(annotations: Record<string, string> | undefined, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { metadata: { name: 'cfg', namespace: 'team-a', creationTimestamp: '2021-02-03T04:05:06Z', annotations, ...meta } };
}

describe('parseGoBool (strconv.ParseBool)', () => {
  it.each<[string | undefined, boolean | undefined]>([
    ['1', true], ['t', true], ['T', true], ['TRUE', true], ['true', true], ['True', true],
    ['0', false], ['f', false], ['F', false], ['FALSE', false], ['false', false], ['False', false],
    [undefined, undefined], ['', undefined], ['yes', undefined], ['no', undefined], ['tRUE', undefined],
    [' true', undefined], ['true ', undefined], ['2', undefined], ['on', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseGoBool(value)).toBe(expected);
  });
});

describe('hasPushAnnotations', () => {
  it.each<[Record<string, string> | undefined, boolean]>([
    [undefined, false],
    [{}, false],
    [{ [A.replicateFrom]: 'a/b' }, false],
    [{ [A.replicateTo]: '' }, true],
    [{ [A.replicateToMatching]: 'a=b' }, true],
    [{ 'reflector.v1.k8s.emberstack.com/reflection-auto-enabled': 'true' }, true],
    [{ 'reflector.v1.k8s.emberstack.com/reflects': 'a/b' }, false],
  ])('%j → %s', (annotations, expected) => {
    expect(hasPushAnnotations(obj(annotations))).toBe(expected);
  });
});

describe('pushRuleFromAnnotations', () => {
  it('gives no rule and no problem without push annotations', () => {
    expect(pushRuleFromAnnotations('Secret', obj(undefined))).toEqual({ problems: [] });
    expect(pushRuleFromAnnotations('Secret', obj({ [A.replicateFrom]: 'x/y' }))).toEqual({ problems: [] });
  });

  it('builds an annotation rule from replicate-to', () => {
    const { rule, problems } = pushRuleFromAnnotations('ConfigMap', obj({ [A.replicateTo]: 'ns-1, ns-2 ,prod-[0-9]+' }));
    expect(problems).toEqual([]);
    expect(rule).toMatchObject({
      id: 'annotation:ConfigMap/team-a/cfg',
      origin: { type: 'annotation' },
      source: { kind: 'ConfigMap', namespace: 'team-a', name: 'cfg' },
      sourceCreated: '2021-02-03T04:05:06Z',
      priority: 0,
      stripLabels: false,
      keepOwnerReferences: false,
      onConflict: 'Skip',
    });
    const p = rule!.targets.patterns!;
    for (const ns of ['ns-1', 'ns-2', 'prod-1', 'prod-42']) expect(p.matches(ns)).toBe(true);
    for (const ns of ['ns-10', 'ns', 'prod-', 'xprod-1', 'team-b']) expect(p.matches(ns)).toBe(false);
    expect(rule!.targets.selector).toBeUndefined();
    expect(rule!.targets.exclude).toBeUndefined();
  });

  it('reports invalid patterns while the valid ones keep working', () => {
    const { rule, problems } = pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: 'good-1,ns-[,^(?!kube-).*,good-2' }));
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p.field).toBe(A.replicateTo);
    expect(problems[0]!.message).toContain('"ns-["');
    expect(problems[1]!.message).toContain('^(?!kube-).*');
    expect(rule!.targets.patterns!.matches('good-1')).toBe(true);
    expect(rule!.targets.patterns!.matches('good-2')).toBe(true);
    expect(rule!.targets.patterns!.matches('ns-')).toBe(false);
  });

  it('gives no rule when every pattern is invalid, but reports them', () => {
    const r = pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: '[' }));
    expect(r.rule).toBeUndefined();
    expect(r.problems).toHaveLength(1);
  });

  it('gives no rule for an empty replicate-to (nothing to target)', () => {
    expect(pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: '' }))).toEqual({ problems: [] });
    expect(pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: ' , ' }))).toEqual({ problems: [] });
  });

  it('treats * as every namespace', () => {
    const { rule } = pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: '*' }));
    expect(rule!.targets.patterns!.matches('anything')).toBe(true);
  });

  it('builds a selector from replicate-to-matching', () => {
    const { rule, problems } = pushRuleFromAnnotations('Secret', obj({ [A.replicateToMatching]: 'env in (prod, stage),!legacy' }));
    expect(problems).toEqual([]);
    expect(rule!.targets.patterns).toBeUndefined();
    const s = rule!.targets.selector!;
    expect(s.matches({ env: 'prod' })).toBe(true);
    expect(s.matches({ env: 'prod', legacy: '' })).toBe(false);
    expect(s.matches({ env: 'dev' })).toBe(false);
  });

  it('an empty replicate-to-matching selects every namespace (apimachinery semantics)', () => {
    const { rule } = pushRuleFromAnnotations('Secret', obj({ [A.replicateToMatching]: '' }));
    expect(rule!.targets.selector!.matches({})).toBe(true);
  });

  it('reports an invalid selector and keeps replicate-to working', () => {
    const { rule, problems } = pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: 'ns-1', [A.replicateToMatching]: 'env in (prod' }));
    expect(problems).toEqual([{ field: A.replicateToMatching, message: expect.stringMatching(/^invalid label selector: /) }]);
    expect(rule!.targets.patterns!.matches('ns-1')).toBe(true);
    expect(rule!.targets.selector).toBeUndefined();
  });

  it('gives no rule for an invalid selector alone', () => {
    const r = pushRuleFromAnnotations('Secret', obj({ [A.replicateToMatching]: 'a=b,' }));
    expect(r.rule).toBeUndefined();
    expect(r.problems).toHaveLength(1);
  });

  it('keeps both targets when both annotations are set', () => {
    const { rule } = pushRuleFromAnnotations('Role', obj({ [A.replicateTo]: 'ns-1', [A.replicateToMatching]: 'team=a' }));
    expect(rule!.targets.patterns!.matches('ns-1')).toBe(true);
    expect(rule!.targets.selector!.matches({ team: 'a' })).toBe(true);
  });

  it.each<[string | undefined, boolean]>([
    ['true', true], ['True', true], ['TRUE', true], ['1', true], ['t', true], [' true ', true],
    // Documented divergence: mittwald strips labels on any value, even "false" and "".
    ['false', false], ['', false], ['0', false], ['no', false], ['yes', false], [undefined, false],
  ])('strip-labels %j → %s', (value, expected) => {
    const annotations: Record<string, string> = { [A.replicateTo]: 'x' };
    if (value !== undefined) annotations[A.stripLabels] = value;
    expect(pushRuleFromAnnotations('Secret', obj(annotations)).rule!.stripLabels).toBe(expected);
  });

  it.each<[string | undefined, boolean]>([
    ['true', true],
    // mittwald compares with "true" exactly.
    ['True', false], ['1', false], [' true', false], ['false', false], [undefined, false],
  ])('keep-owner-references %j → %s', (value, expected) => {
    const annotations: Record<string, string> = { [A.replicateTo]: 'x' };
    if (value !== undefined) annotations[A.keepOwnerReferences] = value;
    expect(pushRuleFromAnnotations('Secret', obj(annotations)).rule!.keepOwnerReferences).toBe(expected);
  });

  it('makes the id unique per kind, namespace and name', () => {
    const ids = new Set([
      pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: 'x' })).rule!.id,
      pushRuleFromAnnotations('ConfigMap', obj({ [A.replicateTo]: 'x' })).rule!.id,
      pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: 'x' }, { namespace: 'team-b' })).rule!.id,
      pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: 'x' }, { name: 'other' })).rule!.id,
    ]);
    expect(ids.size).toBe(4);
  });

  it('is pure: the same object gives equal results', () => {
    const o = obj({ [A.replicateTo]: 'a,[', [A.replicateToMatching]: 'x=y' });
    const a = pushRuleFromAnnotations('Secret', o);
    const b = pushRuleFromAnnotations('Secret', o);
    expect(b.problems).toEqual(a.problems);
    expect(b.rule!.id).toBe(a.rule!.id);
  });
});

describe('pullSourceFromAnnotations', () => {
  it('gives nothing without replicate-from', () => {
    expect(pullSourceFromAnnotations('Secret', obj(undefined))).toEqual({});
    expect(pullSourceFromAnnotations('Secret', obj({ [A.replicateTo]: 'x' }))).toEqual({});
  });

  it.each<[string, string, string]>([
    ['src/name', 'src', 'name'],
    [' src/name ', 'src', 'name'],
    ['src / name', 'src', 'name'],
    ['\tsrc/name\n', 'src', 'name'],
    ['a/b.c-d', 'a', 'b.c-d'],
  ])('%j → %s/%s', (value, namespace, name) => {
    expect(pullSourceFromAnnotations('ConfigMap', obj({ [A.replicateFrom]: value }))).toEqual({ source: { kind: 'ConfigMap', namespace, name }, via: A.replicateFrom });
  });

  it.each(['', 'name-only', '/name', 'ns/', ' / ', '/', 'a/b/c', 'ns//name'])('%j is invalid', (value) => {
    const r = pullSourceFromAnnotations('Secret', obj({ [A.replicateFrom]: value }));
    expect(r.source).toBeUndefined();
    expect(r.problem).toEqual({ field: A.replicateFrom, message: `"${value}" is not of the form <namespace>/<name>` });
  });

  it('truncates a huge value in the message', () => {
    const value = 'x'.repeat(10_000);
    const r = pullSourceFromAnnotations('Secret', obj({ [A.replicateFrom]: value }));
    expect(r.problem!.message.length).toBeLessThan(200);
  });
});

describe('pullConsent', () => {
  const consenting = (allowed: string | undefined, namespaces: string | undefined): KubeObject => {
    const a: Record<string, string> = {};
    if (allowed !== undefined) a[A.replicationAllowed] = allowed;
    if (namespaces !== undefined) a[A.replicationAllowedNamespaces] = namespaces;
    return obj(a);
  };

  it.each<[string | undefined, string | undefined, string, boolean]>([
    ['true', 'dst', 'dst', true],
    ['1', 'dst', 'dst', true],
    ['T', 'dst', 'dst', true],
    ['True', 'dst', 'dst', true],
    ['true', 'a, dst ,b', 'dst', true],
    ['true', 'dst-[0-9]+', 'dst-7', true],
    ['true', '*', 'anything', true],
    ['true', 'team-a', 'team-a', true], // same namespace still needs consent, and gets it here
    ['true', 'dst', 'dst-2', false], // whole-name match
    ['true', 'dst-[0-9]+', 'xdst-7', false],
    ['true', '', 'dst', false],
    ['true', '[', 'dst', false],
    ['true', undefined, 'dst', false],
    ['false', 'dst', 'dst', false],
    ['yes', 'dst', 'dst', false],
    [' true', 'dst', 'dst', false],
    [undefined, 'dst', 'dst', false],
    [undefined, undefined, 'team-a', false],
  ])('replication-allowed=%j, namespaces=%j, target %s → %s', (allowed, namespaces, target, expected) => {
    const c = pullConsent('Secret', consenting(allowed, namespaces), target, false);
    expect(c.allowed).toBe(expected);
    expect(c.reason).toEqual(expect.any(String));
  });

  it('names what is missing', () => {
    expect(pullConsent('Secret', consenting(undefined, 'dst'), 'dst', false).reason).toContain(A.replicationAllowed);
    expect(pullConsent('Secret', consenting('true', undefined), 'dst', false).reason).toContain(A.replicationAllowedNamespaces);
    expect(pullConsent('Secret', consenting('true', 'x'), 'dst', false).reason).toContain('namespace dst');
  });

  it('--allow-all allows without any annotation', () => {
    expect(pullConsent('Secret', obj(undefined), 'dst', true)).toEqual({ allowed: true, reason: 'allowed by --allow-all' });
    expect(pullConsent('Secret', consenting('false', undefined), 'dst', true).allowed).toBe(true);
  });
});

describe('replicate-to and the pattern memory budget', () => {
  afterEach(() => resetPatterns());
  const MiB = 1024 * 1024;
  const bigList = (seed: string) => Array.from({ length: 1000 }, (_, j) => `${seed}q${j}.*`).join(',');
  const source = (name: string, list: string, extra: Record<string, string> = {}) =>
    obj({ [A.replicateTo]: list, ...extra }, { name });

  it('a list over the namespace\'s share refuses the whole rule, selector included, with one problem naming the budget', () => {
    configurePatternBudget(64 * MiB, 4 * MiB);
    expect(pushRuleFromAnnotations('Secret', source('s1', bigList('a'))).rule).toBeDefined();
    const refused = pushRuleFromAnnotations('Secret', source('s2', bigList('b'), { [A.replicateToMatching]: 'env=prod' }));
    expect(refused.rule).toBeUndefined();
    expect(refused.problems).toHaveLength(1);
    expect(refused.problems[0]!.field).toBe(A.replicateTo);
    expect(refused.problems[0]!.message).toMatch(/^the pattern list is refused: .*namespace team-a .*over its share \(4\.0 MiB\) of --pattern-memory-budget/);
    // Parsing the same source again gives the same answer.
    expect(pushRuleFromAnnotations('Secret', source('s2', bigList('b')))).toEqual({ problems: refused.problems });
  });

  it('a source that drops replicate-to, or is forgotten, gives its share back', () => {
    pushRuleFromAnnotations('Secret', source('s1', bigList('a')));
    pushRuleFromAnnotations('ConfigMap', source('s1', bigList('c')));
    expect(patternMemoryUsage().shares['team-a']).toBeGreaterThan(0);
    pushRuleFromAnnotations('Secret', obj({ [A.replicateToMatching]: 'a=b' }, { name: 's1' }));
    forgetPushSource('ConfigMap', 'team-a', 's1');
    expect(patternMemoryUsage().shares).toEqual({});
  });

  it('sources with the same list share one compiled program', () => {
    const a = pushRuleFromAnnotations('Secret', source('s1', bigList('same'))).rule!;
    const b = pushRuleFromAnnotations('Secret', obj({ [A.replicateTo]: bigList('same') }, { name: 's2', namespace: 'team-b' })).rule!;
    expect(b.targets.patterns).toBe(a.targets.patterns);
  });
});
