// `explain`: why a target is (or is not) a replica, and where a source lands. Pure: the caller hands over the
// planner's own answer (Plan) with the rules and namespaces it planned from; this module only names, per rule and
// per namespace, which of the targeting and planning decisions applied. Content appears as key names and hashes.
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { formatRef } from '../model/objects.ts';
import { sha256Hex } from '../model/sha256.ts';
import { ruleLabel } from '../rules/rule-id.ts';
import { namespacePushRefusal, targetsMatch, type NamespaceRefusal } from '../rules/targeting.ts';
import { ruleTier } from '../rules/trust.ts';
import type { NamespaceView, PushRule, Settings, TargetNamespaces, Tier } from '../rules/types.ts';
import { annotations as A, namespaceReplicationLabel, provenance as P, reflector } from '../rules/vocabulary.ts';
import { desiredPushReplica } from './desired.ts';
import { classify, type Ownership } from './ownership.ts';
import { actionOf, type Outcome, type Plan } from './plan.ts';

/** Why a rule does not reach a namespace: the namespace's own refusals, or the rule's targets. */
export type NotTargeted = NamespaceRefusal | 'SourceNamespace' | 'NotSelected' | 'ExcludedByRule' | 'InvalidPattern';

export interface Reason {
  reason: string;
  message: string;
}

/**
 * Why `rule` does not want a replica in `ns`; undefined when it does. The rule's own targets are asked first: a
 * namespace the rule never names is explained by that, not by a label it would not matter without.
 */
export function notTargeted(rule: PushRule, ns: NamespaceView, settings: Settings): Reason & { reason: NotTargeted } | undefined {
  if (ns.name === rule.source.namespace) return { reason: 'SourceNamespace', message: `${ns.name} is the source's own namespace` };
  if (!targetsMatch(rule.targets, ns)) return whyNotMatched(rule, ns);
  const refusal = namespacePushRefusal(ns, settings);
  if (!refusal) return undefined;
  const messages: Record<NamespaceRefusal, string> = {
    Terminating: `namespace ${ns.name} is being deleted`,
    Excluded: `namespace ${ns.name} matches --exclude-namespaces (${settings.excludeNamespaces?.source ?? ''})`,
    DenyLabel: `namespace ${ns.name} is labelled ${namespaceReplicationLabel}=deny`,
    NotOptedIn: `namespace ${ns.name} has not opted in: --require-namespace-opt-in needs the label ${namespaceReplicationLabel}=allow`,
  };
  return { reason: refusal, message: messages[refusal] };
}

function whyNotMatched(rule: PushRule, ns: NamespaceView): Reason & { reason: NotTargeted } {
  const t = rule.targets;
  const who = ruleName(rule);
  if (t.exclude?.matches(ns.name)) return { reason: 'ExcludedByRule', message: `${who} excludes ${ns.name} (${t.exclude.source})` };
  const bad = invalidPatterns(rule);
  if (bad) return { reason: 'InvalidPattern', message: bad };
  return { reason: 'NotSelected', message: `${who} ${describeTargets(t, ns)}` };
}

/** What is wrong with a rule's namespace patterns (an invalid one matches nothing); undefined when nothing is. */
function invalidPatterns(rule: PushRule): string | undefined {
  const t = rule.targets;
  const bad = [t, t.within, t.also].flatMap((x) => x?.patterns?.errors ?? []);
  return bad.length ? `invalid namespace pattern in ${ruleName(rule)} (it matches nothing): ${bad.map((e) => (e.wholeList ? e.reason : `"${e.element}": ${e.reason}`)).join('; ')}` : undefined;
}

