// The ReplicationPolicy API as the CRD (crds/replicationpolicies.yaml) defines it: group, version and the shapes of
// spec and status. Only types and names: what a policy means is in rules/policy-rules.ts. `apiFields` names every
// field of every type (the compiler holds it to the types), and its test holds it to the CRD's schema.
import type { Kind } from '../model/kinds.ts';
import type { ObjectMeta } from '../model/objects.ts';

export type ConflictPolicy = 'Skip' | 'Adopt' | 'Overwrite';

/** A Kubernetes label selector as written in a manifest. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export const policyGroup = 'kube-replicator.io';
export const policyVersion = 'v1alpha1';
export const policyApiVersion = `${policyGroup}/${policyVersion}`;

export interface PolicySpec {
  kinds: Kind[];
  source: { namespace: string; names?: string[]; selector?: LabelSelectorObject };
  targets: { namespaces?: string[]; namespaceSelector?: LabelSelectorObject; exclude?: string[] };
  onConflict?: ConflictPolicy;
  deletionPolicy?: 'Delete' | 'Orphan';
  suspend?: boolean;
  priority?: number;
  labels?: string[];
  annotations?: string[];
  keys?: string[];
}

export interface PolicyCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface PolicyFailure {
  kind: string;
  namespace: string;
  name: string;
  reason: string;
  message?: string;
}

export interface PolicyStatus {
  observedGeneration?: number;
  sources?: number;
  targetNamespaces?: number;
  inSync?: number;
  failed?: number;
  conflicts?: number;
  lastSyncTime?: string;
  failures?: PolicyFailure[];
  conditions?: PolicyCondition[];
}

export interface ReplicationPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: PolicySpec;
  status?: PolicyStatus;
}

/** Each field of `T`, and whether `T` requires it. */
type Fields<T> = { [K in keyof Required<T>]-?: object extends Pick<T, K> ? 'optional' : 'required' };

/** Every field of the API's types, as the compiler sees them: compared with the CRD by replication-policy.test.ts. */
export const apiFields = {
  spec: {
    kinds: 'required', source: 'required', targets: 'required', onConflict: 'optional', deletionPolicy: 'optional', suspend: 'optional',
    priority: 'optional', labels: 'optional', annotations: 'optional', keys: 'optional',
  } satisfies Fields<PolicySpec>,
  'spec.source': { namespace: 'required', names: 'optional', selector: 'optional' } satisfies Fields<PolicySpec['source']>,
  'spec.targets': { namespaces: 'optional', namespaceSelector: 'optional', exclude: 'optional' } satisfies Fields<PolicySpec['targets']>,
  status: {
    observedGeneration: 'optional', sources: 'optional', targetNamespaces: 'optional', inSync: 'optional', failed: 'optional',
    conflicts: 'optional', lastSyncTime: 'optional', failures: 'optional', conditions: 'optional',
  } satisfies Fields<PolicyStatus>,
  'status.conditions[]': {
    type: 'required', status: 'required', observedGeneration: 'optional', lastTransitionTime: 'required', reason: 'required', message: 'required',
  } satisfies Fields<PolicyCondition>,
  'status.failures[]': { kind: 'required', namespace: 'required', name: 'required', reason: 'required', message: 'optional' } satisfies Fields<PolicyFailure>,
};

/** The values the API's enumerations allow (the compiler checks them against the types; the test, against the CRD). */
export const apiEnums = {
  'spec.onConflict': ['Skip', 'Adopt', 'Overwrite'] satisfies ConflictPolicy[],
  'spec.deletionPolicy': ['Delete', 'Orphan'] satisfies NonNullable<PolicySpec['deletionPolicy']>[],
};
