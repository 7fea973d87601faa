import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../model/objects.ts';
import { declaresPull, forgetPushSource, pullConsent, pullSourceFromAnnotations, pushRuleFromAnnotations } from './annotation-rules.ts';
import { configurePatternBudget, patternMemoryUsage, resetPatterns } from './patterns.ts';
import { isReflectorAutoMirror, parseReflectorBool, reflectorConsent, reflectorSource } from './reflector-rules.ts';
import { namedTargets, targetsNamespace } from './targeting.ts';
import { defaultSettings, type TargetNamespaces } from './types.ts';
import { annotations as A, reflector as R } from './vocabulary.ts';

function obj(annotations: Record<string, string> | undefined, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { metadata: { name: 'cfg', namespace: 'team-a', creationTimestamp: '2021-02-03T04:05:06Z', annotations, ...meta } };
}
const view = (name: string) => ({ name, labels: {}, terminating: false });
const reaches = (t: TargetNamespaces | undefined, name: string) => t !== undefined && targetsNamespace(t, 'team-a', view(name), defaultSettings);

describe('parseReflectorBool (.NET bool parsing of the trimmed value)', () => {
  it.each<[string | undefined, boolean | undefined]>([
    ['true', true], ['True', true], ['TRUE', true], ['tRuE', true], [' true ', true], ['\ttrue\n', true],
    ['false', false], ['False', false], [' FALSE', false],
    [undefined, undefined], ['', undefined], ['1', undefined], ['t', undefined], ['yes', undefined], ['on', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseReflectorBool(value)).toBe(expected);
  });
});

describe('reflectorSource: auto-reflection (push)', () => {
  it('needs both reflection-allowed and reflection-auto-enabled', () => {
    expect(reflectorSource('Secret', obj({ [R.allowed]: 'true' })).targets).toBeUndefined();
    expect(reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'false' })).targets).toBeUndefined();
    const alone = reflectorSource('Secret', obj({ [R.autoEnabled]: 'true' }));
    expect(alone.targets).toBeUndefined();
    expect(alone.problems).toEqual([{ field: R.autoEnabled, message: expect.stringContaining(R.allowed) }]);
    expect(reflectorSource('Secret', obj({ [R.allowed]: 'True', [R.autoEnabled]: 'TRUE' })).targets).toBeDefined();
  });

  it('reaches every namespace but its own when both lists are absent or empty', () => {
    for (const a of [{}, { [R.autoNamespaces]: '' }, { [R.allowedNamespaces]: '' }, { [R.allowedNamespaces]: '', [R.autoNamespaces]: '' }] as Record<string, string>[]) {
      const t = reflectorSource('ConfigMap', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', ...a })).targets;
      for (const ns of ['a', 'team-b', 'prod-1']) expect(reaches(t, ns)).toBe(true);
      expect(reaches(t, 'team-a')).toBe(false);
    }
  });

  it('reaches the auto list held within the allowed list, whole names, comma lists trimmed', () => {
    const t = reflectorSource('Secret', obj({
      [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.allowedNamespaces]: 'ns-1, ns-2 ,ns-[0-9]*', [R.autoNamespaces]: 'ns-[0-9]+,other',
    })).targets;
    expect(['ns-1', 'ns-2', 'ns-42'].filter((n) => reaches(t, n))).toEqual(['ns-1', 'ns-2', 'ns-42']);
    // other: in the auto list but not allowed; ns-1x, xns-1: not whole-name matches.
    expect(['other', 'ns-1x', 'xns-1', 'ns-'].filter((n) => reaches(t, n))).toEqual([]);
  });

  it('matches alternatives against the whole name (Reflector misses `a|ab` against `ab`; we do not)', () => {
    const t = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'a|ab' })).targets;
    expect(reaches(t, 'ab')).toBe(true);
    expect(reaches(t, 'abc')).toBe(false);
  });

  it('matches nothing with a list of blanks only (as Reflector does: only an empty value means all)', () => {
    const t = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: ' , ' })).targets;
    expect(['a', 'b'].some((n) => reaches(t, n))).toBe(false);
  });

  it('names its literal targets so that callers need not test every namespace', () => {
    const t = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.allowedNamespaces]: 'x,y' })).targets!;
    expect([...namedTargets(t)!].sort()).toEqual(['x', 'y']);
  });

  it('reports invalid booleans (read as false) and invalid patterns (the valid ones keep working)', () => {
    const r = reflectorSource('Secret', obj({ [R.allowed]: 'yes', [R.autoEnabled]: 'true' }));
    expect(r.targets).toBeUndefined();
    expect(r.problems.map((p) => p.field)).toEqual([R.allowed, R.autoEnabled]);
    expect(r.problems[0]!.message).toContain('read as false');
    const bad = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'ok,(?<=x)y' }));
    expect(bad.problems).toEqual([{ field: R.autoNamespaces, message: expect.stringContaining('(?<=x)y') }]);
    expect(reaches(bad.targets, 'ok')).toBe(true);
  });

  it('label selectors: ORed with the name list; alone, only the selector counts; an invalid one matches nothing', () => {
    const labelled = (name: string, labels: Record<string, string>) => ({ name, labels, terminating: false });
    const at = (t: TargetNamespaces | undefined, ns: ReturnType<typeof labelled>) => t !== undefined && targetsNamespace(t, 'team-a', ns, defaultSettings);
    const alone = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespacesSelector]: 'env=prod' }));
    expect(alone.problems).toEqual([]);
    expect(at(alone.targets, labelled('p', { env: 'prod' }))).toBe(true);
    expect(at(alone.targets, labelled('d', { env: 'dev' }))).toBe(false);
    const ored = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'named', [R.autoNamespacesSelector]: 'team in (a,b)' }));
    expect(['named', 'x'].map((n) => at(ored.targets, labelled(n, n === 'x' ? { team: 'b' } : {})))).toEqual([true, true]);
    expect(at(ored.targets, labelled('y', { team: 'c' }))).toBe(false);
    // The allowed selector holds the auto list too.
    const held = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.allowedNamespacesSelector]: 'tier=shared' }));
    expect(at(held.targets, labelled('s', { tier: 'shared' }))).toBe(true);
    expect(at(held.targets, labelled('o', {}))).toBe(false);
    const bad = reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespacesSelector]: 'env in (' }));
    expect(bad.problems).toEqual([{ field: R.autoNamespacesSelector, message: expect.stringContaining('matches no namespace') }]);
    expect(at(bad.targets, labelled('p', { env: 'prod' }))).toBe(false);
    // Reported on a source that does not auto-reflect, too.
    expect(reflectorSource('Secret', obj({ [R.allowed]: 'true', [R.allowedNamespacesSelector]: '!!' })).problems.map((p) => p.field)).toEqual([R.allowedNamespacesSelector]);
  });

  it('means nothing on kinds Reflector does not handle', () => {
    const a = { [R.allowed]: 'true', [R.autoEnabled]: 'true' };
    for (const kind of ['Role', 'RoleBinding', 'ServiceAccount']) {
      expect(reflectorSource(kind, obj(a))).toEqual({ problems: [] });
      expect(pushRuleFromAnnotations(kind, obj(a)).rule).toBeUndefined();
    }
  });
});