/** What the targets ask for, and what `ns` lacks of it (the labels a selector reads, as the namespace has them). */
function describeTargets(t: TargetNamespaces, ns: NamespaceView): string {
  const parts: string[] = [];
  if (t.patterns) parts.push(`names namespaces "${t.patterns.source}"`);
  if (t.selector) {
    const have = [...new Set(t.selector.requirements.map((r) => r.key))]
      .map((k) => (ns.labels[k] === undefined ? `lacks ${k}` : `has ${k}=${ns.labels[k]}`));
    parts.push(`selects namespaces by label "${t.selector.text}"${have.length ? ` but ${ns.name} ${have.join(', ')}` : ''}`);
  }
  const within = t.within ? `, only within those it allows (${t.within.patterns?.source ?? t.within.selector?.text ?? ''})` : '';
  return `${parts.join(' or ') || 'names no namespace'}${within}; ${ns.name} is not one of them`;
}

const ruleName = (rule: PushRule): string => (rule.origin.type === 'policy'
  ? `ReplicationPolicy ${rule.origin.name}` : `the annotations on ${rule.source.namespace}/${rule.source.name}`);

export type RuleState = 'winner' | 'lost' | 'refused' | 'notTargeted' | 'sourceMissing' | 'overriddenByPull';

export interface RuleVerdict {
  rule: string;
  /** `annotation` or `policy/<name>`, as a replica records it. */
  origin: string;
  source: string;
  tier: Tier;
  priority: number;
  state: RuleState;
  reason?: string;
  message?: string;
}

/** An Event kube-replicator recorded on an object: what its last writes (or refusals) came to. */
export interface RecordedEvent {
  type: string;
  reason: string;
  message: string;
  /** When it last happened. */
  at?: string;
  count?: number;
}

export const newestFirst = (events: readonly RecordedEvent[]): RecordedEvent[] => [...events].sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));

const eventsShown = 5; // per object in text; -o json has them all

export function renderEvents(events: readonly RecordedEvent[], indent: string): string[] {
  const lines = events.slice(0, eventsShown).map((e) => `${indent}${e.at ?? '?'} ${e.type} ${e.reason}${e.count && e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`);
  if (events.length > eventsShown) lines.push(`${indent}… and ${events.length - eventsShown} earlier Events (-o json has them all)`);
  return lines;
}

export interface ExplainedNote {
  type: 'Normal' | 'Warning';
  reason: string;
  on: string;
  message: string;
}

/**
 * Key names and a short sha256 of each value, never the value. Salted per run: comparable within one answer
 * (desired against actual), but no use for guessing a short value offline, nor comparable across answers.
 */
export type KeyHashes = Record<string, string>;

export interface TargetExplanation {
  target: string;
  kind: string;
  namespace: string;
  name: string;
  exists: boolean;
  /** What the live object is to kube-replicator. */
  role: 'replica' | 'pullTarget' | 'legacyReplica' | 'other' | 'absent';
  /** False when the namespace is not in what the caller may read (or does not exist): nothing about it is guessed. */
  namespaceVisible: boolean;
  rules: RuleVerdict[];
  winner?: string;
  tier?: Tier;
  outcome: Outcome;
  /** The write a reconcile would make now, if any. */
  action?: string;
  notes: ExplainedNote[];
  content?: { desired?: KeyHashes; actual?: KeyHashes };
  lastWrite?: { at?: string; rule?: string; source?: string; tier?: string; contentHash?: string };
  /** kube-replicator's Events on the object, newest first: how its last writes went (set by the caller). */
  events?: RecordedEvent[];
  /** `consent`: the source's answer as the planner found it (what a puller's Event does not tell; see planPull). */
  pull?: { via?: string; source?: string; consent?: string };
  /** One line: the state, or the nearest reason it is not a replica. */
  summary: string;
}

export interface ExplainTargetInput {
  target: ObjectRef;
  spec: KindSpec;
  /** The live object with its content (absent: it does not exist). */
  live?: KubeObject;
  /** The target's namespace as rules see it; absent: not visible to the caller, or missing. */
  namespace?: NamespaceView;
  /** Every rule whose source has the target's kind and name (the controller's candidates before targeting). */
  rules: readonly PushRule[];
  /** A rule's source with its content, as the planner saw it. */
  source(ref: ObjectRef): KubeObject | undefined;
  settings: Settings;
  /** The planner's answer for this target (Controller.dryRun). */
  plan: Plan;
  now: string;
  /** Random, per run: see KeyHashes. */
  salt: string;
}

