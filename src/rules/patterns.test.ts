import { beforeEach, describe, expect, it } from '@jest/globals';
import { RE2JS } from 're2js';
import {
  clearPatternCache,
  compileWholeName,
  defaultPatternLimits,
  estimateProgramSize,
  goTrimSpace,
  parseExcludePatterns,
  parseNamespacePatterns,
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
