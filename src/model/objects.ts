// Plain shapes of the Kubernetes objects the engine reads and writes. Only the fields we use are typed.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface LocalObjectReference {
  name: string;
}

/** Any replicated object; which optional fields are set depends on the kind. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // Secret / ConfigMap
  type?: string;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
  // Role
  rules?: PolicyRule[];
  // RoleBinding
  subjects?: Subject[];
  roleRef?: RoleRef;
  // ServiceAccount
  imagePullSecrets?: LocalObjectReference[];
  secrets?: LocalObjectReference[];
  automountServiceAccountToken?: boolean;
  // Kinds allowed by --extra-kinds
  spec?: unknown;
}

/** managedFields are large and say only who wrote what: never kept, never sent back. */
export function dropManagedFields(metadata: ObjectMeta): void {
  delete (metadata as ObjectMeta & { managedFields?: unknown }).managedFields;
}

/** A top-level field by name (the kind table names fields as data). */
export function fieldOf(obj: KubeObject, name: string): unknown {
  return (obj as unknown as Record<string, unknown>)[name];
}

/** Sets a top-level field by name; undefined removes it. */
export function setField(obj: KubeObject, name: string, value: unknown): void {
  const o = obj as unknown as Record<string, unknown>;
  if (value === undefined) delete o[name];
  else o[name] = value;
}

export interface Namespace {
  metadata: ObjectMeta;
  status?: { phase?: string };
}

/** Identifies one object of a replicated kind. */
export interface ObjectRef {
  /** The kind's name (see model/kinds.ts). */
  kind: string;
  namespace: string;
  name: string;
}

export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function parseRefKey(key: string): ObjectRef {
  const [kind, namespace, ...rest] = key.split('/');
  return { kind: kind!, namespace: namespace!, name: rest.join('/') };
}

export function refOf(kind: string, obj: { metadata: ObjectMeta }): ObjectRef {
  return { kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
}

export function formatRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}
