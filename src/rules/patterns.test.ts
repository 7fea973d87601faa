import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RE2JS } from 're2js';
import {
  clearPatternCache,
  compileWholeName,
  configurePatternBudget,
  defaultPatternBudget,
  defaultPatternLimits,
  estimateProgramSize,
  goTrimSpace,
  parseExcludePatterns,
  parseNamespacePatterns,
  patternMemoryUsage,
  releasePatterns,
  resetPatterns,
  truncate,
} from './patterns.ts';

describe('parseNamespacePatterns: whole-name semantics', () => {
  it.each<[string, string, boolean]>([
    ['namespace-[0-9]*', 'namespace-12', true],
    ['namespace-[0-9]*', 'foonamespace-12', false],
    ['namespace-[0-9]*', 'namespace-', true],
    // mittwald builds `^a|b$`, which matches `axxx`; every element here must match the whole name.
    ['a|b', 'axxx', false],
    ['a|b', 'xxb', false],
    ['a|b', 'a', true],
    ['a|b', 'b', true],
    ['(a|b)', 'axxx', false],
    ['(a|b)', 'b', true],
    ['*', 'anything-at-all', true],
    ['.*', 'anything-at-all', true],
    [' ns-1 ', 'ns-1', true],
    ['\tns-1\n', 'ns-1', true],
    // Go's TrimSpace is Unicode-aware: NBSP and the ideographic space are trimmed too.
    ['\u00a0ns-1\u3000', 'ns-1', true],
    ['^ns-1', 'ns-10', false],
    ['^ns-1', 'ns-1', true],
    ['ns-1$', 'ns-1', true],
    ['^ns-1$', 'xns-1', false],
    ['(?i)NS', 'ns', true],
    ['NS', 'ns', false],
    ['\u201dkip', 'kip', false],
    ['prod', 'production', false],
    ['prod', 'my-prod', false],
    ['team-.*, prod', 'team-a', true],
    ['team-.*, prod', 'prod', true],
    ['team-.*, prod', 'staging', false],
    ['a,', 'a', true],
    [',', '', false],
    ['', '', false],
    ['', 'default', false],
    ['a$b', 'a$b', false],
    // Elements are parsed separately: flags and \Q do not leak into the next element.
    ['(?i)NS, ab', 'AB', false],
    ['(?i)NS, ab', 'ab', true],
    ['\\Qa.b', 'a.b', true],
    ['\\Qa.b', 'axb', false],
    ['\\Qa, b', 'b', true],
    // Duplicate group names across elements are fine, since each is its own program.
    ['(?P<x>a), (?P<x>b)', 'b', true],
    ['(?<x>a)', 'a', true],
  ])('%j matches %j: %s', (list, namespace, expected) => {
    const patterns = parseNamespacePatterns(list);
    expect(patterns.errors).toEqual([]);
    expect(patterns.matches(namespace)).toBe(expected);
  });

  it.each<[string, string[]]>([
    [' team-.* , prod,,', ['team-.*', 'prod']],
    ['*', ['*']],
    ['a, ^(?!kube-).*, b', ['a', 'b']],
    ['', []],
    [' , ,', []],
  ])('keeps the valid trimmed elements of %j', (list, elements) => {
    const patterns = parseNamespacePatterns(list);
    expect(patterns.source).toBe(list);
    expect(patterns.elements).toEqual(elements);
  });

  it.each<[string, boolean]>([
    ['*', true],
    [' * ', true],
    ['a, *', true],
    ['.*', true],
    ['a,.*', true],
    ['.+', false],
    ['a', false],
    ['', false],
    ['**', false],
  ])('matchesEverything of %j is %s', (list, expected) => {
    expect(parseNamespacePatterns(list).matchesEverything).toBe(expected);
  });
});

