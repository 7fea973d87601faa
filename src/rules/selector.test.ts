import { describe, expect, it } from '@jest/globals';
import {
  labelKeyProblem,
  labelSelectorFromObject,
  labelValueProblem,
  MAX_SELECTOR_BYTES,
  MAX_SELECTOR_REQUIREMENTS,
  parseLabelSelector,
  type LabelSelector,
  type SelectorResult,
} from './selector.ts';
import type { LabelSelectorObject } from '../api/replication-policy.ts';

type Labels = Record<string, string> | undefined;

function ok(result: SelectorResult): LabelSelector {
  if (!result.ok) throw new Error(`expected a valid selector, got error: ${result.error}`);
  return result.selector;
}

function err(result: SelectorResult): string {
  if (result.ok) throw new Error(`expected an error, got selector ${JSON.stringify(result.selector.text)}`);
  return result.error;
}

const parse = (input: string): LabelSelector => ok(parseLabelSelector(input));
const parseError = (input: string): string => err(parseLabelSelector(input));

describe('parseLabelSelector grammar: valid input and canonical text', () => {
  // [input, canonical text]. Expectations follow k8s.io/apimachinery's labels.Parse + String().
  const valid: [string, string][] = [
    ['', ''],
    ['   ', ''],
    ['\n', ''],
    [' \t\r\n ', ''],
    ['x=a', 'x=a'],
    ['x==a', 'x==a'],
    ['x!=a', 'x!=a'],
    ['x = a', 'x=a'],
    ['x', 'x'],
    ['a ', 'a'],
    ['\rx', 'x'],
    ['!x', '!x'],
    [' ! x ', '!x'],
    ['x=a\n', 'x=a'],
    ['x in (a,b)', 'x in (a,b)'],
    ['x in (b,a,b)', 'x in (a,b)'],
    ['x in(a)', 'x in (a)'],
    ['x notin (a)', 'x notin (a)'],
    ['x notin\n (abc)', 'x notin (abc)'],
    ['foo  in\t (abc)', 'foo in (abc)'],
    ['x  notin\t\t(abc,def)', 'x notin (abc,def)'],
    ['z=1,y=2,x=3', 'x=3,y=2,z=1'],
    ['b,!a', '!a,b'],
    ['k=v,k=w', 'k=v,k=w'],
    ['x,y in (a)', 'x,y in (a)'],
    ['x=', 'x='],
    ['x= ', 'x='],
    ['x!=', 'x!='],
    ['x=,z= ', 'x=,z='],
    ['x= ,z= ', 'x=,z='],
    ['x in ()', 'x in ()'],
    ['x notin ( )', 'x notin ()'],
    ['x in (abc,)', 'x in (,abc)'],
    ['x notin (, a)', 'x notin (,a)'],
    ['x in (,)', 'x in ()'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['x in (a,,,b)', 'x in (,a,b)'],
    ['x notin (abc,,def),bar,z in (),w', 'bar,w,x notin (,abc,def),z in ()'],
    ['a in (x,y,notin, z,in)', 'a in (in,notin,x,y,z)'],
    ['in', 'in'],
    ['!notin', '!notin'],
    ['in in (in)', 'in in (in)'],
    ['notin=in', 'notin=in'],
    ['x=notin', 'x=notin'],
    ['x>1', 'x>1'],
    ['x<7,y>007', 'x<7,y>007'],
    ['x>9223372036854775807', 'x>9223372036854775807'],
    ['x>1,z<5', 'x>1,z<5'],
    ['this-is-a-dns.domain.com/key-with-dash', 'this-is-a-dns.domain.com/key-with-dash'],
    ['this-is-another-dns.domain.com/key-with-dash in (so,what)', 'this-is-another-dns.domain.com/key-with-dash in (so,what)'],
    ['0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', '0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)'],
    ['example.com/My_Key.1=My_Value.1-x', 'example.com/My_Key.1=My_Value.1-x'],
    ['x=a,y!=b,z in (h,i,j)', 'x=a,y!=b,z in (h,i,j)'],
    ['team=a,\n  env in (prod, staging)\n', 'env in (prod,staging),team=a'],
    ['team=a,\r\n\tenv in (prod,\tstaging)\r\n', 'env in (prod,staging),team=a'],
    [`${'a'.repeat(63)}=${'b'.repeat(63)}`, `${'a'.repeat(63)}=${'b'.repeat(63)}`],
    [`${'p'.repeat(253)}/${'n'.repeat(63)}`, `${'p'.repeat(253)}/${'n'.repeat(63)}`],
    ['x in (a,b,c),!y,z>5', 'x in (a,b,c),!y,z>5'],
  ];

  it.each(valid)('parses %j as %j', (input, text) => {
    const sel = parse(input);
    expect(sel.text).toBe(text);
    expect(sel.matchesEverything).toBe(text === '');
  });

  it.each(valid)('canonical text of %j re-parses to itself', (input) => {
    const text = parse(input).text;
    expect(parse(text).text).toBe(text);
  });

  it('exposes the requirements in text order, values as a sorted set for the string form', () => {
    expect(parse('z in (b,a,b), !y, x>3').requirements).toEqual([
      { key: 'x', operator: 'gt', values: ['3'] },
      { key: 'y', operator: '!', values: [] },
      { key: 'z', operator: 'in', values: ['a', 'b'] },
    ]);
  });

  it('returns frozen selectors', () => {
    const sel = parse('a=b');
    expect(Object.isFrozen(sel)).toBe(true);
    expect(Object.isFrozen(sel.requirements)).toBe(true);
    expect(Object.isFrozen(sel.requirements[0])).toBe(true);
  });
});

describe('parseLabelSelector grammar: invalid input', () => {
  // [input, substring the error must contain]
  const invalid: [string, string][] = [
    ['x=a||y=b', 'invalid label value "a||y" for key "x" at position 2'],
    ['x==a==b', `found "==" at position 4, expected: ',' or end of string`],
    ['x=a=b', `found "=" at position 3, expected: ',' or end of string`],
    ['!x=a', 'found "=" at position 2'],
    ['!x in (a)', 'found "in" at position 3'],
    ['x<a', "'>' and '<' need a base-10 64-bit integer"],
    ['x>', "'>' and '<' need a base-10 64-bit integer"],
    ['x>,y', 'invalid value "" for key "x" at position 2'],
    ['x>1.5', 'invalid value "1.5"'],
    ['x>1e3', 'invalid value "1e3"'],
    ['x>-1', 'invalid label value "-1"'],
    ['x<+1', 'invalid label value "+1"'],
    ['x>9223372036854775808', 'invalid value "9223372036854775808"'],
    ['x>=1', 'found "=" at position 2, expected: identifier'],
    ['x<<1', 'found "<" at position 2, expected: identifier'],
    ['x=(', 'found "(" at position 2, expected: identifier'],
    ['x,,y', `found "," at position 2, expected: identifier after ','`],
    [',x,y', `found "," at position 0, expected: '!', identifier, or end of string`],
    [',', 'found "," at position 0'],
    ['x=a,', `found end of string at position 4, expected: identifier after ','`],
    ['a in (xyz),', 'found end of string at position 11'],
    ['x nott in (y)', 'found "nott" at position 2, expected: one of =, ==, !=, in, notin, >, <'],
    ['x!y', 'found "!" at position 1'],
    ['a in (xyz)b notin ()', `found "b" at position 10, expected: ',' or end of string`],
    ['a in (xyz abc)', `found "abc" at position 10, expected: ',' or ')'`],
    ['a notin(', `found end of string at position 8, expected: ',', ')' or identifier`],
    ['a (', 'found "(" at position 2'],
    ['(', `found "(" at position 0, expected: '!', identifier, or end of string`],
    [')', 'found ")" at position 0'],
    ['!', 'found end of string at position 1, expected: identifier'],
    ['!!x', 'found "!" at position 1, expected: identifier'],
    ['!=a', 'found "!=" at position 0'],
    ['=a', 'found "=" at position 0'],
    ['x in', "found end of string at position 4, expected: '('"],
    ['x in a', `found "a" at position 5, expected: '('`],
    ['x in (a,,)', `found ")" at position 9, expected: ',' or identifier`],
    ['x in (,,)', 'found ")" at position 8'],
    ['x in (=)', 'found "=" at position 6'],
    ['x in (a', `found end of string at position 7, expected: ',' or ')'`],
    ['x in (a,-b)', 'invalid label value "-b" for key "x" at position 8'],
    ['x=a b', 'found "b" at position 4'],
    ['a, Foo/=x', 'invalid label key "Foo/" at position 3: prefix part must be a lowercase RFC 1123 subdomain'],
    ['foo/', 'invalid label key "foo/" at position 0: name part must be non-empty'],
    ['/a', 'prefix part must be non-empty'],
    ['a/b/c', "optional DNS subdomain prefix and one '/'"],
    ['-a', 'invalid label key "-a"'],
    ['a-', 'invalid label key "a-"'],
    ['a_', 'invalid label key "a_"'],
    ['ex_ample.com/a', 'prefix part must be a lowercase RFC 1123 subdomain'],
    ['ké=1', 'invalid label key "ké"'],
    ['a\u00a0=1', 'invalid label key "a\u00a0"'],
    ['a\v=1', 'invalid label key "a\\u000b"'],
    [`${'a'.repeat(64)}`, 'name part must be no more than 63 characters'],
    [`${'p'.repeat(254)}/n`, 'prefix part must be no more than 253 characters'],
    ['x=-a', 'invalid label value "-a"'],
    ['x=a.', 'invalid label value "a."'],
    [`x=${'v'.repeat(64)}`, 'must be no more than 63 characters'],
    ['x=a\u0001b', 'invalid label value "a\\u0001b"'],
    ['x=a\0', 'NUL character at position 3'],
    ['x=a \0,y', 'NUL character at position 4'],
  ];

  it.each(invalid)('rejects %j', (input, message) => {
    expect(parseError(input)).toContain(message);
  });

  it('rejects non-string input instead of throwing', () => {
    expect(parseError(42 as unknown as string)).toBe('label selector must be a string');
    expect(parseError(undefined as unknown as string)).toBe('label selector must be a string');
  });
});

describe('parseLabelSelector matching', () => {
  // Label sets the operator truth table is evaluated against, in column order.
  const sets: Labels[] = [undefined, {}, { y: 'a' }, { x: 'a' }, { x: 'b' }, { x: '' }];
  const T = true;
  const F = false;
  const table: [string, boolean[]][] = [
    ['', [T, T, T, T, T, T]],
    ['x=a', [F, F, F, T, F, F]],
    ['x==a', [F, F, F, T, F, F]],
    ['x!=a', [T, T, T, F, T, T]],
    ['x in (a,c)', [F, F, F, T, F, F]],
    ['x notin (a,c)', [T, T, T, F, T, T]],
    ['x', [F, F, F, T, T, T]],
    ['!x', [T, T, T, F, F, F]],
    ['x=', [F, F, F, F, F, T]],
    ['x!=', [T, T, T, T, T, F]],
    ['x in ()', [F, F, F, F, F, T]],
    ['x in (a,)', [F, F, F, T, F, T]],
    ['x notin ()', [T, T, T, T, T, F]],
    ['x notin (a,)', [T, T, T, F, T, F]],
    ['x,!y', [F, F, F, T, T, T]],
    ['x!=a,x!=b', [T, T, T, F, F, T]],
  ];

  it.each(table)('%j has the expected truth table', (input, expected) => {
    const sel = parse(input);
    expect(sets.map((labels) => sel.matches(labels))).toEqual(expected);
  });

  it('ANDs requirements', () => {
    const sel = parse('app=web, tier in (fe,be), !legacy');
    expect(sel.matches({ app: 'web', tier: 'fe' })).toBe(true);
    expect(sel.matches({ app: 'web', tier: 'be', other: 'x' })).toBe(true);
    expect(sel.matches({ app: 'web', tier: 'db' })).toBe(false);
    expect(sel.matches({ app: 'api', tier: 'fe' })).toBe(false);
    expect(sel.matches({ app: 'web', tier: 'fe', legacy: '' })).toBe(false);
    expect(sel.matches({ tier: 'fe' })).toBe(false);
  });

  it('same-key requirements are all applied', () => {
    const sel = parse('k=v,k=w');
    expect(sel.matches({ k: 'v' })).toBe(false);
    expect(sel.matches({ k: 'w' })).toBe(false);
    expect(parse('k,k!=w').matches({ k: 'v' })).toBe(true);
  });

  it('keywords work as keys and values', () => {
    expect(parse('in in (in, notin)').matches({ in: 'notin' })).toBe(true);
    expect(parse('in in (in, notin)').matches({ in: 'x' })).toBe(false);
    expect(parse('notin').matches({ notin: '' })).toBe(true);
  });

  it('only own properties count as labels', () => {
    expect(parse('constructor').matches({})).toBe(false);
    expect(parse('!toString').matches({})).toBe(true);
    expect(parse('hasOwnProperty=x').matches({ hasOwnProperty: 'x' })).toBe(true);
    expect(parse('valueOf').matches({})).toBe(false);
  });

  it('tolerates whitespace and a trailing newline as a YAML folded scalar would produce', () => {
    const compact = parse('env in (prod,staging),team=a');
    const folded = parse('team=a,\n  env in (prod, staging)\n');
    const crlf = parse('\tteam = a ,\r\n env in ( staging , prod )\r\n');
    expect(folded.text).toBe(compact.text);
    expect(crlf.text).toBe(compact.text);
    for (const labels of [{ team: 'a', env: 'prod' }, { team: 'a', env: 'dev' }, { env: 'prod' }] as Labels[]) {
      expect(folded.matches(labels)).toBe(compact.matches(labels));
      expect(crlf.matches(labels)).toBe(compact.matches(labels));
    }
    expect(folded.matches({ team: 'a', env: 'staging' })).toBe(true);
  });

  // [selector, label value or undefined (absent), expected]
  const comparisons: [string, string | undefined, boolean][] = [
    ['x>5', undefined, false],
    ['x<5', undefined, false],
    ['x>5', '6', true],
    ['x>5', '5', false],
    ['x>5', '4', false],
    ['x<5', '4', true],
    ['x<5', '5', false],
    ['x<5', '6', false],
    ['x>5', '006', true],
    ['x>05', '6', true],
    ['x>5', '+6', true],
    ['x>5', '-7', false],
    ['x<5', '-7', true],
    ['x<0', '-1', true],
    ['x>5', 'abc', false],
    ['x<5', 'abc', false],
    ['x>5', '', false],
    ['x<5', '', false],
    ['x>5', '6.0', false],
    ['x<5', '1e0', false],
    ['x>5', ' 6', false],
    ['x>5', '6 ', false],
    ['x>5', '0x10', false],
    ['x>5', '6_000', false],
    ['x>5', '+', false],
    ['x>5', '-', false],
    ['x>5', '\u0667', false], // Arabic-Indic digit seven
    ['x>0', '99999999999999999999', false], // out of int64 range: not an integer
    ['x<5', '-99999999999999999999', false],
    ['x<9223372036854775807', '9223372036854775806', true],
    ['x<9223372036854775807', '9223372036854775807', false],
    ['x>9223372036854775806', '9223372036854775807', true],
    ['x>9223372036854775806', '9223372036854775808', false],
    ['x<0', '-9223372036854775808', true],
    ['x<0', '-9223372036854775809', false],
    ['x>0', '0000000000000000000000000001', true],
    ['x<1', '-0', true],
  ];

  it.each(comparisons)('%j against x=%j gives %j', (input, value, expected) => {
    const labels: Labels = value === undefined ? { other: '6' } : { x: value };
    expect(parse(input).matches(labels)).toBe(expected);
  });
});

describe('limits', () => {
  it(`accepts exactly ${MAX_SELECTOR_BYTES} bytes`, () => {
    const input = `x${' '.repeat(MAX_SELECTOR_BYTES - 1)}`;
    expect(parse(input).text).toBe('x');
  });

  it('rejects longer input', () => {
    expect(parseError(`x${' '.repeat(MAX_SELECTOR_BYTES)}`)).toBe(
      `label selector is too long (more than ${MAX_SELECTOR_BYTES} bytes)`,
    );
  });

  it('counts UTF-8 bytes, not characters', () => {
    const input = `x,${'é'.repeat(MAX_SELECTOR_BYTES / 2)}`; // 8194 characters, 16386 bytes
    expect(input.length).toBeLessThan(MAX_SELECTOR_BYTES);
    expect(parseError(input)).toContain('too long');
  });

  it(`accepts ${MAX_SELECTOR_REQUIREMENTS} requirements and rejects one more`, () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`).join(',');
    expect(parse(keys(MAX_SELECTOR_REQUIREMENTS)).requirements).toHaveLength(MAX_SELECTOR_REQUIREMENTS);
    expect(parseError(keys(MAX_SELECTOR_REQUIREMENTS + 1))).toBe(
      `label selector has more than ${MAX_SELECTOR_REQUIREMENTS} requirements`,
    );
  });

  it('applies the requirement limit to the object form', () => {
    const matchLabels = Object.fromEntries(Array.from({ length: MAX_SELECTOR_REQUIREMENTS + 1 }, (_, i) => [`k${i}`, 'v']));
    expect(err(labelSelectorFromObject({ matchLabels }))).toContain('more than 256 requirements');
  });

  it('applies the size limit to the object form', () => {
    const values = Array.from({ length: 1000 }, (_, i) => `value-${i}-${'x'.repeat(20)}`);
    expect(err(labelSelectorFromObject({ matchExpressions: [{ key: 'k', operator: 'In', values }] }))).toContain('too long');
  });
});

describe('error messages', () => {
  it('truncate long quoted input', () => {
    const error = parseError(`-${'a'.repeat(5000)}=b`);
    expect(error).toContain('invalid label key "-aaa');
    expect(error).toContain('…"');
    expect(error.length).toBeLessThan(250);
  });

  it('stay short for pathological input', () => {
    expect(parseError('('.repeat(MAX_SELECTOR_BYTES)).length).toBeLessThan(120);
    expect(parseError(`x in (${'a,'.repeat(5000)}`).length).toBeLessThan(120);
  });

  it('escape control characters instead of embedding them', () => {
    for (const input of ['x=a\u0001b', 'k\u001b[31m=1', 'x=a\rb=c,\u0007']) {
      // eslint-disable-next-line no-control-regex
      expect(parseError(input)).not.toMatch(/[\u0000-\u001f\u007f]/);
    }
  });
});

describe('never throws', () => {
  // Deterministic pseudo-random token soup over the grammar's alphabet.
  const alphabet = ['a', 'b', 'x', 'k/v', 'e.com/', '=', '==', '!=', '!', '(', ')', ',', ' ', '\n', 'in', 'notin', '>', '<', '1', '-', '', '.'];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const inputs = Array.from({ length: 3000 }, () =>
    Array.from({ length: 1 + rand(10) }, () => alphabet[rand(alphabet.length)]!).join(''),
  );
  const probes: Labels[] = [undefined, {}, { a: '' }, { a: '1', x: 'b' }, { x: 'in', b: '-' }, { a: 'x', b: 'a', x: '1' }];

  it('returns a result for every input and valid results are canonical and stable', () => {
    let valid = 0;
    for (const input of inputs) {
      const result = parseLabelSelector(input);
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok) continue;
      valid++;
      const again = parse(result.selector.text);
      expect(again.text).toBe(result.selector.text);
      for (const labels of probes) expect(again.matches(labels)).toBe(result.selector.matches(labels));
    }
    // The soup must exercise both outcomes to mean anything.
    expect(valid).toBeGreaterThan(100);
    expect(valid).toBeLessThan(inputs.length - 100);
  });
});

describe('labelSelectorFromObject', () => {
  const obj = (o: unknown) => labelSelectorFromObject(o as LabelSelectorObject);

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['{}', {}],
    ['empty fields', { matchLabels: {}, matchExpressions: [] }],
    ['null fields', { matchLabels: null, matchExpressions: null }],
  ])('%s matches everything', (_name, input) => {
    const sel = ok(obj(input));
    expect(sel.matchesEverything).toBe(true);
    expect(sel.text).toBe('');
    expect(sel.matches(undefined)).toBe(true);
    expect(sel.matches({ any: 'thing' })).toBe(true);
  });

  it('turns matchLabels into equality requirements sorted by key', () => {
    const sel = ok(labelSelectorFromObject({ matchLabels: { b: '1', a: '2' } }));
    expect(sel.text).toBe('a=2,b=1');
    expect(sel.matchesEverything).toBe(false);
    expect(sel.matches({ a: '2', b: '1', c: 'x' })).toBe(true);
    expect(sel.matches({ a: '2' })).toBe(false);
    expect(sel.matches({ a: '2', b: '2' })).toBe(false);
  });

  it('accepts an empty matchLabels value', () => {
    const sel = ok(labelSelectorFromObject({ matchLabels: { a: '' } }));
    expect(sel.text).toBe('a=');
    expect(sel.matches({ a: '' })).toBe(true);
    expect(sel.matches({})).toBe(false);
  });

  const sets: Labels[] = [undefined, { y: 'a' }, { x: 'a' }, { x: 'b' }, { x: '' }];
  const T = true;
  const F = false;
  const expressions: [string, { key: string; operator: string; values?: string[] }, boolean[], string][] = [
    ['In', { key: 'x', operator: 'In', values: ['a', 'c'] }, [F, F, T, F, F], 'x in (a,c)'],
    ['NotIn', { key: 'x', operator: 'NotIn', values: ['a', 'c'] }, [T, T, F, T, T], 'x notin (a,c)'],
    ['In with empty value', { key: 'x', operator: 'In', values: [''] }, [F, F, F, F, T], 'x in ()'],
    ['Exists', { key: 'x', operator: 'Exists' }, [F, F, T, T, T], 'x'],
    ['Exists with values: []', { key: 'x', operator: 'Exists', values: [] }, [F, F, T, T, T], 'x'],
    ['DoesNotExist', { key: 'x', operator: 'DoesNotExist' }, [T, T, F, F, F], '!x'],
  ];

  it.each(expressions)('%s has the expected truth table and text', (_name, expr, expected, text) => {
    const sel = ok(labelSelectorFromObject({ matchExpressions: [expr] }));
    expect(sets.map((labels) => sel.matches(labels))).toEqual(expected);
    expect(sel.text).toBe(text);
  });

  it('keeps duplicate values in the text, sorted, like apimachinery', () => {
    const sel = ok(labelSelectorFromObject({ matchExpressions: [{ key: 'k', operator: 'In', values: ['b', 'a', 'a'] }] }));
    expect(sel.text).toBe('k in (a,a,b)');
    expect(sel.requirements[0]!.values).toEqual(['b', 'a', 'a']);
  });

  it('agrees with the equivalent string selector', () => {
    const fromObject = ok(
      labelSelectorFromObject({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'NotIn', values: ['b', 'a'] },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    );
    const fromString = parse('tier notin (a,b), !legacy, app=web');
    expect(fromObject.text).toBe('app=web,!legacy,tier notin (a,b)');
    expect(fromString.text).toBe(fromObject.text);
    const probes: Labels[] = [{ app: 'web' }, { app: 'web', tier: 'a' }, { app: 'web', legacy: '1' }, { app: 'api' }, undefined];
    for (const labels of probes) {
      expect(fromString.matches(labels)).toBe(fromObject.matches(labels));
    }
    expect(fromObject.matches({ app: 'web', tier: 'c' })).toBe(true);
  });

  // [description, input, substring the error must contain]
  const invalid: [string, unknown, string][] = [
    ['In without values', { matchExpressions: [{ key: 'k', operator: 'In' }] }, "for 'in', 'notin' operators, values set can't be empty"],
    ['In with values: []', { matchExpressions: [{ key: 'k', operator: 'In', values: [] }] }, "values set can't be empty"],
    ['NotIn with values: null', { matchExpressions: [{ key: 'k', operator: 'NotIn', values: null }] }, "values set can't be empty"],
    ['Exists with values', { matchExpressions: [{ key: 'k', operator: 'Exists', values: ['a'] }] }, 'values set must be empty for exists and does not exist'],
    ['DoesNotExist with values', { matchExpressions: [{ key: 'k', operator: 'DoesNotExist', values: [''] }] }, 'values set must be empty'],
    ['lowercase operator', { matchExpressions: [{ key: 'k', operator: 'in', values: ['a'] }] }, '"in" in matchExpressions[0] is not a valid label selector operator'],
    ['Gt (not a LabelSelector operator)', { matchExpressions: [{ key: 'k', operator: 'Gt', values: ['1'] }] }, '"Gt" in matchExpressions[0] is not a valid'],
    ['prototype name as operator', { matchExpressions: [{ key: 'k', operator: 'constructor' }] }, '"constructor" in matchExpressions[0] is not a valid'],
    ['missing operator', { matchExpressions: [{ key: 'k' }] }, 'a missing or non-string operator in matchExpressions[0]'],
    ['missing key', { matchExpressions: [{ operator: 'Exists' }] }, 'key in matchExpressions[0] must be a string'],
    ['invalid expression key', { matchExpressions: [{ key: 'x', operator: 'Exists' }, { key: 'Foo/', operator: 'Exists' }] }, 'invalid label key "Foo/" in matchExpressions[1]'],
    ['invalid matchLabels key', { matchLabels: { 'a b': 'c' } }, 'invalid label key "a b" in matchLabels'],
    ['invalid matchLabels value', { matchLabels: { a: 'b c' } }, 'invalid label value "b c" for key "a" in matchLabels'],
    ['invalid expression value', { matchExpressions: [{ key: 'k', operator: 'In', values: ['ok', '-no'] }] }, 'invalid label value "-no" for key "k" in matchExpressions[0].values[1]'],
    ['non-string matchLabels value', { matchLabels: { a: 1 } }, 'matchLabels value for key "a" must be a string'],
    ['non-list values', { matchExpressions: [{ key: 'k', operator: 'In', values: 'a' }] }, 'values in matchExpressions[0] must be a list'],
    ['non-string value', { matchExpressions: [{ key: 'k', operator: 'In', values: [1] }] }, 'values[0] in matchExpressions[0] must be a string'],
    ['non-object expression', { matchExpressions: ['k'] }, 'matchExpressions[0] must be an object'],
    ['non-list matchExpressions', { matchExpressions: {} }, 'matchExpressions must be a list'],
    ['non-object matchLabels', { matchLabels: ['a'] }, 'matchLabels must be an object'],
    ['non-object selector', 'a=b', 'label selector must be an object'],
  ];

  it.each(invalid)('rejects %s', (_name, input, message) => {
    expect(err(obj(input))).toContain(message);
  });
});

describe('labelKeyProblem / labelValueProblem', () => {
  it.each(['a', 'A', '0', 'a.b-c_d', 'example.com/a', 'a.b.c/Z9', `${'a'.repeat(63)}`, `${'p'.repeat(253)}/n`])(
    'key %j is valid',
    (key) => {
      expect(labelKeyProblem(key)).toBeUndefined();
    },
  );

  it.each([
    ['', 'name part must be non-empty'],
    ['/', 'prefix part must be non-empty'],
    ['Example.com/a', 'prefix part must be a lowercase RFC 1123 subdomain'],
    ['a..b/c', 'prefix part must be a lowercase RFC 1123 subdomain'],
    ['.a', 'name part must be alphanumerics'],
    [`${'a'.repeat(64)}`, 'name part must be no more than 63 characters'],
  ])('key %j is invalid', (key, problem) => {
    expect(labelKeyProblem(key)).toContain(problem);
  });

  it.each(['', 'a', 'A-b_c.d', `${'v'.repeat(63)}`])('value %j is valid', (value) => {
    expect(labelValueProblem(value)).toBeUndefined();
  });

  it.each([' ', 'a/b', '_a', `${'v'.repeat(64)}`])('value %j is invalid', (value) => {
    expect(labelValueProblem(value)).toBeDefined();
  });
});
