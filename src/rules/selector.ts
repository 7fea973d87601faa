// Kubernetes label selectors that accept, reject and select exactly what k8s.io/apimachinery does:
//  - parseLabelSelector      ≙ labels.Parse (string grammar; the mittwald `replicate-to-matching` annotation)
//  - labelSelectorFromObject ≙ metav1.LabelSelectorAsSelector (CRD `namespaceSelector` / `selector` fields)
// The string parser is a port of pkg/labels/selector.go, quirks included: `k in ()` means `k in ("")`,
// `k=` means `k=""`, `in`/`notin` are valid keys and values, a trailing comma is an error.
// Pure: no I/O, and no input makes these functions throw.

import type { LabelSelectorObject } from '../api/replication-policy.ts';

/** apimachinery's selection.Operator spellings. */
export type SelectorOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** String form: sorted and de-duplicated (a set). Object form: as given. Empty for exists/!. */
  readonly values: readonly string[];
}

export interface LabelSelector {
  /** Canonical string form (like apimachinery's String(): requirements sorted by key). Empty string = matches everything. */
  readonly text: string;
  /** True when the selector has no requirements (matches every label set). */
  readonly matchesEverything: boolean;
  /** The ANDed requirements, in `text` order. */
  readonly requirements: readonly SelectorRequirement[];
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

export type SelectorResult = { ok: true; selector: LabelSelector } | { ok: false; error: string };


/** Guards against pathological input (apimachinery has no such limits; no real selector comes close). */
export const MAX_SELECTOR_BYTES = 16 * 1024;
export const MAX_SELECTOR_REQUIREMENTS = 256;

const MAX_QUOTED_CHARS = 80;

type Labels = Readonly<Record<string, string>>;

interface CompiledRequirement extends SelectorRequirement {
  readonly test: (labels: Labels) => boolean;
}

/** A value plus where it came from, for error messages. */
interface ValueAt {
  readonly value: string;
  readonly where: string;
}

// ---------------------------------------------------------------------------------------------
// Public entry points

/** Parses the label-selector string grammar (`a=b,c in (d,e),!f,g>3`). */
export function parseLabelSelector(input: string): SelectorResult {
  return guarded(() => {
    if (typeof input !== 'string') fail('label selector must be a string');
    checkSize(input);
    // apimachinery's lexer treats NUL as end-of-input in some positions and as a separator in others, so
    // text after it may be silently dropped. Rejecting is safer than widening what a selector selects.
    const nul = input.indexOf('\0');
    if (nul >= 0) fail(`label selector contains a NUL character at position ${nul}`);
    return buildSelector(parseRequirements({ tokens: lex(input), index: 0 }));
  });
}

/**
 * Converts the metav1.LabelSelector object form. `undefined`, `null` and `{}` all match everything.
 * Note: in Kubernetes a *nil* selector matches nothing while an empty one matches everything; here
 * `undefined` means "no selector given" and callers that need nil semantics must check for it themselves.
 */
export function labelSelectorFromObject(obj: LabelSelectorObject | undefined): SelectorResult {
  return guarded(() => {
    const selector = buildSelector(compileObject(obj));
    checkSize(selector.text);
    return selector;
  });
}

/** Why `key` is not a valid label key (a Kubernetes qualified name), or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "must be a name with an optional DNS subdomain prefix and one '/' (e.g. 'example.com/MyName')";
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') return 'prefix part must be non-empty';
    // Length first: it also bounds the regex's work.
    if (prefix.length > 253) return 'prefix part must be no more than 253 characters';
    if (!DNS1123_SUBDOMAIN.test(prefix)) return "prefix part must be a lowercase RFC 1123 subdomain (e.g. 'example.com')";
  }
  const name = parts[parts.length - 1]!;
  if (name === '') return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!QUALIFIED_NAME.test(name)) return `name part must be ${NAME_CHARS_RULE}`;
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is valid (the empty string is). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (value !== '' && !QUALIFIED_NAME.test(value)) return `must be empty or ${NAME_CHARS_RULE}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Internal: raised by the parser and validators, turned into `{ ok: false }` at the API boundary. */
class SelectorError extends Error {}

function fail(message: string): never {
  throw new SelectorError(message);
}

function guarded(build: () => LabelSelector): SelectorResult {
  try {
    return { ok: true, selector: build() };
  } catch (err) {
    if (err instanceof SelectorError) return { ok: false, error: err.message };
    throw err;
  }
}

/** Quotes user input for a message: truncated, and JSON-escaped so control characters cannot leak. */
function quote(s: string): string {
  return JSON.stringify(s.length > MAX_QUOTED_CHARS ? `${s.slice(0, MAX_QUOTED_CHARS)}…` : s);
}

function checkSize(text: string): void {
  // String length is a lower bound of the UTF-8 length, so the byte count is only computed when needed.
  if (text.length > MAX_SELECTOR_BYTES || Buffer.byteLength(text, 'utf8') > MAX_SELECTOR_BYTES) {
    fail(`label selector is too long (more than ${MAX_SELECTOR_BYTES} bytes)`);
  }
}

function checkCount(count: number): void {
  if (count > MAX_SELECTOR_REQUIREMENTS) fail(`label selector has more than ${MAX_SELECTOR_REQUIREMENTS} requirements`);
}

// ---------------------------------------------------------------------------------------------
// Validation (k8s.io/apimachinery/pkg/util/validation)

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_CHARS_RULE = "alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";

function checkKey(key: string, where: string): void {
  const problem = labelKeyProblem(key);
  if (problem !== undefined) fail(`invalid label key ${quote(key)} ${where}: ${problem}`);
}

function checkValue(key: string, v: ValueAt): void {
  const problem = labelValueProblem(v.value);
  if (problem !== undefined) fail(`invalid label value ${quote(v.value)} for key ${quote(key)} ${v.where}: ${problem}`);
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** strconv.ParseInt(s, 10, 64): optional sign, ASCII digits only, within int64; undefined otherwise. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const digits = s.replace(/^[+-]?0*/, '');
  if (digits.length > 19) return undefined; // out of range; also avoids BigInt work on huge label values
  const magnitude = BigInt(digits === '' ? '0' : digits);
  const n = s.startsWith('-') ? -magnitude : magnitude;
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

// ---------------------------------------------------------------------------------------------
// Requirements and selectors

function has(labels: Labels, key: string): boolean {
  // Own properties only: `constructor` or `toString` must not look like present labels.
  return Object.hasOwn(labels, key);
}

/** NewRequirement: validates and builds the matcher. Keys are validated by the callers (with context). */
function compile(key: string, operator: SelectorOperator, values: readonly ValueAt[], where: string): CompiledRequirement {
  if ((operator === 'in' || operator === 'notin') && values.length === 0) {
    fail(`invalid requirement ${where}: for 'in', 'notin' operators, values set can't be empty`);
  }
  if ((operator === 'exists' || operator === '!') && values.length > 0) {
    fail(`invalid requirement ${where}: values set must be empty for exists and does not exist`);
  }
  for (const v of values) checkValue(key, v);
  const strValues = values.map((v) => v.value);
  return { key, operator, values: strValues, test: matcher(key, operator, values) };
}

function matcher(key: string, operator: SelectorOperator, values: readonly ValueAt[]): (labels: Labels) => boolean {
  const set = new Set(values.map((v) => v.value));
  switch (operator) {
    case '=':
    case '==':
    case 'in':
      return (ls) => has(ls, key) && set.has(ls[key]!);
    case '!=':
    case 'notin':
      return (ls) => !has(ls, key) || !set.has(ls[key]!);
    case 'exists':
      return (ls) => has(ls, key);
    case '!':
      return (ls) => !has(ls, key);
    case 'gt':
    case 'lt':
      return comparison(key, operator, values[0]!);
  }
}

function comparison(key: string, operator: 'gt' | 'lt', v: ValueAt): (labels: Labels) => boolean {
  const bound = parseInt64(v.value);
  if (bound === undefined) {
    fail(`invalid value ${quote(v.value)} for key ${quote(key)} ${v.where}: '>' and '<' need a base-10 64-bit integer`);
  }
  return (ls) => {
    if (!has(ls, key)) return false;
    const n = parseInt64(ls[key]!);
    // A label value that is not an integer never matches either direction, as in apimachinery.
    if (n === undefined) return false;
    return operator === 'gt' ? n > bound : n < bound;
  };
}

const OPERATOR_TEXT: Readonly<Record<SelectorOperator, string>> = {
  '=': '=', '==': '==', '!=': '!=', in: ' in ', notin: ' notin ', gt: '>', lt: '<', exists: '', '!': '',
};

/** Requirement.String(): values sorted for output, duplicates (object form only) kept. */
function requirementText(r: SelectorRequirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  // Default sort compares UTF-16 code units; valid values are ASCII, so this equals Go's byte order.
  const values = [...r.values].sort().join(',');
  const op = OPERATOR_TEXT[r.operator];
  return r.operator === 'in' || r.operator === 'notin' ? `${r.key}${op}(${values})` : `${r.key}${op}${values}`;
}

const EVERYTHING: LabelSelector = Object.freeze({
  text: '',
  matchesEverything: true,
  requirements: Object.freeze([]),
  matches: () => true,
});

function buildSelector(reqs: readonly CompiledRequirement[]): LabelSelector {
  if (reqs.length === 0) return EVERYTHING;
  // apimachinery sorts by key (sort.Sort); a stable sort keeps same-key requirements in source order.
  const sorted = [...reqs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const tests = sorted.map((r) => r.test);
  return Object.freeze({
    text: sorted.map(requirementText).join(','),
    matchesEverything: false,
    requirements: Object.freeze(
      sorted.map(({ key, operator, values }) => Object.freeze({ key, operator, values: Object.freeze([...values]) })),
    ),
    matches: (labels: Labels | undefined) => {
      const ls = labels ?? {};
      return tests.every((test) => test(ls));
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Lexer (Lexer.Lex)

type TokenKind = 'end' | 'ident' | 'in' | 'notin' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

interface Token {
  readonly kind: TokenKind;
  readonly lit: string;
  /** 0-based character offset in the input. */
  readonly pos: number;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);

/** Go's isWhitespace: exactly these four (no vertical tab, no non-ASCII spaces). */
function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    while (pos < input.length && isWhitespace(input[pos]!)) pos++;
    if (pos >= input.length) {
      tokens.push({ kind: 'end', lit: '', pos });
      return tokens;
    }
    const start = pos;
    const ch = input[pos]!;
    if (SPECIAL.has(ch)) {
      // scanSpecialSymbol is greedy, but "==" and "!=" are the only multi-character symbols.
      const two = input.slice(pos, pos + 2);
      const lit = two === '==' || two === '!=' ? two : ch;
      pos += lit.length;
      tokens.push({ kind: lit as TokenKind, lit, pos: start });
    } else {
      while (pos < input.length && !SPECIAL.has(input[pos]!) && !isWhitespace(input[pos]!)) pos++;
      const lit = input.slice(start, pos);
      tokens.push({ kind: lit === 'in' || lit === 'notin' ? lit : 'ident', lit, pos: start });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parser (Parser.parse and friends)

interface Cursor {
  readonly tokens: readonly Token[];
  index: number;
}

/**
 * `in`/`notin` are keywords only where an operator is expected; everywhere else (keys, values)
 * apimachinery reads them as identifiers (its "Values" parser context), hence `asValue` defaults to true.
 */
function peek(c: Cursor, asValue = true): Token {
  const t = c.tokens[c.index]!;
  return asValue && (t.kind === 'in' || t.kind === 'notin') ? { ...t, kind: 'ident' } : t;
}

function take(c: Cursor, asValue = true): Token {
  const t = peek(c, asValue);
  if (c.index < c.tokens.length - 1) c.index++; // the final 'end' token is never passed
  return t;
}

const at = (t: Token): string => `at position ${t.pos}`;

function unexpected(t: Token, expected: string): never {
  const found = t.kind === 'end' ? 'end of string' : quote(t.lit);
  return fail(`found ${found} ${at(t)}, expected: ${expected}`);
}

const startsRequirement = (t: Token): boolean => t.kind === 'ident' || t.kind === '!';

function parseRequirements(c: Cursor): CompiledRequirement[] {
  const reqs: CompiledRequirement[] = [];
  if (peek(c).kind === 'end') return reqs;
  for (;;) {
    const first = peek(c);
    if (!startsRequirement(first)) unexpected(first, "'!', identifier, or end of string");
    reqs.push(parseRequirement(c));
    checkCount(reqs.length);
    const sep = take(c);
    if (sep.kind === 'end') return reqs;
    if (sep.kind !== ',') unexpected(sep, "',' or end of string");
    const next = peek(c);
    if (!startsRequirement(next)) unexpected(next, "identifier after ','");
  }
}

const BINARY_OPERATORS: ReadonlyMap<TokenKind, SelectorOperator> = new Map<TokenKind, SelectorOperator>([
  ['=', '='], ['==', '=='], ['!=', '!='], ['in', 'in'], ['notin', 'notin'], ['>', 'gt'], ['<', 'lt'],
]);

function parseRequirement(c: Cursor): CompiledRequirement {
  const negated = peek(c).kind === '!';
  if (negated) take(c);
  const keyTok = take(c);
  if (keyTok.kind !== 'ident') unexpected(keyTok, 'identifier');
  const key = keyTok.lit;
  checkKey(key, at(keyTok));
  // Like apimachinery, `!key` ends the requirement whatever follows; `!x=a` then fails at '='.
  if (negated) return compile(key, '!', [], at(keyTok));
  const next = peek(c).kind;
  if (next === 'end' || next === ',') return compile(key, 'exists', [], at(keyTok));
  const opTok = take(c, false);
  const op = BINARY_OPERATORS.get(opTok.kind) ?? unexpected(opTok, 'one of =, ==, !=, in, notin, >, <');
  const values = op === 'in' || op === 'notin' ? parseValueSet(c) : [parseExactValue(c)];
  return compile(key, op, values, at(keyTok));
}

/** `(a,b,...)`. Empty entries are the empty value: `()` ≙ `("")`, `(a,)` ≙ `(a,"")`. Result is sorted and unique. */
function parseValueSet(c: Cursor): ValueAt[] {
  const open = take(c);
  if (open.kind !== '(') unexpected(open, "'('");
  const first = peek(c);
  let values: Map<string, ValueAt>;
  if (first.kind === ')') {
    values = new Map([['', { value: '', where: at(first) }]]);
  } else if (first.kind === 'ident' || first.kind === ',') {
    values = parseIdentifiersList(c);
  } else {
    return unexpected(first, "',', ')' or identifier");
  }
  take(c); // the ')' that both branches have peeked
  return [...values.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

/** A literal port of parseIdentifiersList, whose comma handling has quirks (`(a,,)` is an error). */
function parseIdentifiersList(c: Cursor): Map<string, ValueAt> {
  const values = new Map<string, ValueAt>();
  const add = (value: string, t: Token) => {
    if (!values.has(value)) values.set(value, { value, where: at(t) });
  };
  for (;;) {
    const t = take(c);
    if (t.kind === 'ident') {
      add(t.lit, t);
      const next = peek(c);
      if (next.kind === ',') continue;
      if (next.kind === ')') return values;
      unexpected(next, "',' or ')'");
    } else if (t.kind === ',') {
      if (values.size === 0) add('', t); // "(,"
      const next = peek(c);
      if (next.kind === ')') {
        add('', next); // ",)"
        return values;
      }
      if (next.kind === ',') {
        take(c);
        add('', next); // ",,"
      }
    } else {
      unexpected(t, "',' or identifier");
    }
  }
}

/** The single value after =, ==, !=, >, <; nothing before ',' or the end means the empty value. */
function parseExactValue(c: Cursor): ValueAt {
  const next = peek(c);
  if (next.kind === 'end' || next.kind === ',') return { value: '', where: at(next) };
  const t = take(c);
  if (t.kind !== 'ident') unexpected(t, 'identifier');
  return { value: t.lit, where: at(t) };
}

// ---------------------------------------------------------------------------------------------
// Object form (metav1.LabelSelectorAsSelector)

const OBJECT_OPERATORS: ReadonlyMap<string, SelectorOperator> = new Map<string, SelectorOperator>([
  ['In', 'in'], ['NotIn', 'notin'], ['Exists', 'exists'], ['DoesNotExist', '!'],
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function compileObject(obj: LabelSelectorObject | undefined | null): CompiledRequirement[] {
  if (obj === undefined || obj === null) return [];
  if (!isRecord(obj)) fail('label selector must be an object');
  // Fields come from API objects; null is what JSON gives for "not set".
  const matchLabels: unknown = obj.matchLabels ?? {};
  const matchExpressions: unknown = obj.matchExpressions ?? [];
  if (!isRecord(matchLabels)) fail('matchLabels must be an object');
  if (!Array.isArray(matchExpressions)) fail('matchExpressions must be a list');
  const entries = Object.entries(matchLabels);
  checkCount(entries.length + matchExpressions.length);
  return [
    ...entries.map(([key, value]) => fromMatchLabel(key, value)),
    ...matchExpressions.map((expr: unknown, i) => fromExpression(expr, i)),
  ];
}

function fromMatchLabel(key: string, value: unknown): CompiledRequirement {
  const where = 'in matchLabels';
  if (typeof value !== 'string') fail(`matchLabels value for key ${quote(key)} must be a string`);
  checkKey(key, where);
  return compile(key, '=', [{ value, where }], where);
}

function fromExpression(expr: unknown, i: number): CompiledRequirement {
  const where = `in matchExpressions[${i}]`;
  if (!isRecord(expr)) fail(`matchExpressions[${i}] must be an object`);
  const { key, operator, values } = expr;
  const op = typeof operator === 'string' ? OBJECT_OPERATORS.get(operator) : undefined;
  if (op === undefined) {
    const shown = typeof operator === 'string' ? quote(operator) : 'a missing or non-string operator';
    fail(`${shown} ${where} is not a valid label selector operator (expected In, NotIn, Exists or DoesNotExist)`);
  }
  if (typeof key !== 'string') fail(`key ${where} must be a string`);
  checkKey(key, where);
  const raw: unknown = values ?? [];
  if (!Array.isArray(raw)) fail(`values ${where} must be a list`);
  const vals = raw.map((value: unknown, j): ValueAt => {
    if (typeof value !== 'string') fail(`values[${j}] ${where} must be a string`);
    return { value, where: `in matchExpressions[${i}].values[${j}]` };
  });
  return compile(key, op, vals, where);
}