describe('invalid elements', () => {
  it.each<[string, string, RegExp]>([
    ['^(?!kube-).*', '^(?!kube-).*', /unsupported Perl syntax/],
    ['(?<=a)b', '(?<=a)b', /error parsing regexp/],
    ['(a)\\1', '(a)\\1', /invalid escape/],
    ['ns-[', 'ns-[', /missing closing ]/],
    ['(ns', '(ns', /missing closing \)/],
    ['a**', 'a**', /nested repetition/],
    ['x{1001}', 'x{1001}', /invalid repeat count/],
  ])('%j is reported and skipped while other elements still work', (bad, element, reason) => {
    const patterns = parseNamespacePatterns(`ok-1, ${bad}, ok-2`);
    expect(patterns.errors).toHaveLength(1);
    expect(patterns.errors[0]!.element).toBe(element);
    expect(patterns.errors[0]!.reason).toMatch(reason);
    expect(patterns.elements).toEqual(['ok-1', 'ok-2']);
    expect(patterns.matches('ok-1')).toBe(true);
    expect(patterns.matches('ok-2')).toBe(true);
    expect(patterns.matches('kube-system')).toBe(false);
  });

  it('truncates long elements and reasons in errors', () => {
    const long = `(${'a'.repeat(900)}`;
    const [error] = parseNamespacePatterns(long).errors;
    expect(error!.element).toBe(`${long.slice(0, 100)}…`);
    expect(error!.reason.length).toBeLessThanOrEqual(301);
    expect(error!.reason).toMatch(/missing closing \)/);
  });

  it.each<[unknown]>([['\uD800'], ['\uDC00x'], ['\u0000'], ['a'.repeat(2000)], [',,,,,']])(
    'never throws for odd input %#',
    (list) => {
      const patterns = parseNamespacePatterns(list as string);
      expect(patterns.matches('\uD800')).toBe(patterns.elements.includes('\uD800'));
    },
  );
});

describe('never throws', () => {
  it.each([
    ['parseNamespacePatterns', parseNamespacePatterns],
    ['parseExcludePatterns', parseExcludePatterns],
  ] as const)('%s turns a non-string into an error without caching it', (_name, parse) => {
    const broken = parse(undefined as unknown as string);
    expect(broken.errors[0]!.reason).toMatch(/^internal error: /);
    expect(broken.matches('undefined')).toBe(false);
    const literal = parse('undefined');
    expect(literal.errors).toEqual([]);
    expect(literal.matches('undefined')).toBe(true);
  });

  it('compileWholeName reports a non-string as an error', () => {
    const result = compileWholeName(null as unknown as string);
    expect(result.ok).toBe(false);
  });
});

describe('parseExcludePatterns: unanchored semantics, no trimming', () => {
  it.each<[string, string, boolean]>([
    ['kube', 'kube-system', true],
    ['kube', 'my-kube', true],
    ['kube', 'kub', false],
    ['^kube-', 'kube-system', true],
    ['^kube-', 'my-kube-system', false],
    ['-system$', 'kube-system', true],
    ['-system$', 'kube-system-2', false],
    ['^kube-system$', 'kube-system', true],
    ['^kube-system$', 'kube-system-x', false],
    ['a|b', 'xxb', true],
    ['foo,kube', 'kube-public', true],
    ['foo,,bar', 'default', false],
    // Not trimmed, as in mittwald: the space is part of the pattern.
    ['foo, kube-public', 'kube-public', false],
    ['foo,kube-public ', 'kube-public', false],
    ['(?i)KUBE', 'kube-system', true],
    ['.*', 'default', true],
    ['', 'default', false],
  ])('%j excludes %j: %s', (list, namespace, expected) => {
    expect(parseExcludePatterns(list).matches(namespace)).toBe(expected);
  });

  it('keeps untrimmed elements and skips empty ones', () => {
    const patterns = parseExcludePatterns('kube-, ,,openshift-');
    expect(patterns.elements).toEqual(['kube-', ' ', 'openshift-']);
    expect(patterns.errors).toEqual([]);
  });

  it('treats `*` as an invalid RE2 pattern, like mittwald, and keeps the rest', () => {
    const patterns = parseExcludePatterns('*,kube-');
    expect(patterns.matchesEverything).toBe(false);
    expect(patterns.errors.map((e) => e.element)).toEqual(['*']);
    expect(patterns.errors[0]!.reason).toMatch(/missing argument to repetition operator/);
    expect(patterns.matches('kube-system')).toBe(true);
    expect(patterns.matches('default')).toBe(false);
  });

  it('reports invalid elements and skips them', () => {
    const patterns = parseExcludePatterns('(?!x),kube');
    expect(patterns.errors.map((e) => e.element)).toEqual(['(?!x)']);
    expect(patterns.matches('kube-system')).toBe(true);
  });
});

