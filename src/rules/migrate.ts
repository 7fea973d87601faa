// `kube-replicator migrate`, the pure part: annotated sources → ReplicationPolicy specs that do the same, and what
// no policy can express. It reads the sources through the same parsers the operator uses (pushRuleFromAnnotations,
// declaresPull) and turns the parsed push rule into policy terms; annotation semantics live only in those parsers.
import type { LabelSelectorObject, PolicySpec, ReplicationPolicy } from '../api/replication-policy.ts';
import { policyApiVersion } from '../api/replication-policy.ts';
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { canonical } from '../model/canonical.ts';
import { sha256Hex } from '../model/sha256.ts';
import { declaresPull, pushRuleFromAnnotations } from './annotation-rules.ts';
import type { LabelSelector } from './selector.ts';
import { rbacPushRefusal } from './targeting.ts';
import { ruleTier } from './trust.ts';
import type { PushRule, Settings, TargetNamespaces } from './types.ts';
import { annotations as A, reflector as R } from './vocabulary.ts';

export interface MigrationPolicy {
  policy: ReplicationPolicy;
  /** `<Kind> <namespace>/<name>` of each annotated source the policy replaces. */
  replaces: string[];
}

export interface NotExpressible {
  /** `<Kind> <namespace>/<name>`. */
  source: string;
  reason: string;
}

export interface Migration {
  policies: MigrationPolicy[];
  notExpressible: NotExpressible[];
}

type Targets = PolicySpec['targets'];

/** The CRD's limit on spec.source.names: a larger group is split over several policies. */
const maxNames = 64;
const dnsName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * A source name as spec.source.names matches it: DNS names are matched literally; anything else (Role names may
 * hold `:` or capitals) is compiled as a whole-name RE2 pattern, so its metacharacters are escaped.
 */
