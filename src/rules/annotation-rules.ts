// mittwald's annotation dialect → rules. No I/O; the same object gives the same rules and problems, except that a
// push rule's `replicate-to` list is held against the pattern memory budget (patterns.ts), so whether it fits
// depends on what the source's namespace already holds.
import type { Kind } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { refKey, refOf } from '../model/objects.ts';
import { annotationRuleId } from './rule-id.ts';
import { parseNamespacePatterns, releasePatterns } from './patterns.ts';
import { parseLabelSelector } from './selector.ts';
import type { PushRule, RuleProblem, TargetNamespaces } from './types.ts';
import { annotations as A } from './vocabulary.ts';

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
  return A.replicateTo in a || A.replicateToMatching in a;
}

export interface PushRuleResult {
  rule?: PushRule;
  problems: RuleProblem[];
}

/** Who holds a source's `replicate-to` list against the pattern memory budget. */
const replicateToHolder = (kind: Kind, namespace: string, name: string) => ({ owner: `${A.replicateTo} ${kind}/${namespace}/${name}`, share: namespace });

/**
 * The push rule of an annotated source, if any. Invalid parts are reported; valid parts still work. A `replicate-to`
 * list over the source namespace's share of the pattern memory budget refuses the whole rule (the problem says so).
 */
export function pushRuleFromAnnotations(kind: Kind, obj: KubeObject): PushRuleResult {
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
  if (!targets.patterns && !targets.selector) return { problems };
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
      stripLabels: isTrue(a[A.stripLabels]),
      keepOwnerReferences: a[A.keepOwnerReferences] === 'true',
      onConflict: 'Skip',
    },
  };
}

/**
 * The source is gone: what its rule held against the pattern memory budget is released. The controller calls this
 * when a source is deleted (a source that merely loses its annotations is released by pushRuleFromAnnotations).
 */
export function forgetPushSource(kind: Kind, namespace: string, name: string): void {
  releasePatterns(replicateToHolder(kind, namespace, name).owner);
}

export interface PullSourceResult {
  source?: ObjectRef;
  problem?: RuleProblem;
}

/** The source named by `replicate-from: <namespace>/<name>` on a pull target. */
export function pullSourceFromAnnotations(kind: Kind, obj: KubeObject): PullSourceResult {
  const value = obj.metadata.annotations?.[A.replicateFrom];
  if (value === undefined) return {};
  const slash = value.indexOf('/');
  const namespace = value.slice(0, slash).trim();
  const name = value.slice(slash + 1).trim();
  if (slash < 0 || !namespace || !name || name.includes('/')) {
    return { problem: { field: A.replicateFrom, message: `"${value.slice(0, 120)}" is not of the form <namespace>/<name>` } };
  }
  return { source: { kind, namespace, name } };
}

export interface Consent {
  allowed: boolean;
  reason: string;
}

/** Whether a pull source consents to being copied into `targetNamespace` (checked for every kind). */
export function pullConsent(source: KubeObject, targetNamespace: string, allowAll: boolean): Consent {
  if (allowAll) return { allowed: true, reason: 'allowed by --allow-all' };
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