describe('the combined program agrees with re2js on each element alone', () => {
  const elements = ['a|b', '(a|b)', '^ns-1', 'ns-1$', 'namespace-[0-9]*', '(?i)NS', 'kube', '.*-prod', 'x?', '^$', '\\pL+'];
  const names = ['a', 'b', 'axxx', 'xxb', 'ns-1', 'ns-10', 'xns-1', 'namespace-7', 'NS', 'ns', 'kube-system', 'my-kube', 'team-prod', 'x', ''];
  const cases = elements.flatMap((e) => names.map((n) => [e, n] as const));

  // RE2JS#matches is whole-input matching; Matcher#find is an unanchored search.
  it.each(cases)('%j against %j', (element, name) => {
    const alone = RE2JS.compile(element);
    expect(parseNamespacePatterns(element).matches(name)).toBe(alone.matches(name));
    expect(parseExcludePatterns(element).matches(name)).toBe(alone.matcher(name).find());
  });

  it.each(names)('the joined list matches %j iff some element does', (name) => {
    const whole = parseNamespacePatterns(elements.join(','));
    const exclude = parseExcludePatterns(elements.join(','));
    expect(whole.matches(name)).toBe(elements.some((e) => RE2JS.compile(e).matches(name)));
    expect(exclude.matches(name)).toBe(elements.some((e) => RE2JS.compile(e).matcher(name).find()));
  });
});

