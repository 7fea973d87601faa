// Annotations → rules: mittwald's dialect here, Reflector's from reflector-rules.ts, joined into one push rule per
// source, one pull source per target and one consent check. No I/O; the same object gives the same rules and
// problems, except that a push rule's pattern lists are held against the pattern memory budget (patterns.ts), so
// whether they fit depends on what the source's namespace already holds.
import type { Kind } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { refKey, refOf } from '../model/objects.ts';
import { annotationRuleId } from './rule-id.ts';
import { parseNamespacePatterns, releasePatterns } from './patterns.ts';
import { parseLabelSelector } from './selector.ts';
import type { NamespaceView, PushRule, RuleProblem, TargetNamespaces } from './types.ts';
import { forgetReflectorSource, reflectorConsent, reflectorPullValue, reflectorSource } from './reflector-rules.ts';
import { annotations as A, reflector as R } from './vocabulary.ts';

/** Go's strconv.ParseBool, which mittwald uses for `replication-allowed`. */
export function parseGoBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Our documented divergence: `strip-labels` strips only on a true value (mittwald strips on any value). */
const isTrue = (v: string | undefined) => parseGoBool(v?.trim()) === true;

export function hasPushAnnotations(obj: KubeObject): boolean {
  const a = obj.metadata.annotations ?? {};
  return A.replicateTo in a || A.replicateToMatching in a || R.autoEnabled in a;
}

export interface PushRuleResult {
  rule?: PushRule;
  problems: RuleProblem[];
}

/** Who holds a source's `replicate-to` list against the pattern memory budget. */
const replicateToHolder = (kind: Kind, namespace: string, name: string) => ({ owner: `${A.replicateTo} ${kind}/${namespace}/${name}`, share: namespace });

/**
 * The push rule of an annotated source, if any: mittwald's `replicate-to`/`replicate-to-matching` and Reflector's
 * auto-reflection, the union when a source declares both. Invalid parts are reported; valid parts still work. A
 * list over the source namespace's share of the pattern memory budget refuses that dialect's part (the problem says so).
 */
export function pushRuleFromAnnotations(kind: Kind, obj: KubeObject): PushRuleResult {
  const a = obj.metadata.annotations ?? {};
  const mittwald = mittwaldTargets(kind, obj);
  const reflector = reflectorSource(kind, obj);
  const problems = [...mittwald.problems, ...reflector.problems];
  const targets = mittwald.targets && reflector.targets ? { ...mittwald.targets, also: reflector.targets } : (mittwald.targets ?? reflector.targets);
  if (!targets) return { problems };
  const source: ObjectRef = refOf(kind, obj);
  return {
    problems,
    rule: {
      id: annotationRuleId(refKey(source)),
      origin: { type: 'annotation' },
      source,
      sourceCreated: obj.metadata.creationTimestamp ?? '',
      priority: 0,
      targets,
      // Reflector copies no labels: a source that pushes only in its dialect keeps that.
      stripLabels: mittwald.targets ? isTrue(a[A.stripLabels]) : true,
      keepOwnerReferences: a[A.keepOwnerReferences] === 'true',
      onConflict: 'Skip',
    },
  };
}

function mittwaldTargets(kind: Kind, obj: KubeObject): { targets?: TargetNamespaces; problems: RuleProblem[] } {
  const a = obj.metadata.annotations ?? {};
  const problems: RuleProblem[] = [];
  const targets: TargetNamespaces = {};
  const holder = replicateToHolder(kind, obj.metadata.namespace ?? '', obj.metadata.name);
  if (A.replicateTo in a) {
    const patterns = parseNamespacePatterns(a[A.replicateTo]!, undefined, holder);
    for (const e of patterns.errors) {
      problems.push({ field: A.replicateTo, message: e.wholeList ? e.reason : `pattern "${e.element}" ignored: ${e.reason}` });
    }
    if (patterns.overBudget) return { problems };
    if (patterns.elements.length > 0) targets.patterns = patterns;
  } else {
    releasePatterns(holder.owner);
  }
  if (A.replicateToMatching in a) {
    const parsed = parseLabelSelector(a[A.replicateToMatching]!);
    if (parsed.ok) targets.selector = parsed.selector;
    else problems.push({ field: A.replicateToMatching, message: `invalid label selector: ${parsed.error}` });
  }
  return targets.patterns || targets.selector ? { targets, problems } : { problems };
}

/**
 * The source is gone: what its rule held against the pattern memory budget is released. The controller calls this
 * when a source is deleted (a source that merely loses its annotations is released by pushRuleFromAnnotations).
 */
