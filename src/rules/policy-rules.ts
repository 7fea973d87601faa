// ReplicationPolicy → rules. A policy is validated whole (schema with ajv, then RE2 patterns, selectors and
// enabled kinds); an invalid policy yields problems and no rules, so it is never half-applied.
import { Ajv, type ValidateFunction } from 'ajv';
import { builtinKinds, isBuiltinKind, type Kind } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { refKey } from '../model/objects.ts';
import { policyRuleId } from './rule-id.ts';
import { compileWholeName, parseNamespacePatterns, type NamespacePatterns } from './patterns.ts';
import type { LabelSelectorObject, ReplicationPolicy } from '../api/replication-policy.ts';
import { labelSelectorFromObject, type LabelSelector } from './selector.ts';
import type { Carry, ConflictPolicy, PushRule, RuleProblem, TargetNamespaces } from './types.ts';

export interface CompiledPolicy {
  name: string;
  uid: string;
  generation: number;
  kinds: ReadonlySet<Kind>;
  sourceNamespace: string;
  sourceNames?: (name: string) => boolean;
  sourceSelector?: LabelSelector;
  targets: TargetNamespaces;
  onConflict: ConflictPolicy;
  deletionPolicy: 'Delete' | 'Orphan';
  suspended: boolean;
  priority: number;
  carry: Carry;
}

export type CompileResult = { ok: true; policy: CompiledPolicy } | { ok: false; problems: RuleProblem[] };

/** Checks a policy's spec against a schema; the problems found (none: valid). */
export type SpecValidator = (spec: unknown) => RuleProblem[];

/** A validator from the CRD's own schema for `spec`: the operator checks exactly what the API server would (and more). */
export function policySpecValidator(openAPIV3Schema: Record<string, unknown>): SpecValidator {
  const spec = (openAPIV3Schema.properties as Record<string, unknown>).spec as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
  const validate: ValidateFunction = ajv.compile(stripKubernetesExtensions(spec) as Record<string, unknown>);
  return (value) => validate(value) ? [] : (validate.errors ?? []).map((e) => ({ field: `spec${e.instancePath.replace(/\//g, '.')}`, message: e.message ?? 'invalid' }));
}

function stripKubernetesExtensions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripKubernetesExtensions);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => !k.startsWith('x-kubernetes-')).map(([k, v]) => [k, stripKubernetesExtensions(v)]));
}

const dnsName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Exact object names are matched literally (a dot is not a wildcard); anything else is a whole-name RE2 pattern. */
function nameMatcher(field: string, list: string[], problems: RuleProblem[]): (name: string) => boolean {
  const exact = new Set<string>();
  const patterns: ((s: string) => boolean)[] = [];
  list.forEach((p, i) => {
    if (dnsName.test(p)) exact.add(p);
    else {
      const c = compileWholeName(p);
      if (c.ok) patterns.push(c.matches);
      else problems.push({ field: `${field}[${i}]`, message: `invalid RE2 pattern "${p.slice(0, 100)}": ${c.reason}` });
    }
  });
  return (name) => exact.has(name) || patterns.some((m) => m(name));
}

function namespacePatterns(field: string, list: string[], problems: RuleProblem[]): NamespacePatterns | undefined {
  if (list.some((p) => p.includes(','))) {
    problems.push({ field, message: 'each entry is one name or pattern; commas are not allowed' });
    return undefined;
  }
  const parsed = parseNamespacePatterns(list.join(','));
  for (const e of parsed.errors) problems.push({ field, message: `pattern "${e.element}": ${e.reason}` });
  return parsed;
}

function selector(field: string, obj: LabelSelectorObject | undefined, problems: RuleProblem[]): LabelSelector | undefined {
  if (obj === undefined) return undefined;
  const r = labelSelectorFromObject(obj);
  if (r.ok) return r.selector;
  problems.push({ field, message: r.error });
  return undefined;
}

/** `validate`: the CRD's schema (see policySpecValidator); without it only what compiling needs is checked. */
export function compilePolicy(p: ReplicationPolicy, enabledKinds: readonly Kind[], validate?: SpecValidator): CompileResult {
  const problems: RuleProblem[] = validate?.(p.spec) ?? [];
  if (problems.length) return { ok: false, problems };
  const s = p.spec;
  if (!s?.source || !s.targets || !Array.isArray(s.kinds)) return { ok: false, problems: [{ field: 'spec', message: 'kinds, source and targets are required' }] };
  s.kinds.forEach((k, i) => {
    if (enabledKinds.includes(k)) return;
    const message = isBuiltinKind(k) ? `${k} replication is disabled in this operator (--${builtinKinds[k].flag}=false)` : `${k} is not a kind this operator replicates (built-in kinds, and those in its --extra-kinds)`;
    problems.push({ field: `spec.kinds[${i}]`, message });
  });
  if (!s.source.names && !s.source.selector) problems.push({ field: 'spec.source', message: 'needs names or a selector' });
  if (!s.targets.namespaces && !s.targets.namespaceSelector) problems.push({ field: 'spec.targets', message: 'needs namespaces or a namespaceSelector' });
  const sourceNames = s.source.names ? nameMatcher('spec.source.names', s.source.names, problems) : undefined;
  const sourceSelector = selector('spec.source.selector', s.source.selector, problems);
  const targets: TargetNamespaces = {
    patterns: s.targets.namespaces ? namespacePatterns('spec.targets.namespaces', s.targets.namespaces, problems) : undefined,
    selector: selector('spec.targets.namespaceSelector', s.targets.namespaceSelector, problems),
    exclude: s.targets.exclude ? namespacePatterns('spec.targets.exclude', s.targets.exclude, problems) : undefined,
  };
  const carry: Carry = {
    labels: s.labels ? nameMatcher('spec.labels', s.labels, problems) : undefined,
    annotations: s.annotations ? nameMatcher('spec.annotations', s.annotations, problems) : undefined,
    keys: s.keys ? new Set(s.keys) : undefined,
  };
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    policy: {
      name: p.metadata.name, uid: p.metadata.uid ?? '', generation: p.metadata.generation ?? 0,
      kinds: new Set(s.kinds), sourceNamespace: s.source.namespace, sourceNames, sourceSelector, targets,
      onConflict: s.onConflict ?? 'Skip', deletionPolicy: s.deletionPolicy ?? 'Delete', suspended: s.suspend === true,
      priority: s.priority ?? 0, carry,
    },
  };
}

/** Whether `obj` (of `kind`) is one of the policy's sources: names and selector must both match when both are given. */
export function policySelectsSource(p: CompiledPolicy, kind: Kind, obj: KubeObject): boolean {
  if (!p.kinds.has(kind) || obj.metadata.namespace !== p.sourceNamespace) return false;
  if (p.sourceNames && !p.sourceNames(obj.metadata.name)) return false;
  if (p.sourceSelector && !p.sourceSelector.matches(obj.metadata.labels)) return false;
  return true;
}

export function policyRule(p: CompiledPolicy, kind: Kind, obj: KubeObject): PushRule {
  const source = { kind, namespace: p.sourceNamespace, name: obj.metadata.name };
  return {
    id: policyRuleId(p.name, refKey(source)),
    origin: { type: 'policy', name: p.name, uid: p.uid },
    source,
    sourceCreated: obj.metadata.creationTimestamp ?? '',
    priority: p.priority,
    targets: p.targets,
    stripLabels: false,
    keepOwnerReferences: false,
    onConflict: p.onConflict,
    carry: p.carry,
    suspended: p.suspended,
    deletionPolicy: p.deletionPolicy,
  };
}