describe('compileWholeName', () => {
  it.each<[string, string, boolean]>([
    ['team-.*', 'team-a', true],
    ['team-.*', 'my-team-a', false],
    ['a|b', 'axxx', false],
    ['a|b', 'b', true],
    ['*', 'anything', true],
    [' ns-1 ', 'ns-1', true],
    ['(?i)NS', 'ns', true],
    // A single pattern is not split on commas.
    ['a,b', 'a,b', true],
    ['a,b', 'a', false],
  ])('%j matches %j: %s', (pattern, name, expected) => {
    const result = compileWholeName(pattern);
    if (!result.ok) throw new Error(`expected ${pattern} to compile: ${result.reason}`);
    expect(result.matches(name)).toBe(expected);
  });

  it.each<[string, RegExp]>([
    ['', /empty pattern/],
    ['  ', /empty pattern/],
    ['^(?!kube-).*', /unsupported Perl syntax/],
    ['ns-[', /missing closing ]/],
    ['a'.repeat(1025), /longer than 1024 characters/],
    [`(?:${'a'.repeat(1000)}){1000}`, /too complex/],
  ])('rejects %j', (pattern, reason) => {
    const result = compileWholeName(pattern);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});

describe('limits', () => {
  it('compiles only the first maxElements elements and reports how many were ignored', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `team-${i}`).join(',');
    const patterns = parseNamespacePatterns(list);
    expect(patterns.elements).toHaveLength(defaultPatternLimits.maxElements);
    expect(patterns.errors).toEqual([{ element: 'team-1000', reason: '9000 more element(s) ignored: at most 1000 are allowed' }]);
    expect(patterns.matches('team-0')).toBe(true);
    expect(patterns.matches('team-999')).toBe(true);
    expect(patterns.matches('team-1000')).toBe(false);
    expect(patterns.matches('team-9999')).toBe(false);
    expect(patterns.matches('team-99x')).toBe(false);
  });

  it('does not count empty elements towards maxElements', () => {
    const patterns = parseNamespacePatterns(',,a,,,b,,c', { maxElements: 2, maxElementLength: 10 });
    expect(patterns.elements).toEqual(['a', 'b']);
    expect(patterns.errors).toEqual([{ element: 'c', reason: '1 more element(s) ignored: at most 2 are allowed' }]);
  });

  it.each<[string, number, boolean]>([
    ['abcd', 4, true],
    ['abcde', 4, false],
    [' abcd ', 4, true],
  ])('element %j with maxElementLength %d is accepted: %s', (element, max, accepted) => {
    const patterns = parseNamespacePatterns(`${element},ok`, { maxElements: 10, maxElementLength: max });
    expect(patterns.matches(element.trim())).toBe(accepted);
    expect(patterns.errors.map((e) => e.reason)).toEqual(accepted ? [] : [`pattern is longer than ${max} characters`]);
    expect(patterns.matches('ok')).toBe(true);
  });

  it('rejects an element whose expansion exceeds the program-size budget before compiling it', () => {
    const bomb = `(?:${'a'.repeat(1000)}){1000}`;
    const patterns = parseNamespacePatterns(`${bomb},ok`);
    expect(patterns.elements).toEqual(['ok']);
    expect(patterns.errors[0]!.reason).toMatch(/^pattern is too complex \(estimated program size \d+ exceeds 50000\)$/);
    expect(patterns.matches('a'.repeat(1000))).toBe(false);
  });

  it('stops admitting elements once the list budget is spent', () => {
    // Each element is estimated at about 1000 instructions, so a budget of 2500 admits two.
    expect(estimateProgramSize('[a-z]{500}')).toBeGreaterThan(1000);
    expect(estimateProgramSize('[a-z]{500}')).toBeLessThan(1250);
    const limits = { maxElements: 100, maxElementLength: 100, maxProgramSize: 2500 };
    const patterns = parseNamespacePatterns('[a-z]{500},[0-9]{500},[A-Z]{500},x', limits);
    expect(patterns.elements).toEqual(['[a-z]{500}', '[0-9]{500}', 'x']);
    expect(patterns.errors).toEqual([
      { element: '[A-Z]{500}', reason: 'pattern list is too complex (estimated program size of the list exceeds 2500)' },
    ]);
    expect(patterns.matches('x')).toBe(true);
    expect(patterns.matches('A'.repeat(500))).toBe(false);
  });

  it('splits inside {m,n}, as mittwald does: such repeats only work via compileWholeName', () => {
    // RE2 reads an incomplete `{1` as a literal brace, so both halves are (useless) valid patterns.
    const patterns = parseNamespacePatterns('[a-z]{1,3}');
    expect(patterns.elements).toEqual(['[a-z]{1', '3}']);
    expect(patterns.matches('abc')).toBe(false);
    expect(patterns.matches('a{1')).toBe(true);
    const single = compileWholeName('[a-z]{1,3}');
    expect(single.ok && single.matches('abc')).toBe(true);
  });

  it('survives nonsensical limits without throwing', () => {
    const patterns = parseNamespacePatterns('a,b', { maxElements: -1, maxElementLength: Number.NaN });
    expect(patterns.elements).toEqual([]);
    expect(patterns.matches('a')).toBe(false);
    expect(patterns.errors).toHaveLength(1);
  });
});