export function forgetPushSource(kind: Kind, namespace: string, name: string): void {
  releasePatterns(replicateToHolder(kind, namespace, name).owner);
  forgetReflectorSource(kind, namespace, name);
}

export interface PullSourceResult {
  source?: ObjectRef;
  problem?: RuleProblem;
  /** The annotation that names the source (`replicate-from` or Reflector's `reflects`), for messages. */
  via?: string;
}

/** Whether `obj` declares a source to pull from, in either dialect (valid or not). */
export function declaresPull(kind: Kind, obj: KubeObject): boolean {
  return obj.metadata.annotations?.[A.replicateFrom] !== undefined || reflectorPullValue(kind, obj) !== undefined;
}

/**
 * The source named by `replicate-from: <namespace>/<name>` or Reflector's `reflects: <namespace>/<name>` on a pull
 * target. Both on one object must name the same source.
 */
export function pullSourceFromAnnotations(kind: Kind, obj: KubeObject): PullSourceResult {
  const mittwald = obj.metadata.annotations?.[A.replicateFrom];
  const reflects = reflectorPullValue(kind, obj);
  const m = mittwald === undefined ? undefined : sourceRef(kind, A.replicateFrom, mittwald);
  const r = reflects === undefined ? undefined : sourceRef(kind, R.reflects, reflects);
  if (m?.problem || r?.problem || !m || !r) return m ?? r ?? {};
  if (refKey(m.source!) !== refKey(r.source!)) {
    return { problem: { field: R.reflects, message: `names ${r.source!.namespace}/${r.source!.name}, but ${A.replicateFrom} names ${m.source!.namespace}/${m.source!.name}` }, via: R.reflects };
  }
  return m;
}

function sourceRef(kind: Kind, field: string, value: string): PullSourceResult {
  const slash = value.indexOf('/');
  const namespace = value.slice(0, slash).trim();
  const name = value.slice(slash + 1).trim();
  if (slash < 0 || !namespace || !name || name.includes('/')) {
    return { problem: { field, message: `"${value.slice(0, 120)}" is not of the form <namespace>/<name>` }, via: field };
  }
  return { source: { kind, namespace, name }, via: field };
}

export interface Consent {
  allowed: boolean;
  reason: string;
}

/**
 * Whether a pull source consents to being copied into the target's namespace (checked for every kind): consent given
 * in either dialect counts, since the source's owner wrote both. The namespace's labels matter to Reflector's
 * selector (a bare name: no labels). `via`: the annotation the puller used, whose dialect the refusal is explained in
 * when the source says nothing in the other.
 */
export function pullConsent(kind: Kind, source: KubeObject, target: string | NamespaceView, allowAll: boolean, via: string = A.replicateFrom): Consent {
  if (allowAll) return { allowed: true, reason: 'allowed by --allow-all' };
  const ns = typeof target === 'string' ? { name: target, labels: {}, terminating: false } : target;
  const mittwald = mittwaldConsent(source, ns.name);
  const reflector = reflectorConsent(kind, source, ns);
  if (mittwald.allowed) return mittwald;
  if (reflector?.allowed) return reflector;
  const a = source.metadata.annotations ?? {};
  return reflector && (via === R.reflects || !(A.replicationAllowed in a)) ? reflector : mittwald;
}

/** What a source needs for a pull through `via` (in messages to a puller who cannot be told more). */
export function consentNeeded(via: string | undefined, targetNamespace: string): string {
  return via === R.reflects
    ? `${R.allowed}: "true" and ${R.allowedNamespaces} (or its selector) empty or matching ${targetNamespace}`
    : `${A.replicationAllowed}: "true" and ${A.replicationAllowedNamespaces} matching ${targetNamespace}`;
}

function mittwaldConsent(source: KubeObject, targetNamespace: string): Consent {
  const a = source.metadata.annotations ?? {};
  if (parseGoBool(a[A.replicationAllowed]) !== true) {
    return { allowed: false, reason: `the source does not set ${A.replicationAllowed}: "true"` };
  }
  const list = a[A.replicationAllowedNamespaces];
  if (list === undefined) return { allowed: false, reason: `the source does not set ${A.replicationAllowedNamespaces}` };
  if (!parseNamespacePatterns(list).matches(targetNamespace)) {
    return { allowed: false, reason: `namespace ${targetNamespace} does not match the source's ${A.replicationAllowedNamespaces}` };
  }
  return { allowed: true, reason: 'consented by the source' };
}
