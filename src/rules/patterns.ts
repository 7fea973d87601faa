// Namespace patterns, as tenants write them in annotations and admins pass in --exclude-namespaces.
//
// Everything user-supplied is compiled by re2js (linear-time RE2), never by JavaScript RegExp.
// All elements of one list are compiled into a single RE2Set program, which parses each
// element on its own and joins them at the program level. That avoids the traps of
// splicing strings into `^(?:e1|e2)$`: an unterminated `\Q` swallowing the rest, `(?i)`
// leaking into later alternatives, and duplicate group names making the whole list invalid.

import { RE2Set } from 're2js';

export interface PatternError {
  /** The offending element, truncated to about 100 characters. */
  element: string;
  reason: string;
}

export interface NamespacePatterns {
  /** The raw list as given. */
  readonly source: string;
  /** Valid elements, in order (trimmed for whole-name lists). */
  readonly elements: readonly string[];
  readonly errors: readonly PatternError[];
  /** The list contains `*` (whole-name lists only) or an element that is exactly `.*`. */
  readonly matchesEverything: boolean;
  /**
   * Whole-name lists whose every element is a plain name (letters, digits, `-`): exactly these names match, so a
   * caller can look them up instead of testing every namespace. Undefined otherwise.
   */
  readonly literals?: ReadonlySet<string>;
  matches(namespace: string): boolean;
}

export interface PatternLimits {
  /** Non-empty elements beyond this many are not compiled. */
  maxElements: number;
  /** Longer elements are errors. */
  maxElementLength: number;
  /**
   * Budget for the estimated RE2 program size (instructions) of the whole list. Bounds the
   * CPU and memory one list can cost: `(?:a…a){1000}` is short but expands a thousandfold.
   */
  maxProgramSize?: number;
}

export const defaultPatternLimits: Readonly<Required<PatternLimits>> = Object.freeze({
  maxElements: 1000,
  maxElementLength: 1024,
  maxProgramSize: 50_000,
});

export type CompileResult =
  | { readonly ok: true; readonly matches: (s: string) => boolean }
  | { readonly ok: false; readonly reason: string };

/** Whole-name semantics, for replicate-to, replication-allowed-namespaces and policy target/name patterns. */
export function parseNamespacePatterns(list: string, limits?: PatternLimits): NamespacePatterns {
  return cached('whole', list, limits, () => buildPatterns('whole', list, resolveLimits(limits)));
}

/** Unanchored semantics, for --exclude-namespaces. */
export function parseExcludePatterns(list: string, limits?: PatternLimits): NamespacePatterns {
  return cached('exclude', list, limits, () => buildPatterns('exclude', list, resolveLimits(limits)));
}

/**
 * One whole-name RE2 pattern (for policy fields that hold a list already, e.g. YAML arrays).
 * Same element rules as parseNamespacePatterns (trimmed, `*` = every namespace), except
 * that an empty pattern is an error rather than silently ignored.
 */
export function compileWholeName(pattern: string): CompileResult {
  const single = cached('single', pattern, undefined, () =>
    buildFromElements('whole', pattern, [goTrimSpace(pattern)].filter((e) => e !== ''), defaultPatternLimits),
  );
  return toCompileResult(single);
}

// ---------------------------------------------------------------------------------------------
// Building

type Kind = 'whole' | 'exclude';

const ERROR_ELEMENT_CHARS = 100;
const ERROR_REASON_CHARS = 300;
/** The RE2Set DFA cache grows with use; cap it per list (it falls back to the NFA when full). */
const MIN_DFA_BYTES = 32 * 1024;
const MAX_DFA_BYTES = 256 * 1024;
const DFA_BYTES_PER_CHAR = 32;

interface Built {
  readonly patterns: NamespacePatterns;
  /** Approximate retained bytes, for the cache's memory bound. */
  readonly weight: number;
}

/** Parse functions never throw: an unexpected failure yields a list that matches nothing. */
function safely(source: string, build: () => Built): Built {
  try {
    return build();
  } catch (err) {
    const errors = [patternError(String(source), `internal error: ${errorMessage(err)}`)];
    const patterns = freezePatterns({ source, elements: [], errors, matchesEverything: false, set: null });
    return { patterns, weight: weightOf('', 0, 0) };
  }
}

function resolveLimits(limits: PatternLimits | undefined): Required<PatternLimits> {
  if (!limits) return defaultPatternLimits;
  const { maxElements, maxElementLength } = limits;
  return { maxElements, maxElementLength, maxProgramSize: limits.maxProgramSize ?? defaultPatternLimits.maxProgramSize };
}