describe('hostile input', () => {
  it('handles a 10,000-element list', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => `(a+)+${i}|ns-${i}-[a-z]+`).join(', ');
    const patterns = parseNamespacePatterns(list);
    expect(patterns.elements).toHaveLength(1000);
    expect(patterns.matches('ns-500-abc')).toBe(true);
    expect(patterns.matches(`${'a'.repeat(10_000)}999`)).toBe(true);
    expect(patterns.matches(`${'a'.repeat(10_000)}!`)).toBe(false);
    expect(patterns.matches('ns-5000-abc')).toBe(false);
  });

  it.each<[string, string, boolean, boolean]>([
    ['(a+)+$', `${'a'.repeat(100_000)}b`, false, false],
    ['(a+)+$', 'a'.repeat(100_000), true, true],
    ['(x+x+)+y', 'x'.repeat(100_000), false, false],
    ['(a|aa)+', `${'a'.repeat(100_000)}!`, false, true],
    ['(.*a){20}', 'a'.repeat(50_000), true, true],
  ])('catastrophic-backtracking pattern %j runs in linear time', (pattern, name, whole, unanchored) => {
    expect(parseNamespacePatterns(pattern).matches(name)).toBe(whole);
    expect(parseExcludePatterns(pattern).matches(name)).toBe(unanchored);
  });
});

describe('estimateProgramSize', () => {
  it.each([
    'a',
    'team-[0-9]+-x',
    '(a|b|c)',
    '[a-z]{1,63}',
    'x{5,}',
    '(?i)NS',
    '(?:(?:a{10}){10}){10}',
    '(?:(?:a{10,}){10}){10}',
    '\\pL{1000}',
    '\\p{Greek}{100}',
    '\\x{41}{100}',
    '\\Qab\\E{3}',
    '[[:alpha:]]{5}',
    '[]a]{10}',
    '[^]a]{10}',
    '[(]{10}',
    // Misreading where a class ends would hide the repeated group behind it.
    '[][](?:aaaa){100}]',
    '[^][](?:ab){100}]',
    '[[:x](?:ab){100}',
    '[\\]](?:ab){100}',
    '[a\\]](?:ab){100}',
    '[[:alpha:]](?:ab){100}',
    '[\\p{Greek}](?:ab){100}',
    '[\\x{5d}](?:ab){100}',
    '\\Q(?:ab){100}',
    '[)x]{1000}',
    '(?:[)]ab){1000}',
    '(?:[[:digit:])]ab){500}',
    'a*?b+?c??',
    '(?P<n>x)+',
    '.{1000}',
    `(?:${'a'.repeat(900)}){1000}`,
    '{a}{1}',
  ])('is an upper bound on the compiled size of %j', (pattern) => {
    expect(estimateProgramSize(pattern)).toBeGreaterThanOrEqual(RE2JS.compile(pattern).programSize());
  });

  it.each(['(?:a{999999999999999999999}){999999999999999999999}', '(((a{1000}){1000}){1000}){1000}'])(
    'saturates rather than overflowing for %j',
    (pattern) => {
      const size = estimateProgramSize(pattern);
      expect(Number.isFinite(size)).toBe(true);
      expect(size).toBeGreaterThan(defaultPatternLimits.maxProgramSize);
    },
  );
});

describe('memoisation', () => {
  beforeEach(() => clearPatternCache());

  it('returns the same object for the same list and kind', () => {
    const first = parseNamespacePatterns('team-.*');
    expect(parseNamespacePatterns('team-.*')).toBe(first);
    expect(parseExcludePatterns('team-.*')).not.toBe(first);
    expect(parseNamespacePatterns('team-.*', { maxElements: 5, maxElementLength: 50 })).not.toBe(first);
  });

  it('evicts the least recently used entry beyond 512 entries', () => {
    const a = parseNamespacePatterns('a');
    const b = parseNamespacePatterns('b');
    for (let i = 0; i < 510; i++) parseNamespacePatterns(`fill-${i}`);
    expect(parseNamespacePatterns('a')).toBe(a); // refreshes `a`; `b` is now the oldest
    parseNamespacePatterns('one-more');
    expect(parseNamespacePatterns('a')).toBe(a);
    const rebuilt = parseNamespacePatterns('b');
    expect(rebuilt).not.toBe(b);
    expect(rebuilt.matches('b')).toBe(true);
  });
});