/** What an object is to kube-replicator, as explain names it. */
export function roleOf(o: Ownership): TargetExplanation['role'] {
  const roles: Record<Ownership['type'], TargetExplanation['role']> = { absent: 'absent', ours: 'replica', pullTarget: 'pullTarget', legacy: 'legacyReplica', foreign: 'other' };
  return roles[o.type];
}

export function hashKeys(spec: KindSpec, obj: KubeObject | undefined, salt: string): KeyHashes | undefined {
  if (!obj || !spec.dataMaps) return undefined;
  const out: KeyHashes = {};
  for (const m of spec.dataMaps) {
    const map = (obj as unknown as Record<string, Record<string, string> | undefined>)[m] ?? {};
    for (const k of Object.keys(map).sort()) out[m === 'data' ? k : `${m}.${k}`] = `sha256:${sha256Hex(`${salt}\0${String(map[k])}`).slice(0, 12)}`;
  }
  return out;
}

export function explainTarget(input: ExplainTargetInput): TargetExplanation {
  const { target, plan: p, settings, live } = input;
  const role = roleOf(classify(live, true, target.kind));
  const losers = new Set(p.losers ?? []);
  const rules = input.rules.map((rule): RuleVerdict => {
    const base = { rule: rule.id, origin: ruleLabel(rule.origin), source: `${rule.source.namespace}/${rule.source.name}`, tier: ruleTier(rule, settings), priority: rule.priority };
    if (!input.namespace) return { ...base, state: 'notTargeted', reason: 'NotVisible', message: `namespace ${target.namespace} is not visible (it does not exist, or you may not read it)` };
    const not = notTargeted(rule, input.namespace, settings);
    if (not) return { ...base, state: 'notTargeted', ...not };
    if (rule.id === p.owner) return { ...base, state: 'winner' };
    const onSource = p.notes.find((n) => n.type === 'Warning' && n.on.namespace === rule.source.namespace && n.on.name === rule.source.name && n.on.kind === rule.source.kind);
    if (losers.has(rule.id)) return { ...base, state: 'lost', reason: 'RuleConflict', message: onSource?.message };
    if (role === 'pullTarget') return { ...base, state: 'overriddenByPull', reason: 'TargetConflict', message: onSource?.message ?? `${formatRef(target)} pulls from a source of its own` };
    if (!input.source(rule.source)) return { ...base, state: 'sourceMissing', reason: 'SourceMissing', message: `source ${base.source} does not exist or is not visible` };
    return { ...base, state: 'refused', reason: onSource?.reason, message: onSource?.message };
  });
  const winnerRule = input.rules.find((r) => r.id === p.owner);
  const winnerSource = winnerRule && input.source(winnerRule.source);
  const desired = winnerRule && winnerSource && input.spec.dataMaps
    ? desiredPushReplica(input.spec, winnerRule, winnerSource, target.namespace, live, input.now, p.tier ?? 'untrusted') : undefined;
  const a = live?.metadata.annotations ?? {};
  const e: TargetExplanation = {
    target: formatRef(target), kind: target.kind, namespace: target.namespace, name: target.name,
    exists: Boolean(live), role, namespaceVisible: Boolean(input.namespace), rules,
    ...(p.owner ? { winner: p.owner } : {}), ...(p.tier ? { tier: p.tier } : {}),
    outcome: p.outcome, ...(p.write ? { action: actionOf(p.write) } : {}),
    notes: p.notes.map((n) => ({ type: n.type, reason: n.reason, on: formatRef(n.on), message: n.message })),
    summary: '',
  };
  if (input.spec.dataMaps && (live || desired)) e.content = { ...(desired ? { desired: hashKeys(input.spec, desired, input.salt) } : {}), ...(live ? { actual: hashKeys(input.spec, live, input.salt) } : {}) };
  if (role === 'replica') {
    e.lastWrite = { at: a[A.replicatedAt], rule: a[P.rule], source: a[P.source], tier: a[P.tier], contentHash: a[P.contentHash] };
  }
  if (role === 'pullTarget') {
    const refused = p.notes.find((n) => n.reason === 'ReplicationNotPermitted');
    const consent = refused ? `not permitted: ${refused.message.slice(refused.message.indexOf(': ') + 2)}`
      : p.notes.some((n) => n.reason === 'SourceNotAvailable') ? 'no source to ask (it does not exist)'
        : p.outcome === 'Invalid' ? undefined : 'permitted';
    e.pull = { ...pullAsked(a), ...(consent ? { consent } : {}) };
  }
  e.summary = summarize(e);
  return e;
}

