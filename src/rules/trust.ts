// Trust tiers: who asked for a replication decides how far it may reach. A ReplicationPolicy (cluster-scoped,
// admin-only) and annotations in namespaces the admin declared trusted are trusted; a tenant's annotation is not.
import type { ObjectRef } from '../model/objects.ts';
import type { Refusal } from './targeting.ts';
import type { PushRule, RuleOrigin, Settings, Tier } from './types.ts';

/** The tier of a rule of `origin` whose source lives in `sourceNamespace`. */
export function tierOf(origin: RuleOrigin, sourceNamespace: string, settings: Settings): Tier {
  if (origin.type === 'policy' || settings.permissive) return 'trusted';
  return settings.trustedSourceNamespaces?.matches(sourceNamespace) ? 'trusted' : 'untrusted';
}

export const ruleTier = (rule: PushRule, settings: Settings): Tier => tierOf(rule.origin, rule.source.namespace, settings);

/** Whether an untrusted rule may not touch `namespace` at all (create, update or delete). */
export function isProtectedFrom(tier: Tier, namespace: string, settings: Settings): boolean {
  return tier === 'untrusted' && Boolean(settings.protectedNamespaces?.matches(namespace));
}

/** An untrusted push into a protected namespace: refused, with the two settings that would allow it. */
export function protectedNamespaceRefusal(rule: PushRule, target: ObjectRef, settings: Settings): Refusal | undefined {
  if (!isProtectedFrom(ruleTier(rule, settings), target.namespace, settings)) return undefined;
  return {
    reason: 'ProtectedNamespace',
    message: `not replicated into ${target.namespace}: it is a protected namespace, and pushes by annotation from ${rule.source.namespace} are untrusted; `
      + `to allow it, add ${rule.source.namespace} to --trusted-source-namespaces (chart: trustedSourceNamespaces) or take ${target.namespace} out of --protected-namespaces (chart: protectedNamespaces)`,
  };
}