describe('immutability', () => {
  it('freezes the parse result, its arrays and its errors', () => {
    const patterns = parseNamespacePatterns('a, ns-[');
    expect(Object.isFrozen(patterns)).toBe(true);
    expect(Object.isFrozen(patterns.elements)).toBe(true);
    expect(Object.isFrozen(patterns.errors)).toBe(true);
    expect(Object.isFrozen(patterns.errors[0])).toBe(true);
    expect(() => (patterns.elements as string[]).push('b')).toThrow(TypeError);
    expect(() => ((patterns as { matchesEverything: boolean }).matchesEverything = true)).toThrow(TypeError);
    expect(patterns.matches('b')).toBe(false);
  });

  it('freezes compileWholeName results', () => {
    expect(Object.isFrozen(compileWholeName('a'))).toBe(true);
    expect(Object.isFrozen(compileWholeName('('))).toBe(true);
  });
});

describe('helpers', () => {
  it.each<[string, string]>([
    ['  a b  ', 'a b'],
    ['\t\n\v\f\ra\r', 'a'],
    ['\u0085\u00a0\u2000\u200a\u2028\u2029\u202f\u205f\u3000a\u1680', 'a'],
    // Not spaces in Go: curly quotes, zero-width space and the BOM.
    ['\u201da\u201c', '\u201da\u201c'],
    ['\u200ba', '\u200ba'],
    ['\ufeffa', '\ufeffa'],
  ])('goTrimSpace(%j) is %j', (input, expected) => {
    expect(goTrimSpace(input)).toBe(expected);
  });

  it.each<[string, number, string]>([
    ['abc', 3, 'abc'],
    ['abcd', 3, 'abc…'],
    ['ab\u{1F600}c', 3, 'ab…'],
  ])('truncate(%j, %d) is %j', (input, max, expected) => {
    expect(truncate(input, max)).toBe(expected);
  });
});

describe('plain names', () => {
  it('are looked up, never compiled, and agree with RE2 on whole names', () => {
    const names = parseNamespacePatterns('team-a, b2 ,prod-x1');
    expect(names.literals).toEqual(new Set(['team-a', 'b2', 'prod-x1']));
    for (const ns of ['team-a', 'b2', 'prod-x1', 'team-ab', 'b', 'xteam-a', 'TEAM-A']) {
      expect(names.matches(ns)).toBe(RE2JS.compile('^(?:team-a|b2|prod-x1)$').matches(ns));
    }
  });

  it('mix with regular expressions: both kinds of element match, no literal set is exposed', () => {
    const mixed = parseNamespacePatterns('team-a,prod-.*,b2');
    expect(mixed.literals).toBeUndefined();
    expect(mixed.elements).toEqual(['team-a', 'prod-.*', 'b2']);
    expect(['team-a', 'prod-1', 'b2'].map((n) => mixed.matches(n))).toEqual([true, true, true]);
    expect(['team-b', 'prod', 'b22'].map((n) => mixed.matches(n))).toEqual([false, false, false]);
  });

  it('are substrings, not whole names, in exclude lists', () => {
    expect(parseExcludePatterns('kube').matches('kube-system')).toBe(true);
  });
});

const MiB = 1024 * 1024;
/** A list of `n` regular expressions that share nothing with another seed's. */
const regexList = (seed: string, n = 1000) => Array.from({ length: n }, (_, j) => `${seed}q${j}.*`).join(',');
const holder = (owner: string, share: string) => ({ owner, share });

