// The kinds kube-replicator replicates, as data: one KindSpec per kind says how it is addressed, what of it is
// copied, what the API server will not change in place, and what is never replicated. The engine looks kinds up
// here instead of switching on them; a field added to KindSpec makes the compiler name every built-in kind that
// lacks it. Kinds an admin allows beyond the built-in five (`--extra-kinds`) get a generic spec (genericKind).

import { fieldOf, type KubeObject } from './objects.ts';

/** The built-in kinds, in the order flags, manifests and docs list them. */
export const builtinKindNames = ['Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'] as const;
export type BuiltinKind = (typeof builtinKindNames)[number];
/** A kind's name as it appears in keys, flags and policies (`Secret`, `NetworkPolicy`). */
export type Kind = string;

/** One replicated top-level field. */
export interface FieldSpec {
  name: string;
  /** The value the API server means when the field is absent (content compares equal with and without it). */
  absent?: unknown;
  /** Copied by push only: a pull target keeps its own (a roleRef cannot change; a Secret keeps its type). */
  pushOnly?: boolean;
  /** The API server will not change it in place: a difference means delete and create again. */
  recreate?: boolean;
  /** What a pull target holds once its source is gone (absent: the field is left as it is). */
  cleared?: unknown;
}

/** The minimum of the settings a refusal reads (the model sits below the rules' Settings). */
export interface RefusalSettings {
  neverReplicateSecretTypes: readonly string[];
}

export interface KindSpec {
  kind: Kind;
  /** API group/version, e.g. `v1` or `rbac.authorization.k8s.io/v1`. */
  apiVersion: string;
  /** Lower-case plural resource name. */
  plural: string;
  /**
   * The fields copied besides metadata. `specOrRest`: the source's `spec` when it has one, otherwise every
   * top-level field but apiVersion, kind, metadata and status (kinds known only from an allow-list).
   */
  fields: readonly FieldSpec[] | 'specOrRest';
  /**
   * Key-value maps merged key by key (mittwald's merge: a target's own keys are kept, replicated keys that left the
   * source are removed); an object with `immutable: true` is recreated when its content must change.
   */
  dataMaps?: readonly ('data' | 'binaryData')[];
  /** Role and RoleBinding grant permissions: extra trust checks, and writes through the RBAC writer. */
  rbac?: 'role' | 'binding';
  /** The flag that enables a built-in kind. */
  flag?: string;
  /** Why a source of this kind is never replicated, in any mode (undefined: it may be). */
  refusal?: (source: KubeObject, settings: RefusalSettings) => string | undefined;
}

const helmReleaseType = 'helm.sh/release.v1';
const secretTypeReasons: Record<string, string> = {
  'kubernetes.io/service-account-token': 'ServiceAccount token Secrets are bound to their namespace and are never replicated',
  'bootstrap.kubernetes.io/token': 'bootstrap token Secrets are credentials the API server accepts for joining nodes and are never replicated',
  [helmReleaseType]: 'Helm release Secrets belong to their release and are never replicated',
};

function secretRefusal(source: KubeObject, settings: RefusalSettings): string | undefined {
  const type = source.type ?? 'Opaque';
  if (settings.neverReplicateSecretTypes.includes(type)) {
    return `${secretTypeReasons[type] ?? `Secrets of type ${type} are never replicated`} (--never-replicate-secret-types)`;
  }
  // Helm release Secrets of old Helm versions are Opaque: known by their label and name.
  if (settings.neverReplicateSecretTypes.includes(helmReleaseType) && source.metadata.labels?.owner === 'helm' && source.metadata.name.startsWith('sh.helm.release.')) {
    return `${secretTypeReasons[helmReleaseType]!} (--never-replicate-secret-types)`;
  }
  return undefined;
}

export const builtinKinds: Record<BuiltinKind, KindSpec & { flag: string }> = {
  Secret: {
    kind: 'Secret', apiVersion: 'v1', plural: 'secrets', flag: 'replicate-secrets',
    fields: [{ name: 'type', absent: 'Opaque', pushOnly: true, recreate: true }],
    dataMaps: ['data'],
    refusal: secretRefusal,
  },
  ConfigMap: {
    kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', flag: 'replicate-configmaps',
    fields: [],
    dataMaps: ['data', 'binaryData'],
    refusal: (s) => s.metadata.name === 'kube-root-ca.crt' ? 'kube-root-ca.crt is published in every namespace by Kubernetes itself and is never replicated' : undefined,
  },
  Role: {
    kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', flag: 'replicate-roles', rbac: 'role',
    fields: [{ name: 'rules', absent: [], cleared: [] }],
  },
  RoleBinding: {
    kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings', flag: 'replicate-role-bindings', rbac: 'binding',
    fields: [{ name: 'subjects', absent: [], cleared: [] }, { name: 'roleRef', pushOnly: true, recreate: true }],
  },
  ServiceAccount: {
    kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts', flag: 'replicate-service-accounts',
    fields: [{ name: 'imagePullSecrets', absent: [], cleared: [] }],
  },
};

export function isBuiltinKind(value: string): value is BuiltinKind {
  return (builtinKindNames as readonly string[]).includes(value);
}

/** An allowed kind's spec: its `spec`, or its top-level fields, are what is copied. */
export function genericKind(kind: Kind, apiVersion: string, plural: string): KindSpec {
  return { kind, apiVersion, plural, fields: 'specOrRest' };
}

/** Top-level fields that are never content: identity, metadata, and what the API server reports. */
const notContent = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/** The fields of `obj` that `spec` copies, each with its value (`absent` filled in). */
export function contentFields(spec: KindSpec, obj: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.fields === 'specOrRest') {
    if (obj.spec !== undefined) out.spec = obj.spec;
    else for (const [k, v] of Object.entries(obj)) if (!notContent.has(k)) out[k] = v;
  } else {
    for (const f of spec.fields) {
      const v = fieldOf(obj, f.name) ?? f.absent;
      if (v !== undefined) out[f.name] = v;
    }
  }
  for (const m of spec.dataMaps ?? []) out[m] = fieldOf(obj, m) ?? {};
  return out;
}

/** The fields a push or a pull copies onto its target, besides the merged data maps. */
export function copiedFields(spec: KindSpec, source: KubeObject, mode: 'push' | 'pull'): string[] {
  if (spec.fields !== 'specOrRest') return spec.fields.filter((f) => mode === 'push' || !f.pushOnly).map((f) => f.name);
  return source.spec !== undefined ? ['spec'] : Object.keys(source).filter((k) => !notContent.has(k));
}

/** The table of the kinds one operator replicates: the enabled built-ins and the allowed extras. */
export class KindTable {
  private readonly byName: ReadonlyMap<Kind, KindSpec>;

  constructor(specs: Iterable<KindSpec>) {
    this.byName = new Map([...specs].map((s) => [s.kind, s]));
  }

  get(kind: Kind): KindSpec | undefined {
    return this.byName.get(kind);
  }

  /** The spec of a kind this table must know (a key of an enabled kind). */
  spec(kind: Kind): KindSpec {
    const s = this.byName.get(kind);
    if (!s) throw new Error(`kind ${kind} is not replicated by this operator`);
    return s;
  }

  get kinds(): Kind[] {
    return [...this.byName.keys()];
  }

  get specs(): KindSpec[] {
    return [...this.byName.values()];
  }
}
