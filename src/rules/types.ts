// Rules: what the engine is asked to do, whichever way it was asked (annotations or a ReplicationPolicy).
import type { ObjectRef } from '../model/objects.ts';
import type { NamespacePatterns } from './patterns.ts';
import type { LabelSelector } from './selector.ts';
import type { ConflictPolicy } from '../api/replication-policy.ts';

export type RuleOrigin = { type: 'annotation' } | { type: 'policy'; name: string; uid: string };

export type { ConflictPolicy };

/** What a policy carries besides the replicated content. */
export interface Carry {
  /** Source labels to carry; undefined carries all. */
  labels?: (key: string) => boolean;
  /** Source annotations to carry; undefined carries none. */
  annotations?: (key: string) => boolean;
  /** Data keys to carry (Secrets, ConfigMaps); undefined carries all. */
  keys?: ReadonlySet<string>;
}

/** What the engine needs to know about a namespace. */
export interface NamespaceView {
  name: string;
  labels: Readonly<Record<string, string>>;
  terminating: boolean;
}

export interface TargetNamespaces {
  /** Whole-name RE2 patterns (`*` = all). */
  patterns?: NamespacePatterns;
  /** Label selector over namespace labels. */
  selector?: LabelSelector;
  /** Namespaces never targeted, even when matched above. */
  exclude?: NamespacePatterns;
  /** When set, only namespaces these targets reach are targeted (Reflector holds its auto list within its allowed list). */
  within?: TargetNamespaces;
  /** Namespaces targeted on their own terms besides (one source pushing in two annotation dialects: the union). */
  also?: TargetNamespaces;
}

/** One source object pushed to the namespaces it targets, under the same name. */
export interface PushRule {
  /** Stable identity: where the rule comes from, plus the source (see rule-id.ts). */
  id: string;
  origin: RuleOrigin;
  source: ObjectRef;
  /** Source creation time; older sources win conflicts (after priority). */
  sourceCreated: string;
  /** Higher wins a conflict over the same target. Annotations are 0. */
  priority: number;
  targets: TargetNamespaces;
  stripLabels: boolean;
  keepOwnerReferences: boolean;
  onConflict: ConflictPolicy;
  /** Policy filters on what is carried (labels, annotations, data keys). */
  carry?: Carry;
  /** A suspended policy writes nothing, and its replicas stay as they are. */
  suspended?: boolean;
  /** What happens to the replicas when the policy that made them is deleted. */
  deletionPolicy?: 'Delete' | 'Orphan';
}

/** A problem with user input, reported where the user looks (an Event naming the bad part). */
export interface RuleProblem {
  field: string;
  message: string;
}


/** Operator-wide settings that shape every rule (flags). */
export interface Settings {
  /** Pull without the source's consent (mittwald's --allow-all). */
  allowAll: boolean;
  /** Take over existing objects that are not replicas (mittwald's behaviour, for migrations). */
  adoptExisting: boolean;
  /** mittwald's --exclude-namespaces: unanchored patterns, applied to every kind. */
  excludeNamespaces?: NamespacePatterns;
  /** Push only into namespaces labelled `kube-replicator.io/replication: allow`. */
  requireNamespaceOptIn: boolean;
  /** Source namespaces whose annotations may push Roles and RoleBindings. Undefined: none. */
  trustedRbacNamespaces?: NamespacePatterns;
  /** Source namespaces whose annotation rules are trusted (like policies). Undefined: none. */
  trustedSourceNamespaces?: NamespacePatterns;
  /** Every annotation rule is trusted (mittwald's behaviour, for migrations). */
  permissive?: boolean;
  /** Namespaces an untrusted push never creates, updates or deletes anything in. */
  protectedNamespaces?: NamespacePatterns;
  /** Secret types that are never replicated, in any mode. */
  neverReplicateSecretTypes: readonly string[];
}

/** Secret types the cluster reads as credentials or that belong to a release: never replicated unless --permissive. */
export const builtinNeverReplicateSecretTypes: readonly string[] = [
  'kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token', 'helm.sh/release.v1',
];

export const defaultSettings: Settings = {
  allowAll: false, adoptExisting: false, requireNamespaceOptIn: false, neverReplicateSecretTypes: builtinNeverReplicateSecretTypes,
};

/**
 * Trusted rules come from someone the cluster admin trusts (a ReplicationPolicy, or a source namespace named in
 * --trusted-source-namespaces); every other annotation rule is a tenant's and untrusted.
 */
export type Tier = 'trusted' | 'untrusted';
