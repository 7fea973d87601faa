// Every annotation and label name kube-replicator reads or writes.

/** mittwald/kubernetes-replicator's annotations, read and written unchanged for drop-in compatibility. */
export const mittwaldPrefix = 'replicator.v1.mittwald.de/';
export const annotations = {
  replicateFrom: `${mittwaldPrefix}replicate-from`,
  replicateTo: `${mittwaldPrefix}replicate-to`,
  replicateToMatching: `${mittwaldPrefix}replicate-to-matching`,
  replicationAllowed: `${mittwaldPrefix}replication-allowed`,
  replicationAllowedNamespaces: `${mittwaldPrefix}replication-allowed-namespaces`,
  stripLabels: `${mittwaldPrefix}strip-labels`,
  keepOwnerReferences: `${mittwaldPrefix}keep-owner-references`,
  replicatedAt: `${mittwaldPrefix}replicated-at`,
  replicatedFromVersion: `${mittwaldPrefix}replicated-from-version`,
  replicatedKeys: `${mittwaldPrefix}replicated-keys`,
} as const;

/**
 * emberstack/kubernetes-reflector's annotations (Secrets and ConfigMaps only): rules and consent on sources, `reflects`
 * on mirrors, and the bookkeeping Reflector writes on the mirrors it makes (recognised for take-over).
 */
export const reflectorPrefix = 'reflector.v1.k8s.emberstack.com/';
export const reflector = {
  allowed: `${reflectorPrefix}reflection-allowed`,
  allowedNamespaces: `${reflectorPrefix}reflection-allowed-namespaces`,
  allowedNamespacesSelector: `${reflectorPrefix}reflection-allowed-namespaces-selector`,
  autoEnabled: `${reflectorPrefix}reflection-auto-enabled`,
  autoNamespaces: `${reflectorPrefix}reflection-auto-namespaces`,
  autoNamespacesSelector: `${reflectorPrefix}reflection-auto-namespaces-selector`,
  reflects: `${reflectorPrefix}reflects`,
  autoReflects: `${reflectorPrefix}auto-reflects`,
  reflectedVersion: `${reflectorPrefix}reflected-version`,
  reflectedAt: `${reflectorPrefix}reflected-at`,
} as const;

/** kube-replicator's own provenance, written on every replica. */
export const ourPrefix = 'kube-replicator.io/';
export const provenance = {
  /** Label `true` on every replica we create: lets one label-selected list find them all after a restart. */
  replicaLabel: `${ourPrefix}replica`,
  /** Label with the source namespace (queryable). */
  sourceNamespaceLabel: `${ourPrefix}source-namespace`,
  /** Annotation `<namespace>/<name>` of the source. */
  source: `${ourPrefix}source`,
  sourceUid: `${ourPrefix}source-uid`,
  /** Annotation `trusted` or `untrusted`: the tier of the rule that made the replica (the admission policy reads it). */
  tier: `${ourPrefix}tier`,
  /** Annotation naming the rule that made the replica: `annotation` or `policy/<name>`. */
  rule: `${ourPrefix}rule`,
  policyUid: `${ourPrefix}policy-uid`,
  /** sha256 (truncated) of the replicated content, to see at a glance that a replica equals its source. */
  contentHash: `${ourPrefix}content-hash`,
  /** `Orphan` when the replica stays (unmanaged) after the policy that made it is deleted. */
  deletionPolicy: `${ourPrefix}deletion-policy`,
} as const;

/** Namespace label: `deny` refuses every push into the namespace; `allow` opts in when opt-in is required. */
export const namespaceReplicationLabel = `${ourPrefix}replication`;

/** Annotation prefixes whose keys mean something to a replicator (rules, consent, provenance). */
export const replicatorPrefixes: readonly string[] = [mittwaldPrefix, reflectorPrefix, ourPrefix];

/** Annotations never copied to replicas or held in memory: it can carry a whole Secret in clear text. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** Annotations that change on every write and so never count as a difference. */
export const volatileAnnotations: readonly string[] = [annotations.replicatedAt, annotations.replicatedFromVersion];