export function sourceNameEntry(name: string): string {
  return dnsName.test(name) ? name : name.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

const operators: Record<string, 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | undefined> = {
  '=': 'In', '==': 'In', in: 'In', '!=': 'NotIn', notin: 'NotIn', exists: 'Exists', '!': 'DoesNotExist',
};

/** A parsed selector in the CRD's object form; undefined when it uses `>`/`<`, which the object form lacks. */
export function selectorObject(s: LabelSelector): LabelSelectorObject | undefined {
  const matchExpressions: NonNullable<LabelSelectorObject['matchExpressions']> = [];
  for (const r of s.requirements) {
    const operator = operators[r.operator];
    if (!operator) return undefined;
    matchExpressions.push(operator === 'Exists' || operator === 'DoesNotExist' ? { key: r.key, operator } : { key: r.key, operator, values: [...r.values] });
  }
  return matchExpressions.length ? { matchExpressions } : {};
}

type TermResult = { targets: Targets } | { reason: string };

const everything = (t: TargetNamespaces): boolean =>
  !t.selector && !t.exclude && !t.within && !t.also && Boolean(t.patterns?.matchesEverything);

/**
 * A rule's targets as the policy's (namespaces OR namespaceSelector, minus exclude), when that is the same set of
 * namespaces; else why not.
 */
export function policyTargets(t: TargetNamespaces): TermResult {
  if (t.within) {
    const inner: TargetNamespaces = { ...t, within: undefined };
    // Reflector holds its auto list within its allowed list: a policy has no intersection, but either side may be
    // everything, or the auto list plain names that the allowed patterns decide now, once and for all.
    if (everything(t.within)) return policyTargets(inner);
    if (everything(inner)) return policyTargets(t.within);
    const lits = inner.patterns?.literals;
    if (lits && !inner.selector && !inner.also && !inner.exclude && !t.within.selector && !t.within.within && !t.within.also) {
      const kept = [...lits].filter((n) => t.within!.patterns?.matches(n) && !t.within!.exclude?.matches(n));
      return kept.length ? { targets: { namespaces: kept } } : { reason: 'no namespace of its auto list is in its allowed list: it reaches nothing' };
    }
    return { reason: `${R.autoNamespaces} held within ${R.allowedNamespaces} (an intersection) cannot be written as one policy's targets` };
  }
  if (t.also) {
    const a = policyTargets({ ...t, also: undefined });
    const b = policyTargets(t.also);
    if ('reason' in a) return a;
    if ('reason' in b) return b;
    // A union of two terms is one term when at most one has a selector and neither excludes anything.
    if (a.targets.exclude || b.targets.exclude) return { reason: 'a union of targets with exclusions cannot be written as one policy' };
    if (a.targets.namespaceSelector && b.targets.namespaceSelector) {
      return { reason: 'both dialects select target namespaces by labels: a policy has one namespaceSelector (their union is not one selector)' };
    }
    const namespaces = [...new Set([...(a.targets.namespaces ?? []), ...(b.targets.namespaces ?? [])])];
    const namespaceSelector = a.targets.namespaceSelector ?? b.targets.namespaceSelector;
    return { targets: { ...(namespaces.length ? { namespaces } : {}), ...(namespaceSelector ? { namespaceSelector } : {}) } };
  }
  const out: Targets = {};
  if (t.patterns && t.patterns.elements.length) out.namespaces = [...t.patterns.elements];
  if (t.selector) {
    const s = selectorObject(t.selector);
    if (!s) return { reason: `its label selector "${t.selector.text}" uses > or <, which a policy's namespaceSelector cannot` };
    out.namespaceSelector = s;
  }
  if (t.exclude && t.exclude.elements.length) out.exclude = [...t.exclude.elements];
  if (!out.namespaces && !out.namespaceSelector) return { reason: 'it targets no namespace' };
  return { targets: out };
}

interface Converted {
  kind: string;
  namespace: string;
  name: string;
  spec: Omit<PolicySpec, 'source'> & { source: { namespace: string } };
}

/** The pushes and pulls an annotated object makes, as policy pieces or reasons. */
function convert(spec: KindSpec, obj: KubeObject, settings: Settings, out: NotExpressible[]): Converted | undefined {
  const kind = spec.kind;
  const namespace = obj.metadata.namespace ?? '';
  const label = `${kind} ${namespace}/${obj.metadata.name}`;
  const a = obj.metadata.annotations ?? {};
  if (declaresPull(kind, obj)) {
    out.push({ source: label, reason: `it pulls (${A.replicateFrom in a ? A.replicateFrom : R.reflects}): a policy pushes from its source; write a policy for that source instead` });
  }
  // Reflector's allowed list is also where auto-reflection may push: on an auto-reflecting source it is part of the push.
  const reflectorConsent = R.autoEnabled in a ? [] : [R.allowed, R.allowedNamespaces, R.allowedNamespacesSelector];
  const consent = [A.replicationAllowed, A.replicationAllowedNamespaces, ...reflectorConsent].filter((k) => k in a);
  const pushes = A.replicateTo in a || A.replicateToMatching in a || R.autoEnabled in a;
  if (consent.length) {
    out.push({ source: label, reason: `its consent to pulls (${consent.join(', ')}) has no policy form (policies need none): keep these annotations while anything pulls from it` });
  }
  const parsed = pushRuleFromAnnotations(kind, obj);
  const rule = parsed.rule;
  if (!rule) {
    if (pushes && parsed.problems.length) out.push({ source: label, reason: `its push annotations are invalid, so it pushes nothing today: ${parsed.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}` });
    return undefined;
  }
  const refusal = rbacPushRefusal(spec, rule, settings);
  if (refusal) {
    out.push({ source: label, reason: `${refusal.message}: the annotation is refused today, while a policy would push it` });
    return undefined;
  }
  if (rule.keepOwnerReferences) {
    out.push({ source: label, reason: `${A.keepOwnerReferences}: a policy does not copy owner references` });
    return undefined;
  }
  const t = policyTargets(rule.targets);
  if ('reason' in t) {
    out.push({ source: label, reason: t.reason });
    return undefined;
  }
  return { kind, namespace, name: obj.metadata.name, spec: specOf(rule, t.targets, settings) };
}

function specOf(rule: PushRule, targets: Targets, settings: Settings): Converted['spec'] {
  // A tenant's push never touches a protected namespace; a policy is trusted and would, unless told not to.
  const trusted = ruleTier(rule, settings) === 'trusted';
  const protectedList = trusted ? [] : settings.protectedNamespaces?.elements ?? [];
  const exclude = [...new Set([...(targets.exclude ?? []), ...protectedList])];
  return {
    kinds: [rule.source.kind],
    source: { namespace: rule.source.namespace },
    targets: { ...targets, ...(exclude.length ? { exclude } : {}) },
    // What the annotation did: no adoption of its own (--adopt-existing applies to policies too), replicas deleted
    // with the rule; labels carried unless stripped (Reflector-only pushes carry none), annotations not carried.
    onConflict: 'Skip',
    deletionPolicy: 'Delete',
    // A trusted annotation ties with a policy and wins on the rule id (`annotation:` first): one step of priority
    // lets the policy take its replicas over at once, instead of counting them as conflicts until the annotation goes.
    ...(trusted ? { priority: 1 } : {}),
    ...(rule.stripLabels ? { labels: [] } : {}),
  };
}

/**
 * The policies that replace `sources`' push annotations: one per source namespace, kind, target set and carry
 * options (one kind per policy: names apply to every kind of a policy, and would pick up unannotated namesakes),
 * naming every source; and what cannot be a policy, and why. Deterministic: sorted, named by a hash of the terms.
 */
export function migrationFor(sources: readonly { spec: KindSpec; obj: KubeObject }[], settings: Settings): Migration {
  const notExpressible: NotExpressible[] = [];
  const groups = new Map<string, { spec: Converted['spec']; names: string[]; kind: string; namespace: string }>();
  for (const { spec, obj } of sources) {
    const c = convert(spec, obj, settings, notExpressible);
    if (!c) continue;
    const key = canonical(c.spec);
    const g = groups.get(key) ?? { spec: c.spec, names: [], kind: c.kind, namespace: c.namespace };
    g.names.push(c.name);
    groups.set(key, g);
  }
  const policies: MigrationPolicy[] = [];
  for (const [key, g] of groups) {
    const hash = sha256Hex(key).slice(0, 8);
    const names = [...new Set(g.names)].sort();
    for (let i = 0; i < names.length; i += maxNames) {
      const chunk = names.slice(i, i + maxNames);
      const part = i === 0 ? '' : `-${i / maxNames + 1}`;
      const name = `migrated-${g.namespace}-${g.kind.toLowerCase()}-${hash}${part}`;
      const spec: PolicySpec = { ...g.spec, source: { namespace: g.namespace, names: chunk.map(sourceNameEntry) } };
      policies.push({ policy: { apiVersion: policyApiVersion, kind: 'ReplicationPolicy', metadata: { name }, spec }, replaces: chunk.map((n) => `${g.kind} ${g.namespace}/${n}`) });
    }
  }
  policies.sort((x, y) => x.policy.metadata.name.localeCompare(y.policy.metadata.name));
  notExpressible.sort((x, y) => x.source.localeCompare(y.source) || x.reason.localeCompare(y.reason));
  return { policies, notExpressible };
}