describe('pushRuleFromAnnotations with Reflector annotations', () => {
  afterEach(() => resetPatterns());

  it('makes the same annotation rule as mittwald, labels not carried (Reflector copies none)', () => {
    const { rule, problems } = pushRuleFromAnnotations('Secret', obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'b' }));
    expect(problems).toEqual([]);
    expect(rule).toMatchObject({ id: 'annotation:Secret/team-a/cfg', origin: { type: 'annotation' }, priority: 0, onConflict: 'Skip', stripLabels: true });
  });

  it('joins both dialects on one source into one rule reaching the union', () => {
    const { rule } = pushRuleFromAnnotations('Secret', obj({
      [A.replicateTo]: 'm-1', [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: 'r-1', [R.allowedNamespaces]: 'r-1',
    }));
    expect(['m-1', 'r-1'].filter((n) => reaches(rule!.targets, n))).toEqual(['m-1', 'r-1']);
    expect(reaches(rule!.targets, 'other')).toBe(false);
    expect([...namedTargets(rule!.targets)!].sort()).toEqual(['m-1', 'r-1']);
    // mittwald's strip-labels decides once mittwald pushes too.
    expect(rule!.stripLabels).toBe(false);
  });

  it('holds Reflector lists against the pattern memory budget, and frees them when the source goes', () => {
    const MiB = 1024 * 1024;
    const bigList = (seed: string) => Array.from({ length: 1000 }, (_, j) => `${seed}q${j}.*`).join(',');
    configurePatternBudget(64 * MiB, 4 * MiB);
    const auto = (name: string, list: string) => obj({ [R.allowed]: 'true', [R.autoEnabled]: 'true', [R.autoNamespaces]: list }, { name });
    expect(pushRuleFromAnnotations('Secret', auto('s1', bigList('a'))).rule).toBeDefined();
    expect(patternMemoryUsage().shares['team-a']).toBeGreaterThan(0);
    const refused = pushRuleFromAnnotations('Secret', auto('s2', bigList('b')));
    expect(refused.rule).toBeUndefined();
    expect(refused.problems).toEqual([{ field: R.autoNamespaces, message: expect.stringMatching(/^the pattern list is refused: .*--pattern-memory-budget/) }]);
    forgetPushSource('Secret', 'team-a', 's1');
    forgetPushSource('Secret', 'team-a', 's2');
    expect(patternMemoryUsage().shares).toEqual({});
  });
});