/** The pull a target's annotations ask for: mittwald's `replicate-from` first, else Reflector's `reflects`. */
export function pullAsked(a: Record<string, string>): { via: 'replicate-from' | 'reflects'; source?: string } {
  return a[A.replicateFrom] !== undefined ? { via: 'replicate-from', source: a[A.replicateFrom] } : { via: 'reflects', source: a[reflector.reflects] };
}

/** The warning about the target itself: a loser's RuleConflict is about another rule (its verdict says so). */
function winnersWarning(e: TargetExplanation): ExplainedNote | undefined {
  return e.notes.find((n) => n.type === 'Warning' && n.reason !== 'RuleConflict') ?? e.notes.find((n) => n.type === 'Warning');
}

function summarize(e: TargetExplanation): string {
  if (!e.namespaceVisible) return `namespace ${e.namespace} is not visible (it does not exist, or you may not read it)`;
  const winner = e.rules.find((r) => r.state === 'winner');
  const firstWarning = winnersWarning(e);
  if (winner) {
    const by = `${winner.origin} rule from ${winner.source} (${winner.tier})`;
    const states: Partial<Record<Outcome, string>> = {
      InSync: `in sync: replicated by the ${by}`,
      Written: `pending: a reconcile would ${e.action ?? 'write'} it, by the ${by}`,
      NeedContent: `replicated by the ${by}; its content is compared at the next reconcile`,
      Suspended: `replicated by the ${by}, whose policy is suspended: left as it is`,
    };
    return states[e.outcome] ?? `${e.outcome}: ${firstWarning ? `${firstWarning.reason}: ${firstWarning.message}` : `wanted by the ${by}`}`;
  }
  if (e.role === 'pullTarget') {
    const from = `${e.pull?.source ?? '?'} (${e.pull?.via ?? ''})`;
    if (e.outcome === 'InSync') return `in sync: pulls from ${from}`;
    if (e.outcome === 'Written') return `pending: a reconcile would ${e.action ?? 'write'} it from ${from}`;
    return `pulls from ${from}: ${e.outcome}${firstWarning ? `: ${firstWarning.reason}: ${firstWarning.message}` : ''}`;
  }
  if (e.rules.length === 0) return `no rule replicates a ${e.kind} named ${e.name} (no annotated source, no ReplicationPolicy selects one)`;
  const nearest = e.rules.find((r) => r.state === 'refused') ?? e.rules.find((r) => r.reason !== 'NotSelected' && r.reason !== 'SourceNamespace') ?? e.rules[0]!;
  const verb = e.exists ? 'not replicated' : 'not created';
  return `${verb}: ${nearest.reason ?? nearest.state}: ${nearest.message ?? ''}`.trimEnd();
}

// ---- sources ---------------------------------------------------------------------------------

export type NamespaceState = 'inSync' | 'pending' | 'refused';