describe('memory budget', () => {
  beforeEach(() => resetPatterns());
  afterEach(() => resetPatterns());

  it('defaults to 64 MiB in total and an eighth of it per share', () => {
    expect(defaultPatternBudget).toEqual({ totalBytes: 64 * MiB, shareBytes: 8 * MiB });
  });

  it('charges a held list to its share, and its release gives the share back', () => {
    const p = parseNamespacePatterns(regexList('a'), undefined, holder('o1', 'team-a'));
    expect(p.overBudget).toBeUndefined();
    expect(p.matches('aq5-x')).toBe(true);
    const charged = patternMemoryUsage().shares['team-a']!;
    // A 1 000-element list is estimated at a few MB (measured ~1.5 MB retained with re2js 2.10).
    expect(charged).toBeGreaterThan(1 * MiB);
    expect(charged).toBeLessThan(4 * MiB);
    releasePatterns('o1');
    expect(patternMemoryUsage().shares).toEqual({});
    // Kept (unheld) while it fits, and shared again by the next holder without a new charge to the total.
    const total = patternMemoryUsage().totalBytes;
    expect(parseNamespacePatterns(regexList('a'), undefined, holder('o2', 'team-a'))).toBe(p);
    expect(patternMemoryUsage().totalBytes).toBe(total);
  });

  it('refuses a list over its share before compiling it, with a reason naming the namespace and the flag', () => {
    configurePatternBudget(64 * MiB, 4 * MiB);
    const first = parseNamespacePatterns(regexList('a'), undefined, holder('o1', 'team-a'));
    expect(first.overBudget).toBeUndefined();
    const before = patternMemoryUsage();
    const refused = parseNamespacePatterns(regexList('b'), undefined, holder('o2', 'team-a'));
    expect(refused.overBudget).toBe(true);
    expect(refused.elements).toEqual([]);
    expect(refused.matches('bq1')).toBe(false);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]!.wholeList).toBe(true);
    expect(refused.errors[0]!.reason).toMatch(/namespace team-a .* over its share \(4\.0 MiB\) of --pattern-memory-budget \(64\.0 MiB\)/);
    // Nothing was compiled or memoised for it.
    expect(patternMemoryUsage()).toEqual(before);
    // Another namespace is not affected by team-a's share.
    expect(parseNamespacePatterns(regexList('b'), undefined, holder('o3', 'team-b')).overBudget).toBeUndefined();
  });

  it('one list held by many sources of a namespace costs it once; by another namespace, that one once too', () => {
    configurePatternBudget(64 * MiB, 4 * MiB);
    const list = regexList('shared');
    const results = Array.from({ length: 20 }, (_, i) => parseNamespacePatterns(list, undefined, holder(`o${i}`, 'team-a')));
    expect(new Set(results).size).toBe(1);
    expect(results[0]!.overBudget).toBeUndefined();
    const weight = patternMemoryUsage().shares['team-a']!;
    expect(parseNamespacePatterns(list, undefined, holder('p', 'team-b'))).toBe(results[0]);
    expect(patternMemoryUsage().shares).toEqual({ 'team-a': weight, 'team-b': weight });
    expect(patternMemoryUsage().totalBytes).toBe(weight);
    for (let i = 0; i < 19; i++) releasePatterns(`o${i}`);
    expect(patternMemoryUsage().shares['team-a']).toBe(weight);
    releasePatterns('o19');
    expect(patternMemoryUsage().shares).toEqual({ 'team-b': weight });
  });

  it('refuses once the total is spent, even within the share, and frees room by dropping unheld lists first', () => {
    configurePatternBudget(12 * MiB, 12 * MiB);
    const unheld = parseNamespacePatterns(regexList('idle'));
    expect(patternMemoryUsage().idleBytes).toBeGreaterThan(0);
    const held = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((s, i) => parseNamespacePatterns(regexList(s), undefined, holder(`o${i}`, `ns-${i}`)));
    const refusedAt = held.findIndex((p) => p.overBudget);
    expect(refusedAt).toBeGreaterThan(1);
    expect(held[refusedAt]!.errors[0]!.reason).toMatch(/all compiled patterns .* over --pattern-memory-budget \(12\.0 MiB\)/);
    // The unheld list made room for held ones.
    expect(patternMemoryUsage().idleBytes).toBe(0);
    expect(parseNamespacePatterns(regexList('idle'))).not.toBe(unheld);
    expect(patternMemoryUsage().totalBytes).toBeLessThanOrEqual(12 * MiB);
  });

  it('a refusal sticks to its holder until it holds another list, even once room is made', () => {
    configurePatternBudget(64 * MiB, 4 * MiB);
    parseNamespacePatterns(regexList('a'), undefined, holder('o1', 'team-a'));
    const refused = parseNamespacePatterns(regexList('b'), undefined, holder('o2', 'team-a'));
    expect(refused.overBudget).toBe(true);
    releasePatterns('o1');
    // Same holder, same list: the same answer (a source parsed again on every event gives the same rule).
    expect(parseNamespacePatterns(regexList('b'), undefined, holder('o2', 'team-a'))).toBe(refused);
    // Its list changed (the tenant edited the annotation): tried again.
    const edited = parseNamespacePatterns(regexList('b', 999), undefined, holder('o2', 'team-a'));
    expect(edited.overBudget).toBeUndefined();
    expect(edited.matches('bq3')).toBe(true);
  });

  it('a holder that changes its list releases the old one first', () => {
    configurePatternBudget(64 * MiB, 4 * MiB);
    parseNamespacePatterns(regexList('a'), undefined, holder('o1', 'team-a'));
    const w = patternMemoryUsage().shares['team-a']!;
    // Would not fit next to `a`, fits in its place.
    const b = parseNamespacePatterns(regexList('b'), undefined, holder('o1', 'team-a'));
    expect(b.overBudget).toBeUndefined();
    expect(patternMemoryUsage().shares['team-a']).toBeLessThan(2 * w);
  });

  it('plain-name lists are cheap: 1 000 names cost a small fraction of 1 000 expressions', () => {
    parseNamespacePatterns(regexList('a'), undefined, holder('re', 'team-a'));
    const names = Array.from({ length: 1000 }, (_, j) => `n-${j}`).join(',');
    parseNamespacePatterns(names, undefined, holder('names', 'team-b'));
    const { shares } = patternMemoryUsage();
    expect(shares['team-b']!).toBeLessThan(shares['team-a']! / 10);
  });

  it('bounds what it keeps of lists no one holds: entries and bytes', () => {
    configurePatternBudget(16 * MiB);
    for (let i = 0; i < 30; i++) parseNamespacePatterns(regexList(`u${i}`));
    const usage = patternMemoryUsage();
    expect(usage.idleBytes).toBe(usage.totalBytes);
    expect(usage.idleBytes).toBeLessThanOrEqual(4 * MiB);
    // Unheld lists are still parsed and answer correctly, whether memoised or not.
    expect(parseNamespacePatterns(regexList('u0')).matches('u0q7x')).toBe(true);
    clearPatternCache();
    expect(patternMemoryUsage()).toEqual({ totalBytes: 0, idleBytes: 0, entries: 0, shares: {} });
  });

  it('the estimate bounds what is retained (measured on the heap when gc is exposed)', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    configurePatternBudget(1024 * MiB, 1024 * MiB);
    if (gc) gc();
    const before = process.memoryUsage().heapUsed;
    const kept = Array.from({ length: 10 }, (_, i) => parseNamespacePatterns(regexList(`m${i}`), undefined, holder(`m${i}`, 'm')));
    if (gc) gc();
    const retained = process.memoryUsage().heapUsed - before;
    expect(kept.every((p) => p.matches(`m3q9`) === (p === kept[3]))).toBe(true);
    if (gc) expect(retained).toBeLessThan(patternMemoryUsage().totalBytes);
  });

  it('rejects a non-positive budget', () => {
    expect(() => configurePatternBudget(0)).toThrow(RangeError);
  });

  it('drops the parsed elements after compiling (re2js keeps them; matching needs only the program)', () => {
    const p = parseNamespacePatterns(regexList('d', 10));
    expect(p.matches('dq3anything')).toBe(true);
    expect(p.matches('eq3')).toBe(false);
    expect(p.matches('dx3')).toBe(false);
  });
});