describe('pulls in the Reflector dialect (reflects)', () => {
  it('reads reflects as the source, like replicate-from', () => {
    expect(pullSourceFromAnnotations('Secret', obj({ [R.reflects]: ' src / name ' }))).toEqual({ source: { kind: 'Secret', namespace: 'src', name: 'name' }, via: R.reflects });
    expect(declaresPull('ConfigMap', obj({ [R.reflects]: '' }))).toBe(true);
  });

  it.each(['', 'name-only', '/name', 'ns/', 'a/b/c'])('reports %j as invalid, naming reflects', (value) => {
    expect(pullSourceFromAnnotations('Secret', obj({ [R.reflects]: value })).problem).toEqual({ field: R.reflects, message: expect.stringContaining('<namespace>/<name>') });
  });

  it('is no pull on a mirror Reflector made by auto-reflection, nor on kinds Reflector does not handle', () => {
    const auto = obj({ [R.reflects]: 'src/name', [R.autoReflects]: 'True', [R.reflectedVersion]: '12' });
    expect(isReflectorAutoMirror(auto)).toBe(true);
    expect(pullSourceFromAnnotations('Secret', auto)).toEqual({});
    expect(declaresPull('Secret', auto)).toBe(false);
    expect(pullSourceFromAnnotations('Secret', obj({ [R.reflects]: 'src/name', [R.autoReflects]: 'False' })).source).toBeDefined();
    expect(pullSourceFromAnnotations('Role', obj({ [R.reflects]: 'src/name' }))).toEqual({});
  });

  it('accepts both dialects on one target when they name the same source, and refuses two sources', () => {
    expect(pullSourceFromAnnotations('Secret', obj({ [R.reflects]: 'src/name', [A.replicateFrom]: 'src/name' })).source).toEqual({ kind: 'Secret', namespace: 'src', name: 'name' });
    expect(pullSourceFromAnnotations('Secret', obj({ [R.reflects]: 'src/one', [A.replicateFrom]: 'src/two' })).problem?.field).toBe(R.reflects);
  });
});

describe('consent in the Reflector dialect', () => {
  const src = (a: Record<string, string>) => obj(a, { namespace: 'src' });
  it.each<[Record<string, string>, string, boolean]>([
    [{ [R.allowed]: 'true' }, 'any', true],
    [{ [R.allowed]: 'true', [R.allowedNamespaces]: '' }, 'any', true],
    [{ [R.allowed]: 'True', [R.allowedNamespaces]: 'a,b-[0-9]+' }, 'b-7', true],
    [{ [R.allowed]: 'true', [R.allowedNamespaces]: 'a,b-[0-9]+' }, 'c', false],
    [{ [R.allowed]: 'true', [R.allowedNamespaces]: 'a' }, 'ab', false],
    [{ [R.allowed]: 'false' }, 'any', false],
    [{ [R.allowed]: 'yes' }, 'any', false],
    [{ [R.allowedNamespaces]: '' }, 'any', false],
    [{ [R.allowed]: 'true', [R.allowedNamespacesSelector]: 'env=prod' }, 'any', false],
    [{ [R.allowed]: 'true', [R.allowedNamespacesSelector]: 'env in (' }, 'any', false],
  ])('%j into %s → %s', (a, ns, allowed) => {
    expect(pullConsent('Secret', src(a), ns, false, R.reflects).allowed).toBe(allowed);
  });

  it('a selector consents by the namespace\'s labels, ORed with the list', () => {
    const a = src({ [R.allowed]: 'true', [R.allowedNamespaces]: 'named', [R.allowedNamespacesSelector]: 'env=prod' });
    expect(pullConsent('Secret', a, { name: 'x', labels: { env: 'prod' }, terminating: false }, false, R.reflects).allowed).toBe(true);
    expect(pullConsent('Secret', a, { name: 'named', labels: {}, terminating: false }, false, R.reflects).allowed).toBe(true);
    expect(pullConsent('Secret', a, { name: 'x', labels: { env: 'dev' }, terminating: false }, false, R.reflects).allowed).toBe(false);
  });

  it('counts consent given in either dialect, for a pull in either dialect', () => {
    const both = src({ [A.replicationAllowed]: 'true', [A.replicationAllowedNamespaces]: 'm', [R.allowed]: 'true', [R.allowedNamespaces]: 'r' });
    for (const via of [A.replicateFrom, R.reflects]) {
      expect(['m', 'r', 'x'].map((ns) => pullConsent('ConfigMap', both, ns, false, via).allowed)).toEqual([true, true, false]);
    }
  });

  it('explains a refusal in the dialect the puller used, and ignores Reflector consent on other kinds', () => {
    expect(pullConsent('Secret', src({}), 'x', false, R.reflects).reason).toContain(A.replicationAllowed);
    expect(pullConsent('Secret', src({ [R.allowed]: 'false' }), 'x', false, R.reflects).reason).toContain(R.allowed);
    expect(reflectorConsent('Role', src({ [R.allowed]: 'true' }), view('x'))).toBeUndefined();
    expect(pullConsent('Role', src({ [R.allowed]: 'true' }), 'x', false).allowed).toBe(false);
  });
});