export interface NamespaceEntry {
  namespace: string;
  state: NamespaceState;
  /** The push rule's id, or `pull` for a pull target that names the source. */
  rule: string;
  /** A pull target's `<namespace>/<name>` (its name need not be the source's). */
  target?: string;
  reason?: string;
  message?: string;
}

/** A pull target naming the source, and the planner's answer for it. */
export interface PullPlan {
  target: ObjectRef;
  plan: Plan;
}

export interface SourceExplanation {
  source: string;
  /** `invalid`: what is wrong with the rule's namespace patterns (such a pattern matches nothing). */
  rules: { rule: string; origin: string; tier: Tier; targets: string; invalid?: string }[];
  /** How many pull targets name the source (their entries are in `namespaces`, with rule `pull`). */
  pulls: number;
  /** Namespaces by state; a namespace no rule names is not listed. */
  namespaces: NamespaceEntry[];
  counts: Record<NamespaceState, number>;
}

/**
 * Every namespace a source's rules name, by state. `planOf` is the planner's answer for the target in a namespace
 * the rule does target (undefined: not planned, e.g. not visible).
 */
export function explainSource(source: ObjectRef, rules: readonly PushRule[], namespaces: readonly NamespaceView[], settings: Settings, planOf: (ns: string) => Plan | undefined, pulls: readonly PullPlan[] = []): SourceExplanation {
  const entries: NamespaceEntry[] = [];
  for (const ns of namespaces) {
    for (const rule of rules) {
      const not = notTargeted(rule, ns, settings);
      if (not?.reason === 'NotSelected' || not?.reason === 'SourceNamespace' || not?.reason === 'InvalidPattern') continue;
      const base = { namespace: ns.name, rule: rule.id };
      if (not) { entries.push({ ...base, state: 'refused', ...not }); continue; }
      const p = planOf(ns.name);
      if (!p) continue;
      // A rule that lost is told so (RuleConflict); the winner's own refusal is another warning. Both rules may have
      // this source (an annotation and a policy), so the object a note is on does not tell them apart.
      const lost = p.losers?.includes(rule.id) ?? false;
      const about = (n: Plan['notes'][number]) => n.type === 'Warning' && (n.reason === 'RuleConflict') === lost;
      const onSource = (n: Plan['notes'][number]) => n.on.kind === source.kind && n.on.namespace === source.namespace && n.on.name === source.name;
      const warning = p.notes.find((n) => about(n) && onSource(n)) ?? p.notes.find(about);
      if (lost) entries.push({ ...base, state: 'refused', reason: 'RuleConflict', ...(warning ? { message: warning.message } : {}) });
      else if (p.owner === rule.id && p.outcome === 'InSync') entries.push({ ...base, state: 'inSync' });
      else if (p.owner === rule.id && (p.outcome === 'Written' || p.outcome === 'NeedContent' || p.outcome === 'Waiting' || p.outcome === 'Suspended')) {
        entries.push({ ...base, state: 'pending', reason: p.outcome === 'Written' && p.write ? actionOf(p.write) : p.outcome, ...(warning ? { message: warning.message } : {}) });
      } else entries.push({ ...base, state: 'refused', reason: warning?.reason ?? p.outcome, ...(warning ? { message: warning.message } : {}) });
    }
  }
  for (const { target, plan: p } of pulls) {
    const base = { namespace: target.namespace, rule: 'pull', target: `${target.namespace}/${target.name}` };
    // The source owner's view: the consent check's answer (ReplicationNotPermitted, recorded on the source).
    const warning = p.notes.find((n) => n.type === 'Warning' && n.reason === 'ReplicationNotPermitted') ?? p.notes.find((n) => n.type === 'Warning');
    if (p.outcome === 'InSync') entries.push({ ...base, state: 'inSync' });
    else if (p.outcome === 'Written' && !warning) entries.push({ ...base, state: 'pending', reason: p.write ? actionOf(p.write) : p.outcome });
    else entries.push({ ...base, state: 'refused', reason: warning?.reason ?? p.outcome, ...(warning ? { message: warning.message } : {}) });
  }
  const counts = { inSync: 0, pending: 0, refused: 0 };
  for (const x of entries) counts[x.state]++;
  return {
    source: formatRef(source),
    rules: rules.map((r) => {
      const invalid = invalidPatterns(r);
      return { rule: r.id, origin: ruleLabel(r.origin), tier: ruleTier(r, settings), targets: targetsText(r.targets), ...(invalid ? { invalid } : {}) };
    }),
    pulls: pulls.length, namespaces: entries, counts,
  };
}