function buildPatterns(kind: Kind, list: string, limits: Required<PatternLimits>): Built {
  const parts = list.split(',');
  // mittwald TrimSpaces annotation elements but takes --exclude-namespaces verbatim.
  const elements = (kind === 'whole' ? parts.map(goTrimSpace) : parts).filter((e) => e !== '');
  return buildFromElements(kind, list, elements, limits);
}

/** Validates each element on its own, then compiles the valid ones into one program. */
function buildFromElements(kind: Kind, source: string, all: readonly string[], limits: Required<PatternLimits>): Built {
  const errors: PatternError[] = [];
  const kept = all.slice(0, Math.max(0, limits.maxElements));

  const dfaBytes = dfaBudget(kept);
  const set = new RE2Set(kind === 'whole' ? RE2Set.ANCHOR_BOTH : RE2Set.UNANCHORED, 0, dfaBytes);
  const state: AdmitState = { valid: [], added: 0, spent: 0, everything: false };
  for (const element of kept) {
    const error = admitElement(kind, element, limits, state, set);
    if (error !== undefined) errors.push(patternError(element, error));
  }
  if (all.length > kept.length) errors.push(tooManyError(all, kept.length, limits.maxElements));
  // `*` makes the program irrelevant: skip compiling it.
  const matcher = state.everything || state.added === 0 ? null : compileSet(set, source, errors);
  const failed = matcher === undefined;
  const literal = kind === 'whole' && !failed && !state.everything && state.valid.every((e) => plainName.test(e));
  const patterns = freezePatterns({
    source,
    elements: failed ? [] : state.valid,
    errors,
    matchesEverything: state.everything,
    set: matcher ?? null,
    literals: literal ? new Set(state.valid) : undefined,
  });
  return { patterns, weight: weightOf(source, state.spent, matcher ? dfaBytes : 0) };
}

interface AdmitState {
  valid: string[];
  /** Elements added to the RE2Set. */
  added: number;
  /** Estimated program size so far. */
  spent: number;
  everything: boolean;
}

/** Checks one element against the limits and adds it to the set; returns an error reason, never throws. */
function admitElement(
  kind: Kind,
  element: string,
  limits: Required<PatternLimits>,
  state: AdmitState,
  set: RE2Set,
): string | undefined {
  if (element.length > limits.maxElementLength) return `pattern is longer than ${limits.maxElementLength} characters`;
  // mittwald turns `*` into `^*$`, which in Go matches every name: keep that meaning.
  if (kind === 'whole' && element === '*') {
    state.valid.push(element);
    state.everything = true;
    return undefined;
  }
  const cost = estimateProgramSize(element);
  // Checked before re2js expands the pattern, so a rejected element costs nothing to compile.
  if (!(state.spent + cost <= limits.maxProgramSize)) return complexityReason(cost, limits.maxProgramSize);
  try {
    set.add(element);
  } catch (err) {
    return errorMessage(err);
  }
  state.valid.push(element);
  state.added++;
  state.spent += cost;
  state.everything ||= element === '.*';
  return undefined;
}

function complexityReason(cost: number, max: number): string {
  return cost > max
    ? `pattern is too complex (estimated program size ${cost} exceeds ${max})`
    : `pattern list is too complex (estimated program size of the list exceeds ${max})`;
}

/**
 * Compiles the joined program up front, so that matching never meets a compile error.
 * Returns undefined on failure (which the size budget should make impossible).
 */
function compileSet(set: RE2Set, source: string, errors: PatternError[]): RE2Set | undefined {
  try {
    set.compile();
    return set;
  } catch (err) {
    errors.push(patternError(source, `pattern list failed to compile: ${errorMessage(err)}`));
    return undefined;
  }
}

interface PatternsInit {
  source: string;
  elements: readonly string[];
  errors: readonly PatternError[];
  matchesEverything: boolean;
  /** null: nothing to match (or everything, per matchesEverything). */
  set: RE2Set | null;
  literals?: ReadonlySet<string>;
}

/** An element that, matched as a whole name, matches exactly itself. */
const plainName = /^[A-Za-z0-9-]+$/;

function freezePatterns({ source, elements, errors, matchesEverything, set, literals }: PatternsInit): NamespacePatterns {
  const matches = matchesEverything
    ? () => true
    : literals
      ? (namespace: string) => literals.has(namespace) // same answer as the RE2 program, without running it
      : set === null
        ? () => false
        : (namespace: string) => set.match(namespace).length > 0;
  return Object.freeze({
    source,
    elements: Object.freeze([...elements]),
    errors: Object.freeze(errors.map((e) => Object.freeze({ ...e }))),
    matchesEverything,
    ...(literals ? { literals } : {}),
    matches,
  });
}

