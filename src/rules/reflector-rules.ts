// emberstack/kubernetes-reflector's annotation dialect → the same rule pieces the mittwald parser builds (push
// targets, a pull source, consent); annotation-rules.ts joins both dialects into one rule per object. The meaning is
// Reflector's (Mirroring/Core/MirroringPropertiesExtensions.cs, ResourceMirror.cs); where it crosses a trust boundary
// the rest of the rules and the engine hold it back exactly as they hold back mittwald annotations.
import type { Kind } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { parseNamespacePatterns, releasePatterns, truncate, type NamespacePatterns, type PatternHolder } from './patterns.ts';
import { parseLabelSelector } from './selector.ts';
import { targetsMatch } from './targeting.ts';
import type { NamespaceView, RuleProblem, TargetNamespaces } from './types.ts';
import { reflector as R } from './vocabulary.ts';

/** Reflector handles these kinds only; its annotations on anything else mean nothing, as in Reflector. */
export const reflectorKinds: ReadonlySet<string> = new Set(['Secret', 'ConfigMap']);

/** Reflector's booleans (.NET bool parsing of the trimmed value): `true` or `false`, in any letter case. */
export function parseReflectorBool(value: string | undefined): boolean | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/** A mirror Reflector made by auto-reflection (`auto-reflects: True`): a push replica, not a pull. */
export const isReflectorAutoMirror = (obj: KubeObject): boolean =>
  parseReflectorBool(obj.metadata.annotations?.[R.autoReflects]) === true && R.reflects in (obj.metadata.annotations ?? {});

/** The `reflects` value of an object that pulls in Reflector's dialect (a mirror a user made), if any. */
export function reflectorPullValue(kind: Kind, obj: KubeObject): string | undefined {
  if (!reflectorKinds.has(kind) || isReflectorAutoMirror(obj)) return undefined;
  return obj.metadata.annotations?.[R.reflects];
}

/** A boolean annotation: anything but true/false reads as false (Reflector's reading) and is reported. */
function flag(a: Readonly<Record<string, string>>, field: string, problems: RuleProblem[]): boolean {
  const v = a[field];
  if (v === undefined) return false;
  const b = parseReflectorBool(v);
  if (b === undefined) problems.push({ field, message: `"${truncate(v, 40)}" is neither true nor false; read as false` });
  return b === true;
}

/**
 * Where a Reflector list and its label selector point: absent or exactly empty both, every namespace; otherwise the
 * namespaces the list's comma-separated patterns match (each the whole name: Reflector requires its match to span
 * the whole name) or the selector matches (ORed, as in Reflector). An invalid selector matches nothing (fail closed).
 */
function namespaceTerm(a: Readonly<Record<string, string>>, field: string, selectorField: string, holder?: PatternHolder, problems?: RuleProblem[]): TargetNamespaces {
  const list = a[field] ?? '';
  const selector = (a[selectorField] ?? '').trim();
  if (list === '' && selector === '') return { patterns: parseNamespacePatterns('*') };
  const term: TargetNamespaces = {};
  if (list !== '') term.patterns = parseNamespacePatterns(list, undefined, holder);
  if (selector !== '') {
    const parsed = parseLabelSelector(selector);
    if (parsed.ok) term.selector = parsed.selector;
    else problems?.push({ field: selectorField, message: `invalid label selector: ${parsed.error}; it matches no namespace` });
  }
  return term;
}

function listProblems(field: string, p: NamespacePatterns, problems: RuleProblem[]): void {
  for (const e of p.errors) problems.push({ field, message: e.wholeList ? e.reason : `pattern "${e.element}" ignored: ${e.reason}` });
}

export interface ReflectorSource {
  /** Where auto-reflection pushes, when it is on. */
  targets?: TargetNamespaces;
  problems: RuleProblem[];
}

const holders = (kind: Kind, namespace: string, name: string) => ({
  allowed: { owner: `${R.allowedNamespaces} ${kind}/${namespace}/${name}`, share: namespace },
  auto: { owner: `${R.autoNamespaces} ${kind}/${namespace}/${name}`, share: namespace },
});

/**
 * A source's Reflector annotations: its auto-reflection targets (`reflection-auto-enabled` needs
 * `reflection-allowed`, and reaches the auto list held within the allowed list, as in Reflector), and every problem
 * with them. Lists are charged to the pattern memory budget like `replicate-to`.
 */
export function reflectorSource(kind: Kind, obj: KubeObject): ReflectorSource {
  const a = obj.metadata.annotations ?? {};
  const h = holders(kind, obj.metadata.namespace ?? '', obj.metadata.name);
  const release = () => { releasePatterns(h.allowed.owner); releasePatterns(h.auto.owner); };
  if (!reflectorKinds.has(kind)) { release(); return { problems: [] }; }
  const problems: RuleProblem[] = [];
  const allowed = flag(a, R.allowed, problems);
  const auto = flag(a, R.autoEnabled, problems);
  const pushes = auto && allowed;
  // Consent is checked whenever a mirror pulls: its problems are reported whether or not auto-reflection is on.
  const within = namespaceTerm(a, R.allowedNamespaces, R.allowedNamespacesSelector, pushes ? h.allowed : undefined, problems);
  if (a[R.allowedNamespaces]) listProblems(R.allowedNamespaces, within.patterns!, problems);
  if (auto && !allowed) problems.push({ field: R.autoEnabled, message: `needs ${R.allowed}: "true" (as in Reflector): nothing is reflected` });
  if (!pushes) {
    release();
    // The auto annotations still get their say about their own problems.
    if (a[R.autoNamespacesSelector]?.trim()) namespaceTerm(a, R.autoNamespaces, R.autoNamespacesSelector, undefined, problems);
    return { problems };
  }
  const targets = namespaceTerm(a, R.autoNamespaces, R.autoNamespacesSelector, h.auto, problems);
  if (a[R.autoNamespaces]) listProblems(R.autoNamespaces, targets.patterns!, problems);
  if (within.patterns?.overBudget || targets.patterns?.overBudget) { release(); return { problems }; }
  return { problems, targets: { ...targets, within } };
}

/** The source is gone: what its Reflector lists held against the pattern memory budget is released. */
export function forgetReflectorSource(kind: Kind, namespace: string, name: string): void {
  const h = holders(kind, namespace, name);
  releasePatterns(h.allowed.owner);
  releasePatterns(h.auto.owner);
}

/**
 * Whether a source consents, in Reflector's dialect, to a mirror in `targetNamespace`: `reflection-allowed` true
 * and the allowed list (empty: every namespace) matching. Undefined when the source says nothing in this dialect.
 */
export function reflectorConsent(kind: Kind, source: KubeObject, target: NamespaceView): { allowed: boolean; reason: string } | undefined {
  const a = source.metadata.annotations ?? {};
  if (!reflectorKinds.has(kind) || !(R.allowed in a)) return undefined;
  if (parseReflectorBool(a[R.allowed]) !== true) return { allowed: false, reason: `the source does not set ${R.allowed}: "true"` };
  if (!targetsMatch(namespaceTerm(a, R.allowedNamespaces, R.allowedNamespacesSelector), target)) {
    return { allowed: false, reason: `namespace ${target.name} matches neither the source's ${R.allowedNamespaces} nor its ${R.allowedNamespacesSelector}` };
  }
  return { allowed: true, reason: 'consented by the source' };
}