function targetsText(t: TargetNamespaces): string {
  const parts = [t.patterns && `namespaces "${t.patterns.source}"`, t.selector && `labels "${t.selector.text}"`, t.exclude && `except "${t.exclude.source}"`].filter(Boolean);
  return parts.join(', ') || 'none';
}

// ---- namespaces ------------------------------------------------------------------------------

export interface NamespaceObject {
  target: string;
  state: NamespaceState;
  /** The winning rule, or the rule refused (absent for a pull target). */
  rule?: string;
  reason?: string;
  message?: string;
}

export interface NamespaceExplanation {
  namespace: string;
  /** False: the namespace does not exist, or the caller may not read it. */
  visible: boolean;
  objects: NamespaceObject[];
  counts: Record<NamespaceState, number>;
}

/** Where one explained target stands; undefined when nothing concerns it. */
function standing(e: TargetExplanation): NamespaceObject | undefined {
  const warning = winnersWarning(e);
  const refused = (rule: string | undefined, reason: string | undefined, message: string | undefined): NamespaceObject =>
    ({ target: e.target, state: 'refused', ...(rule ? { rule } : {}), reason: reason ?? e.outcome, ...(message ? { message } : {}) });
  const pending = ['Written', 'NeedContent', 'Waiting', 'Suspended', 'Removed'];
  if (e.winner || e.role === 'pullTarget' || e.role === 'replica') {
    const rule = e.winner;
    if (e.outcome === 'InSync') return { target: e.target, state: 'inSync', ...(rule ? { rule } : {}) };
    if (pending.includes(e.outcome) && !(e.role === 'pullTarget' && warning)) {
      return { target: e.target, state: 'pending', ...(rule ? { rule } : {}), reason: e.action ?? e.outcome, ...(warning ? { message: warning.message } : {}) };
    }
    if (rule || warning) return refused(rule, warning?.reason, warning?.message);
  }
  const r = e.rules.find((x) => x.state === 'refused' || x.state === 'lost' || x.state === 'sourceMissing');
  return r ? refused(r.rule, r.reason, r.message) : undefined;
}

/**
 * Everything replicated into a namespace and everything refused there: `targets` are the planner's explanations of
 * every object a rule targets there (or that is a replica or pull target there); rules that would target it but for
 * the namespace itself (a deny label, an exclusion, no opt-in) are named from `rules`.
 */
export function explainNamespace(name: string, view: NamespaceView | undefined, targets: readonly TargetExplanation[], rules: Iterable<PushRule>, settings: Settings): NamespaceExplanation {
  const objects: NamespaceObject[] = [];
  if (view) {
    for (const t of targets) {
      const s = standing(t);
      if (s) objects.push(s);
    }
    for (const rule of rules) {
      const not = notTargeted(rule, view, settings);
      if (!not || ['NotSelected', 'SourceNamespace', 'InvalidPattern'].includes(not.reason)) continue;
      objects.push({ target: formatRef({ kind: rule.source.kind, namespace: name, name: rule.source.name }), state: 'refused', rule: rule.id, ...not });
    }
  }
  objects.sort((a, b) => a.target.localeCompare(b.target));
  const counts = { inSync: 0, pending: 0, refused: 0 };
  for (const x of objects) counts[x.state]++;
  return { namespace: name, visible: Boolean(view), objects, counts };
}

// ---- text ------------------------------------------------------------------------------------