function toCompileResult(built: NamespacePatterns): CompileResult {
  const error = built.errors[0];
  if (error) return Object.freeze({ ok: false, reason: error.reason });
  if (built.elements.length === 0) return Object.freeze({ ok: false, reason: 'empty pattern' });
  return Object.freeze({ ok: true, matches: built.matches });
}

/** Scales the DFA cache with the list, so that short lists stay cheap to memoise. */
function dfaBudget(elements: readonly string[]): number {
  const chars = elements.reduce((n, e) => n + e.length, 0);
  return Math.min(MAX_DFA_BYTES, Math.max(MIN_DFA_BYTES, chars * DFA_BYTES_PER_CHAR));
}

function tooManyError(all: readonly string[], kept: number, max: number): PatternError {
  const ignored = all.length - kept;
  return patternError(all[kept] ?? '', `${ignored} more element(s) ignored: at most ${max} are allowed`);
}

function patternError(element: string, reason: string): PatternError {
  return { element: truncate(element, ERROR_ELEMENT_CHARS), reason: truncate(reason, ERROR_REASON_CHARS) };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Shortens to about `max` UTF-16 units without splitting a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${s.slice(0, end)}…`;
}

// ---------------------------------------------------------------------------------------------
// Trimming: Go's strings.TrimSpace, i.e. unicode.IsSpace. Curly quotes are not spaces.

function isGoSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

// ---------------------------------------------------------------------------------------------
// Program-size estimate. re2js only rejects programs above ~1.4M instructions, and expanding
// one can take over a second, so a lexical upper bound is checked before compiling.

/** Per element: the set's match and alternation instructions, plus slack. */
const ELEMENT_OVERHEAD = 4;
/** Saturation point, so that absurd repeat counts cannot overflow into NaN. */
const SATURATED = 1e15;

interface Frame {
  /** Estimated instructions of the sequence so far. */
  total: number;
  /** Estimated instructions of the last atom, which a following quantifier multiplies. */
  last: number;
}

/**
 * An upper bound on the RE2 program size of a valid pattern (for invalid ones the
 * number is meaningless, but parsing them fails cheaply anyway).
 */
export function estimateProgramSize(pattern: string): number {
  const stack: Frame[] = [{ total: 0, last: 0 }];
  let i = 0;
  while (i < pattern.length) i = scanToken(pattern, i, stack);
  let total = 0;
  // Unclosed groups (an invalid pattern) still count.
  for (const frame of stack) total = sat(total + frame.total + 2);
  return sat(total + ELEMENT_OVERHEAD);
}

/** Consumes one token at `i`, updating the frame stack; returns the next index. */
function scanToken(p: string, i: number, stack: Frame[]): number {
  const frame = stack[stack.length - 1]!;
  switch (p[i]) {
    case '\\':
      if (p[i + 1] === 'Q') return scanQuoted(p, i, frame);
      addAtom(frame, 1);
      return skipEscape(p, i);
    case '[':
      addAtom(frame, 1);
      return skipClass(p, i);
    case '(':
      stack.push({ total: 0, last: 0 });
      return i + 1;
    case ')':
      if (stack.length > 1) addAtom(stack[stack.length - 2]!, stack.pop()!.total + 2);
      else addAtom(frame, 1);
      return i + 1;
    case '|':
      frame.total = sat(frame.total + 1);
      frame.last = 0;
      return i + 1;
    case '*':
    case '+':
    case '?':
      frame.total = sat(frame.total + 1);
      frame.last = sat(frame.last + 1);
      return i + 1;
    case '{':
      return scanBrace(p, i, frame);
    default:
      addAtom(frame, 1);
      return i + 1;
  }
}

function addAtom(frame: Frame, size: number): void {
  frame.total = sat(frame.total + size);
  frame.last = size;
}

/** `\Q…\E` is a literal run; a quantifier after it applies to its last character. */
function scanQuoted(p: string, i: number, frame: Frame): number {
  const close = p.indexOf('\\E', i + 2);
  const stop = close < 0 ? p.length : close;
  frame.total = sat(frame.total + (stop - (i + 2)));
  frame.last = 1;
  return close < 0 ? p.length : close + 2;
}

/** `{n}`, `{n,}` or `{n,m}` repeat the last atom; any other `{` is a literal. */
function scanBrace(p: string, i: number, frame: Frame): number {
  const repeat = parseRepeat(p, i);
  if (repeat === null) {
    addAtom(frame, 1);
    return i + 1;
  }
  // RE2 expands x{n,m} into up to m copies of x, each with an alternation instruction.
  const grown = sat((repeat.max + 1) * (frame.last + 1));
  frame.total = sat(frame.total - frame.last + grown);
  frame.last = grown;
  return repeat.end;
}

function parseRepeat(p: string, i: number): { max: number; end: number } | null {
  const min = readDigits(p, i + 1);
  if (min === null) return null;
  if (p[min.end] === '}') return { max: min.value, end: min.end + 1 };
  if (p[min.end] !== ',') return null;
  if (p[min.end + 1] === '}') return { max: sat(min.value + 1), end: min.end + 2 }; // {n,}: n copies and a star
  const max = readDigits(p, min.end + 1);
  if (max === null || p[max.end] !== '}') return null;
  return { max: Math.max(min.value, max.value), end: max.end + 1 };
}

function readDigits(p: string, i: number): { value: number; end: number } | null {
  let j = i;
  while (j < p.length && p.charCodeAt(j) >= 0x30 && p.charCodeAt(j) <= 0x39) j++;
  return j === i ? null : { value: sat(Number(p.slice(i, j))), end: j };
}

/** Skips `\x`, `\pL`, `\p{Name}`, `\x{hex}`. */
function skipEscape(p: string, i: number): number {
  const next = p[i + 1];
  if ((next === 'p' || next === 'P' || next === 'x') && p[i + 2] === '{') {
    const close = p.indexOf('}', i + 3);
    return close < 0 ? p.length : close + 1;
  }
  if (next === 'p' || next === 'P') return Math.min(p.length, i + 3);
  return Math.min(p.length, i + 2);
}

/** Skips a character class the way RE2 parses it: a leading `]` is literal, `[:name:]` nests. */
function skipClass(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  while (j < p.length) {
    const c = p[j];
    if (c === ']') return j + 1;
    if (c === '\\') {
      j = skipEscape(p, j);
    } else if (c === '[' && p[j + 1] === ':' && p.indexOf(':]', j + 2) >= 0) {
      j = p.indexOf(':]', j + 2) + 2;
    } else {
      j++;
    }
  }
  return p.length;
}

function sat(n: number): number {
  return n >= 0 && n < SATURATED ? n : SATURATED;
}

// ---------------------------------------------------------------------------------------------
// Memoisation: the same annotation value is parsed on every event.

const CACHE_MAX_ENTRIES = 512;
/** Roughly 64 MiB: a maximal list retains ~20 MB, a typical one a few KB. */
const CACHE_MAX_WEIGHT = 64 * 1024 * 1024;
/** Measured: re2js retains ~350 bytes per program instruction (program plus parsed trees). */
const BYTES_PER_INSTRUCTION = 350;

interface CacheEntry {
  built: Built;
}

const cache = new Map<string, CacheEntry>();
let cacheWeight = 0;

function weightOf(source: string, instructions: number, dfaBytes: number): number {
  return 2 * source.length + instructions * BYTES_PER_INSTRUCTION + dfaBytes + 1024;
}

function cacheKey(kind: string, raw: string, limits: PatternLimits | undefined): string {
  const l = limits ? `${limits.maxElements}/${limits.maxElementLength}/${limits.maxProgramSize ?? ''}` : '';
  return `${kind}\u0000${l}\u0000${raw}`;
}

function cached(kind: string, raw: string, limits: PatternLimits | undefined, build: () => Built): NamespacePatterns {
  // Callers are typed, but a missing annotation must not poison the key "undefined".
  if (typeof raw !== 'string') return safely(raw, build).patterns;
  const key = cacheKey(kind, raw, limits);
  const hit = cache.get(key);
  if (hit) {
    // Re-insert to mark as most recently used.
    cache.delete(key);
    cache.set(key, hit);
    return hit.built.patterns;
  }
  const built = safely(raw, build);
  cache.set(key, { built });
  cacheWeight += built.weight;
  evict();
  return built.patterns;
}

function evict(): void {
  // Map iterates in insertion order, so the first key is the least recently used.
  while (cache.size > CACHE_MAX_ENTRIES || (cacheWeight > CACHE_MAX_WEIGHT && cache.size > 1)) {
    const oldest = cache.keys().next().value as string;
    cacheWeight -= cache.get(oldest)!.built.weight;
    cache.delete(oldest);
  }
}

/** Empties the memo (for tests and for callers that want to release memory). */
export function clearPatternCache(): void {
  cache.clear();
  cacheWeight = 0;
}
