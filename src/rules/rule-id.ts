// A rule's identity, the one place it is built and read: where the rule comes from (an object's annotations or a
// ReplicationPolicy) and the source it copies. Two spellings exist:
// - the rule id, a key inside the operator: `annotation:<Kind>/<namespace>/<name>`, `policy:<policy>:<Kind>/…`;
// - the rule label written on a replica (`kube-replicator.io/rule`): `annotation` or `policy/<policy>`.
// Policy names are DNS subdomains, so they never hold `:` or `/`.
import type { RuleOrigin } from './types.ts';

/** The id of the rule an object's own annotations make (`sourceKey`: the source's refKey, `<Kind>/<ns>/<name>`). */
export const annotationRuleId = (sourceKey: string): string => `annotation:${sourceKey}`;

/** The id of the rule a ReplicationPolicy makes for one source it selects. */
export const policyRuleId = (policy: string, sourceKey: string): string => `policy:${policy}:${sourceKey}`;

/** The policy a rule id belongs to; undefined for annotation rules (and no id). */
export function policyOfRuleId(id: string | undefined): string | undefined {
  if (!id?.startsWith('policy:')) return undefined;
  const end = id.indexOf(':', 'policy:'.length);
  return end > 0 ? id.slice('policy:'.length, end) : undefined;
}

/** What a replica records as the rule that made it. */
export const ruleLabel = (origin: Pick<RuleOrigin, 'type'> & { name?: string }): string =>
  (origin.type === 'annotation' ? 'annotation' : `policy/${origin.name}`);

/** The policy a replica's rule label names; undefined for `annotation` (or anything else). */
export const policyOfRuleLabel = (label: string): string | undefined =>
  (label.startsWith('policy/') && label.length > 'policy/'.length ? label.slice('policy/'.length) : undefined);