const listed = 10; // names per group in text; -o json has them all

export function renderTarget(e: TargetExplanation): string {
  const lines = [`${e.target}: ${e.summary}`];
  lines.push(`  exists: ${e.exists ? `yes (${e.role})` : 'no'}`);
  if (e.rules.length) {
    lines.push('  rules that name it:');
    for (const r of e.rules) lines.push(`    ${r.state.padEnd(16)} ${r.origin} from ${r.source} (${r.tier}, priority ${r.priority})${r.reason ? `  ${r.reason}${r.message ? `: ${r.message}` : ''}` : ''}`);
  }
  if (e.pull) lines.push(`  pulls from: ${e.pull.source ?? '?'} (${e.pull.via ?? ''}); consent: ${e.pull.consent ?? '-'}`);
  lines.push(`  outcome: ${e.outcome}${e.action ? ` (would ${e.action})` : ''}`);
  for (const n of e.notes) lines.push(`    ${n.type} ${n.reason} on ${n.on}: ${n.message}`);
  if (e.content) {
    const keys = [...new Set([...Object.keys(e.content.desired ?? {}), ...Object.keys(e.content.actual ?? {})])].sort();
    lines.push('  content (key: desired / actual):');
    for (const k of keys) {
      const d = e.content.desired?.[k] ?? '-';
      const a = e.content.actual?.[k] ?? '-';
      lines.push(`    ${k}: ${d} / ${a}${e.content.desired && d !== a ? '  differs' : ''}`);
    }
  }
  if (e.lastWrite) lines.push(`  last write: ${e.lastWrite.at ?? '?'} by ${e.lastWrite.rule ?? '?'} from ${e.lastWrite.source ?? '?'} (${e.lastWrite.tier ?? '?'}), content ${e.lastWrite.contentHash ?? '?'}`);
  if (e.events?.length) lines.push('  kube-replicator\'s Events on it, newest first:', ...renderEvents(e.events, '    '));
  return `${lines.join('\n')}\n`;
}

export function renderSource(s: SourceExplanation): string {
  const pulled = s.pulls ? ` and ${s.pulls} pull target(s)` : '';
  const lines = [`${s.source}: source of ${s.rules.length} rule(s)${pulled}; ${s.counts.inSync} in sync, ${s.counts.pending} pending, ${s.counts.refused} refused`];
  for (const r of s.rules) lines.push(`  rule ${r.origin} (${r.tier}): ${r.targets}${r.invalid ? `  InvalidPattern: ${r.invalid}` : ''}`);
  for (const state of ['inSync', 'pending', 'refused'] as const) {
    const groups = new Map<string, NamespaceEntry[]>();
    for (const x of s.namespaces) {
      if (x.state !== state) continue;
      const k = x.reason ?? '';
      const group = groups.get(k);
      if (group) group.push(x);
      else groups.set(k, [x]);
    }
    for (const [reason, xs] of groups) {
      const names = xs.slice(0, listed).map((x) => (x.target ? `${x.target} (pull)` : x.namespace)).join(', ') + (xs.length > listed ? `, … and ${xs.length - listed} more` : '');
      lines.push(`  ${state}${reason ? ` (${reason})` : ''}: ${xs.length}: ${names}`);
      if (state === 'refused' && xs[0]?.message) lines.push(`    e.g. ${xs[0].message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function renderNamespace(n: NamespaceExplanation): string {
  if (!n.visible) return `namespace ${n.namespace}: not visible (it does not exist, or you may not read it)\n`;
  const lines = [`namespace ${n.namespace}: ${n.counts.inSync} in sync, ${n.counts.pending} pending, ${n.counts.refused} refused`];
  for (const x of n.objects) {
    lines.push(`  ${x.state.padEnd(8)} ${x.target}${x.rule ? `  (${x.rule})` : ''}${x.reason ? `  ${x.reason}${x.message ? `: ${x.message}` : ''}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
