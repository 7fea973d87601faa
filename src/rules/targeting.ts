// Which namespaces a push rule reaches, and which sources may never be replicated at all.
import type { RefusalReason } from '../model/event-reasons.ts';
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import type { NamespaceView, PushRule, Settings, TargetNamespaces } from './types.ts';
import { namespaceReplicationLabel } from './vocabulary.ts';

/** Why a namespace takes no push at all, whatever the rule says (named for `explain`). */
export type NamespaceRefusal = 'Terminating' | 'Excluded' | 'DenyLabel' | 'NotOptedIn';

/** The namespace-level reason a push never lands in `ns`, if any. */
export function namespacePushRefusal(ns: NamespaceView, settings: Settings): NamespaceRefusal | undefined {
  if (ns.terminating) return 'Terminating';
  if (settings.excludeNamespaces?.matches(ns.name)) return 'Excluded';
  const choice = ns.labels[namespaceReplicationLabel];
  if (choice === 'deny') return 'DenyLabel';
  if (settings.requireNamespaceOptIn && choice !== 'allow') return 'NotOptedIn';
  return undefined;
}

/** Namespace-level reasons a push never lands there, whatever the rule says. */
export function namespaceAcceptsPush(ns: NamespaceView, settings: Settings): boolean {
  return namespacePushRefusal(ns, settings) === undefined;
}

/** Whether `rule` wants a replica in `ns` (never the source's own namespace). */
export function ruleTargetsNamespace(rule: PushRule, ns: NamespaceView, settings: Settings): boolean {
  return targetsNamespace(rule.targets, rule.source.namespace, ns, settings);
}

/** Whether targets declared from `sourceNamespace` reach `ns`. */
export function targetsNamespace(t: TargetNamespaces, sourceNamespace: string, ns: NamespaceView, settings: Settings): boolean {
  if (ns.name === sourceNamespace) return false;
  if (!namespaceAcceptsPush(ns, settings)) return false;
  return targetsMatch(t, ns);
}

/** Whether `ns` is one of the namespaces `t` names (by patterns, selector, exclusions, within and also alone). */
export function targetsMatch(t: TargetNamespaces, ns: NamespaceView): boolean {
  const own = !t.exclude?.matches(ns.name) && (t.within ? targetsMatch(t.within, ns) : true)
    && ((t.patterns?.matches(ns.name) ?? false) || (t.selector?.matches(ns.labels) ?? false));
  return own || (t.also !== undefined && targetsMatch(t.also, ns));
}

/**
 * The only namespaces `t` can reach when it names them literally (no regex, no selector): callers look these up
 * instead of testing every namespace in the cluster. Undefined when every namespace must be tested.
 */
export function namedTargets(t: TargetNamespaces): ReadonlySet<string> | undefined {
  const own = (t.selector ? undefined : (t.patterns?.literals ?? (t.patterns ? undefined : new Set<string>())))
    ?? (t.within ? namedTargets(t.within) : undefined);
  if (!t.also || !own) return own;
  const other = namedTargets(t.also);
  return other && new Set([...own, ...other]);
}

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

/** Objects that are never replicated, in any mode: copying them is either impossible or dangerous (see KindSpec). */
export function sourceRefusal(spec: KindSpec, source: KubeObject, settings: Pick<Settings, 'neverReplicateSecretTypes'>): Refusal | undefined {
  const message = spec.refusal?.(source, settings);
  return message ? { reason: 'SourceNotReplicable', message } : undefined;
}

/** Annotation-mode push of RBAC kinds comes only from namespaces the admin trusts. */
export function rbacPushRefusal(spec: KindSpec, rule: PushRule, settings: Settings): Refusal | undefined {
  if (!spec.rbac || rule.origin.type !== 'annotation') return undefined;
  if (settings.trustedRbacNamespaces?.matches(rule.source.namespace)) return undefined;
  return {
    reason: 'RbacPushNotTrusted',
    message: `pushing ${rule.source.kind}s by annotation is allowed only from trusted namespaces (--trusted-rbac-namespaces); ${rule.source.namespace} is not one`,
  };
}
