// The reasons of the Events kube-replicator records, as types: a new reason must be named here, so that the
// metrics (which start every refusal reason at 0) and the README's Events table cannot miss it.

/** Warnings a plan raises; kube_replicator_refusals_total counts them by reason. */
export type RefusalReason =
  | 'InvalidAnnotation' | 'TargetConflict' | 'RuleConflict' | 'ProtectedNamespace' | 'TargetClaimed'
  | 'LegacyReplicaKept' | 'SourceNotReplicable' | 'RbacPushNotTrusted' | 'WaitingForRole' | 'SourceNotAvailable'
  | 'ReplicationNotPermitted' | 'RoleNameInUse';

/** Every reason of an Event on a replicated object: the refusals, plus outcomes that are not a plan's warning. */
export type EventReason = RefusalReason | 'ReplicationFailed' | 'EscalationRefused';

/** Listed once more as values; `satisfies` fails the build when a reason is added to the type but not here. */
const refusalReasonSet = {
  InvalidAnnotation: 1, TargetConflict: 1, RuleConflict: 1, ProtectedNamespace: 1, TargetClaimed: 1, LegacyReplicaKept: 1,
  SourceNotReplicable: 1, RbacPushNotTrusted: 1, WaitingForRole: 1, SourceNotAvailable: 1, ReplicationNotPermitted: 1, RoleNameInUse: 1,
} satisfies Record<RefusalReason, 1>;
export const refusalReasons = Object.keys(refusalReasonSet) as RefusalReason[];
