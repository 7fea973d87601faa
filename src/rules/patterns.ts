// Namespace patterns, as tenants write them in annotations and admins pass in --exclude-namespaces.
//
// Everything user-supplied is compiled by re2js (linear-time RE2), never by JavaScript RegExp.
// All elements of one list are compiled into a single RE2Set program, which parses each
// element on its own and joins them at the program level. That avoids the traps of
// splicing strings into `^(?:e1|e2)$`: an unterminated `\Q` swallowing the rest, `(?i)`
// leaking into later alternatives, and duplicate group names making the whole list invalid.
//
// Memory (issue: 1 000-element lists cost megabytes each once compiled): plain names are looked up in a Set and
// never compiled; compiled lists are shared by their text; and everything compiled for annotation rules is charged
// to a budget (--pattern-memory-budget), per source namespace and in total. A list that would exceed its
// namespace's share, or the total, is refused with a problem instead of compiled (see "Budget" below).

import { RE2Set } from 're2js';

export interface PatternError {
  /** The offending element, truncated to about 100 characters. */
  element: string;
  reason: string;
  /** The error concerns the whole list (e.g. the memory budget), not one element. */
  wholeList?: boolean;
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
  /** The list was refused by the memory budget (errors say why): it matches nothing. */
  readonly overBudget?: boolean;
  matches(namespace: string): boolean;
}

/**
 * Who keeps a parsed list alive (an annotation rule): its compiled program is charged to `share` (the source
 * namespace) for as long as `owner` (one per source and field) holds it; see releasePatterns.
 */
export interface PatternHolder {
  owner: string;
  share: string;
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
export function parseNamespacePatterns(list: string, limits?: PatternLimits, holder?: PatternHolder): NamespacePatterns {
  return cached('whole', list, limits, holder, (admit) => buildPatterns('whole', list, resolveLimits(limits), admit));
}

/** Unanchored semantics, for --exclude-namespaces. */
export function parseExcludePatterns(list: string, limits?: PatternLimits): NamespacePatterns {
  return cached('exclude', list, limits, undefined, (admit) => buildPatterns('exclude', list, resolveLimits(limits), admit));
}

/**
 * One whole-name RE2 pattern (for policy fields that hold a list already, e.g. YAML arrays).
 * Same element rules as parseNamespacePatterns (trimmed, `*` = every namespace), except
 * that an empty pattern is an error rather than silently ignored.
 */
export function compileWholeName(pattern: string): CompileResult {
  const single = cached('single', pattern, undefined, undefined, (admit) =>
    buildFromElements('whole', pattern, [goTrimSpace(pattern)].filter((e) => e !== ''), defaultPatternLimits, admit),
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

/**
 * Called with a list's estimated retained bytes before its program is compiled: returns why it is refused, or
 * undefined to go ahead.
 */
type Admit = (weight: number) => string | undefined;

interface Built {
  readonly patterns: NamespacePatterns;
  /** Approximate retained bytes, for the budget. */
  readonly weight: number;
  /** Refused by the budget: not compiled, not memoised. */
  readonly refused?: boolean;
}

/** Parse functions never throw: an unexpected failure yields a list that matches nothing. */
function safely(source: string, build: () => Built): Built {
  try {
    return build();
  } catch (err) {
    const errors = [patternError(String(source), `internal error: ${errorMessage(err)}`)];
    const patterns = freezePatterns({ source, elements: [], errors, matchesEverything: false, set: null });
    return { patterns, weight: FIXED_BYTES };
  }
}

function resolveLimits(limits: PatternLimits | undefined): Required<PatternLimits> {
  if (!limits) return defaultPatternLimits;
  const { maxElements, maxElementLength } = limits;
  return { maxElements, maxElementLength, maxProgramSize: limits.maxProgramSize ?? defaultPatternLimits.maxProgramSize };
}

function buildPatterns(kind: Kind, list: string, limits: Required<PatternLimits>, admit: Admit): Built {
  const parts = list.split(',');
  // mittwald TrimSpaces annotation elements but takes --exclude-namespaces verbatim.
  const elements = (kind === 'whole' ? parts.map(goTrimSpace) : parts).filter((e) => e !== '');
  return buildFromElements(kind, list, elements, limits, admit);
}

/**
 * Validates each element on its own; plain names (whole-name lists) go into a Set, the others are compiled into one
 * program. `admit` is asked first, with an upper bound of the cost, so that a refused list is neither parsed nor
 * compiled.
 */
function buildFromElements(kind: Kind, source: string, all: readonly string[], limits: Required<PatternLimits>, admit: Admit): Built {
  const kept = all.slice(0, Math.max(0, limits.maxElements));
  const refusal = admit(weightBound(kind, source, kept, limits));
  if (refusal !== undefined) return { patterns: refusedPatterns(source, refusal), weight: FIXED_BYTES, refused: true };
  const errors: PatternError[] = [];
  const state: AdmitState = { valid: [], literals: [], set: null, added: 0, compiledChars: 0, compiledCost: 0, spent: 0, everything: false };
  for (const element of kept) {
    const error = admitElement(kind, element, limits, state);
    if (error !== undefined) errors.push(patternError(element, error));
  }
  if (all.length > kept.length) errors.push(tooManyError(all, kept.length, limits.maxElements));
  // `*` makes the program and the names irrelevant: neither is kept.
  const compiling = !state.everything && state.added > 0 ? state.set : null;
  const names = state.everything ? 0 : state.literals.length;
  const dfaBytes = compiling ? dfaBudget(state.compiledChars) : 0;
  if (compiling) compiling.setMaxMem(dfaBytes);
  const matcher = compiling ? compileSet(compiling, source, errors) : null;
  const failed = matcher === undefined;
  const literalSet = failed || state.everything || names === 0 ? undefined : new Set(state.literals);
  const patterns = freezePatterns({
    source,
    elements: failed ? [] : state.valid,
    errors,
    matchesEverything: state.everything,
    set: matcher ?? null,
    names: literalSet,
    // Only a list of plain names tells callers which namespaces it can match.
    literals: kind === 'whole' && literalSet && state.added === 0 ? literalSet : undefined,
  });
  const dropsParsed = compiling !== null && canDropParsed(compiling);
  return { patterns, weight: weightOf(source, state.valid, names, matcher ? state.compiledCost : 0, matcher ? dfaBytes : 0, dropsParsed) };
}

/**
 * What the list can cost at most, from its text alone (no parsing): as if every element within the length limit were
 * valid, and the program used its whole size limit when its elements' estimates add up to more.
 */
function weightBound(kind: Kind, source: string, kept: readonly string[], limits: Required<PatternLimits>): number {
  const elements: string[] = [];
  let names = 0;
  let chars = 0;
  let cost = 0;
  for (const element of kept) {
    if (element.length > limits.maxElementLength) continue;
    elements.push(element);
    if (kind === 'whole' && (element === '*' || plainName.test(element))) {
      names++;
    } else {
      chars += element.length;
      cost += estimateProgramSize(element);
    }
  }
  const instructions = Math.min(cost, Math.max(0, limits.maxProgramSize));
  const compiled = instructions > 0;
  return weightOf(source, elements, names, instructions, compiled ? dfaBudget(chars) : 0, !compiled || dropsParsedInThisRe2js);
}

interface AdmitState {
  valid: string[];
  /** Valid plain names (whole-name lists only): looked up, never compiled. */
  literals: string[];
  /** Created for the first element that is not a plain name. */
  set: DeferredSet | null;
  /** Elements added to the RE2Set. */
  added: number;
  /** Characters and estimated program size of the elements added to the RE2Set. */
  compiledChars: number;
  compiledCost: number;
  /** Estimated program size of every valid element (the list's limit, as before plain names were set aside). */
  spent: number;
  everything: boolean;
}

/** An RE2Set whose DFA cache size is chosen once every element is known. */
interface DeferredSet {
  readonly set: RE2Set;
  setMaxMem(bytes: number): void;
}

function deferredSet(kind: Kind): DeferredSet {
  const set = new RE2Set(kind === 'whole' ? RE2Set.ANCHOR_BOTH : RE2Set.UNANCHORED, 0, MIN_DFA_BYTES);
  return {
    set,
    setMaxMem(bytes: number) {
      // re2js reads maxMem when compile() creates the DFA.
      (set as unknown as { maxMem: number }).maxMem = bytes;
    },
  };
}

/** Checks one element against the limits and adds it to the set or the names; returns an error reason, never throws. */
function admitElement(kind: Kind, element: string, limits: Required<PatternLimits>, state: AdmitState): string | undefined {
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
  if (kind === 'whole' && plainName.test(element)) {
    state.literals.push(element);
  } else {
    state.set ??= deferredSet(kind);
    try {
      state.set.set.add(element);
    } catch (err) {
      return errorMessage(err);
    }
    state.added++;
    state.compiledChars += element.length;
    state.compiledCost += cost;
  }
  state.valid.push(element);
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
 * Compiles the joined program up front, so that matching never meets a compile error, then lets go of the parsed
 * elements (matching uses only the program; they are more than half of what a compiled set retains).
 * Returns undefined on failure (which the size budget should make impossible).
 */
function compileSet(deferred: DeferredSet, source: string, errors: PatternError[]): RE2Set | undefined {
  const { set } = deferred;
  try {
    set.compile();
    if (canDropParsed(deferred)) (set as unknown as { regexps: unknown[] }).regexps = [];
    return set;
  } catch (err) {
    errors.push(patternError(source, `pattern list failed to compile: ${errorMessage(err)}`));
    return undefined;
  }
}

/** re2js 2.x keeps the parsed elements in `regexps` after compiling; if a release stops doing so, weigh conservatively. */
function canDropParsed(deferred: DeferredSet): boolean {
  return Array.isArray((deferred.set as unknown as { regexps?: unknown }).regexps);
}

const dropsParsedInThisRe2js = canDropParsed(deferredSet('whole'));

interface PatternsInit {
  source: string;
  elements: readonly string[];
  errors: readonly PatternError[];
  matchesEverything: boolean;
  /** null: no element needs the program. */
  set: RE2Set | null;
  /** Plain-name elements, matched by lookup. */
  names?: ReadonlySet<string>;
  literals?: ReadonlySet<string>;
  overBudget?: boolean;
}

/** An element that, matched as a whole name, matches exactly itself. */
const plainName = /^[A-Za-z0-9-]+$/;

function freezePatterns({ source, elements, errors, matchesEverything, set, names, literals, overBudget }: PatternsInit): NamespacePatterns {
  const matches = matchesEverything
    ? () => true
    : names && set
      ? (namespace: string) => names.has(namespace) || set.match(namespace).length > 0
      : names
        ? (namespace: string) => names.has(namespace) // same answer as the RE2 program, without running it
        : set
          ? (namespace: string) => set.match(namespace).length > 0
          : () => false;
  return Object.freeze({
    source,
    elements: Object.freeze([...elements]),
    errors: Object.freeze(errors.map((e) => Object.freeze({ ...e }))),
    matchesEverything,
    ...(literals ? { literals } : {}),
    ...(overBudget ? { overBudget } : {}),
    matches,
  });
}

/** A list the budget refused: it matches nothing, and its one error (about the whole list) says why. */
function refusedPatterns(source: string, reason: string): NamespacePatterns {
  const error: PatternError = { element: truncate(source, ERROR_ELEMENT_CHARS), reason: truncate(reason, ERROR_REASON_CHARS), wholeList: true };
  return freezePatterns({ source, elements: [], errors: [error], matchesEverything: false, set: null, overBudget: true });
}

function toCompileResult(built: NamespacePatterns): CompileResult {
  const error = built.errors[0];
  if (error) return Object.freeze({ ok: false, reason: error.reason });
  if (built.elements.length === 0) return Object.freeze({ ok: false, reason: 'empty pattern' });
  return Object.freeze({ ok: true, matches: built.matches });
}

/** Scales the DFA cache with the list, so that short lists stay cheap to memoise. */
function dfaBudget(chars: number): number {
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
// Memoisation and the memory budget.
//
// The same annotation value is parsed on every event, so parsed lists are memoised by their text (kind, limits and
// raw value): every source with the same list shares one compiled program. Lists held by annotation rules
// (parseNamespacePatterns with a holder) are charged to a budget: one holder (a source's field) holds at most one
// list; a list costs its namespace its weight once however many of the namespace's sources hold it, and costs the
// total once however many namespaces do. A list that would take its namespace over its share, or the total over the
// budget, is refused before it is compiled: the process never pays for it, the source gets the reason. Lists no one
// holds (released ones, and those parsed without a holder: policies, pull consent, flags) are kept least recently
// used first, within a quarter of the budget and 512 entries, and are dropped first when a held list needs room.
//
// Deterministic by construction (no clocks, no GC hooks): the same sequence of calls gives the same answers.
// Refusals stick to their holder until it holds another list (or is released), so parsing the same source again
// gives the same answer.

const MiB = 1024 * 1024;

export interface PatternBudget {
  /** Estimated bytes of every list compiled and memoised, held or not. */
  totalBytes: number;
  /** Estimated bytes the lists held for one share (source namespace) may take. */
  shareBytes: number;
}

/** How many namespaces at their full share fill the total. */
const SHARES_PER_BUDGET = 8;

export const defaultPatternBudget: Readonly<PatternBudget> = Object.freeze({ totalBytes: 64 * MiB, shareBytes: 8 * MiB });

let budget: PatternBudget = { ...defaultPatternBudget };

/**
 * Sets the budget (--pattern-memory-budget): `shareBytes` defaults to an eighth of the total. Lists already held stay
 * held; unheld ones beyond the new bounds are dropped.
 */
export function configurePatternBudget(totalBytes: number, shareBytes = Math.floor(totalBytes / SHARES_PER_BUDGET)): void {
  if (!(totalBytes > 0) || !(shareBytes > 0)) throw new RangeError('the pattern memory budget must be positive');
  budget = { totalBytes, shareBytes: Math.min(shareBytes, totalBytes) };
  trimIdle();
}

const IDLE_MAX_ENTRIES = 512;
const idleMaxBytes = () => Math.floor(budget.totalBytes / 4);
/** What a list costs besides its text, its names and its program. */
const FIXED_BYTES = 1024;
/** Per element: its string in `elements` (header, slot) and its share of the frozen array. */
const BYTES_PER_ELEMENT = 48;
/** Per plain name: its entry in the lookup Set (measured ~40). */
const BYTES_PER_NAME = 64;
/**
 * Measured with re2js 2.10 after compile, per estimated instruction, DFA excluded: 90-130 bytes once the parsed
 * elements are dropped, 200-350 while they are kept.
 */
const BYTES_PER_INSTRUCTION = 160;
const BYTES_PER_INSTRUCTION_KEEPING_PARSED = 350;

function weightOf(source: string, elements: readonly string[], names: number, instructions: number, dfaBytes: number, dropsParsed: boolean): number {
  let chars = 0;
  for (const e of elements) chars += e.length;
  const perInstruction = dropsParsed ? BYTES_PER_INSTRUCTION : BYTES_PER_INSTRUCTION_KEEPING_PARSED;
  // The source twice: the list's own copy and the memo key.
  return FIXED_BYTES + 4 * source.length + 2 * chars + BYTES_PER_ELEMENT * elements.length + BYTES_PER_NAME * names + perInstruction * instructions + dfaBytes;
}

interface Entry {
  readonly key: string;
  readonly built: Built;
  /** owner → share. */
  readonly holders: Map<string, string>;
  /** share → how many of its owners hold this entry. */
  readonly shares: Map<string, number>;
}

interface Holding {
  key: string;
  share: string;
  /** Set when the budget refused the list: the answer given again until the holder changes list. */
  refused?: NamespacePatterns;
}

/** Every memoised list. */
const entries = new Map<string, Entry>();
/** The entries no one holds, least recently used first. */
const idle = new Map<string, Entry>();
const holdings = new Map<string, Holding>();
/** Bytes charged per share. */
const shareUse = new Map<string, number>();
let totalWeight = 0;
let idleWeight = 0;

function cacheKey(kind: string, raw: string, limits: PatternLimits | undefined): string {
  const l = limits ? `${limits.maxElements}/${limits.maxElementLength}/${limits.maxProgramSize ?? ''}` : '';
  return `${kind}\u0000${l}\u0000${raw}`;
}

function cached(kind: string, raw: string, limits: PatternLimits | undefined, holder: PatternHolder | undefined, build: (admit: Admit) => Built): NamespacePatterns {
  // Callers are typed, but a missing annotation must not poison the key "undefined".
  if (typeof raw !== 'string') {
    if (holder) releasePatterns(holder.owner);
    return safely(raw, () => build(() => undefined)).patterns;
  }
  const key = cacheKey(kind, raw, limits);
  if (holder) {
    const previous = holdings.get(holder.owner);
    if (previous && previous.key === key && previous.share === holder.share) return previous.refused ?? entries.get(key)!.built.patterns;
    if (previous) releasePatterns(holder.owner);
  }
  const hit = entries.get(key);
  if (hit) {
    if (!holder) {
      touch(hit);
      return hit.built.patterns;
    }
    const refusal = hit.shares.has(holder.share) ? undefined : shareRefusal(hit.built.weight, holder.share);
    if (refusal !== undefined) return refuse(holder, key, raw, refusal);
    hold(hit, holder);
    return hit.built.patterns;
  }
  const built = safely(raw, () => build((weight) => (holder ? admitHeld(weight, holder.share) : undefined)));
  if (built.refused) {
    if (holder) holdings.set(holder.owner, { key, share: holder.share, refused: built.patterns });
    return built.patterns;
  }
  if (holder) {
    const entry = insert(key, built);
    hold(entry, holder);
  } else if (fitsIdle(built.weight)) {
    const entry = insert(key, built);
    idle.set(key, entry);
    idleWeight += built.weight;
    trimIdle();
  }
  return built.patterns;
}

/** Why a new list of `weight` bytes cannot be held for `share`, if it cannot; makes room among unheld lists if it can. */
function admitHeld(weight: number, share: string): string | undefined {
  const refusal = shareRefusal(weight, share);
  if (refusal !== undefined) return refusal;
  if (totalWeight - idleWeight + weight > budget.totalBytes) {
    return `the pattern list is refused: compiled, it would take all compiled patterns to ${mib(totalWeight - idleWeight + weight)}, over --pattern-memory-budget (${mib(budget.totalBytes)})`;
  }
  while (totalWeight + weight > budget.totalBytes && idle.size > 0) dropOldestIdle();
  return undefined;
}

function shareRefusal(weight: number, share: string): string | undefined {
  const used = shareUse.get(share) ?? 0;
  if (used + weight <= budget.shareBytes) return undefined;
  return `the pattern list is refused: compiled, it would take the patterns of namespace ${share} to ${mib(used + weight)}, over its share (${mib(budget.shareBytes)}) of --pattern-memory-budget (${mib(budget.totalBytes)})`;
}

function refuse(holder: PatternHolder, key: string, raw: string, reason: string): NamespacePatterns {
  const patterns = refusedPatterns(raw, reason);
  holdings.set(holder.owner, { key, share: holder.share, refused: patterns });
  return patterns;
}

function insert(key: string, built: Built): Entry {
  const entry: Entry = { key, built, holders: new Map(), shares: new Map() };
  entries.set(key, entry);
  totalWeight += built.weight;
  return entry;
}

function hold(entry: Entry, holder: PatternHolder): void {
  if (entry.holders.size === 0 && idle.delete(entry.key)) idleWeight -= entry.built.weight;
  entry.holders.set(holder.owner, holder.share);
  const n = entry.shares.get(holder.share) ?? 0;
  entry.shares.set(holder.share, n + 1);
  if (n === 0) shareUse.set(holder.share, (shareUse.get(holder.share) ?? 0) + entry.built.weight);
  holdings.set(holder.owner, { key: entry.key, share: holder.share });
}

/**
 * `owner` no longer needs the list it held (its source was deleted, or no longer has the annotation). The list's
 * cost leaves the namespace's share; unless another holder needs it, the list becomes unheld (kept while it fits,
 * least recently used first).
 */
export function releasePatterns(owner: string): void {
  const holding = holdings.get(owner);
  if (!holding) return;
  holdings.delete(owner);
  const entry = holding.refused ? undefined : entries.get(holding.key);
  if (!entry?.holders.delete(owner)) return;
  const n = entry.shares.get(holding.share)! - 1;
  if (n > 0) entry.shares.set(holding.share, n);
  else {
    entry.shares.delete(holding.share);
    const left = shareUse.get(holding.share)! - entry.built.weight;
    if (left > 0) shareUse.set(holding.share, left);
    else shareUse.delete(holding.share);
  }
  if (entry.holders.size === 0) {
    idle.set(entry.key, entry);
    idleWeight += entry.built.weight;
    trimIdle();
  }
}

function fitsIdle(weight: number): boolean {
  return weight <= idleMaxBytes() && totalWeight - idleWeight + weight <= budget.totalBytes;
}

function touch(entry: Entry): void {
  if (!idle.delete(entry.key)) return;
  idle.set(entry.key, entry);
}

function trimIdle(): void {
  while (idle.size > 0 && (idle.size > IDLE_MAX_ENTRIES || idleWeight > idleMaxBytes() || totalWeight > budget.totalBytes)) dropOldestIdle();
}

function dropOldestIdle(): void {
  // Map iterates in insertion order, so the first key is the least recently used.
  const entry = idle.values().next().value as Entry;
  idle.delete(entry.key);
  entries.delete(entry.key);
  idleWeight -= entry.built.weight;
  totalWeight -= entry.built.weight;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

export interface PatternMemoryUsage {
  /** Estimated bytes of every memoised list. */
  totalBytes: number;
  /** Of which no one holds. */
  idleBytes: number;
  entries: number;
  /** Bytes charged per share (source namespace). */
  shares: Record<string, number>;
}

export function patternMemoryUsage(): PatternMemoryUsage {
  return { totalBytes: totalWeight, idleBytes: idleWeight, entries: entries.size, shares: Object.fromEntries(shareUse) };
}

/** Drops the lists no one holds (for tests and for callers that want to release memory). */
export function clearPatternCache(): void {
  while (idle.size > 0) dropOldestIdle();
}

/** Forgets every list, holder and charge, and restores the default budget (for tests). */
export function resetPatterns(): void {
  entries.clear();
  idle.clear();
  holdings.clear();
  shareUse.clear();
  totalWeight = 0;
  idleWeight = 0;
  budget = { ...defaultPatternBudget };
}
