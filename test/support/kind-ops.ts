// Create/read/patch/delete and "the replicated value" for each replicated kind, so one test body covers all five.
import * as k8s from '@kubernetes/client-node';
import { b64, decoded, maybe, type Clients } from './cluster.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export const allKinds = ['Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'] as const;
export type Kind = (typeof allKinds)[number];
export type Obj = { metadata?: k8s.V1ObjectMeta } & Record<string, any>;

export interface KindOps {
  create(namespace: string, body: Obj): Promise<Obj>;
  read(namespace: string, name: string): Promise<Obj | undefined>;
  /** JSON merge patch. */
  patch(namespace: string, name: string, body: object): Promise<Obj>;
  remove(namespace: string, name: string): Promise<unknown>;
  /** The fields that carry `value` (what the kind replicates). */
  content(value: string): Record<string, unknown>;
  /** `value` back from an object, or undefined. */
  valueOf(obj: Obj | undefined): string | undefined;
}

export function kindOps(c: Clients): Record<Kind, KindOps> {
  return {
    Secret: {
      create: (namespace, body) => c.core.createNamespacedSecret({ namespace, body }),
      read: (namespace, name) => maybe(c.core.readNamespacedSecret({ namespace, name })),
      patch: (namespace, name, body) => c.core.patchNamespacedSecret({ namespace, name, body }, mergePatch),
      remove: (namespace, name) => c.core.deleteNamespacedSecret({ namespace, name }),
      content: (v) => ({ type: 'Opaque', data: { value: b64(v) } }),
      valueOf: (o) => decoded(o?.data).value,
    },
    ConfigMap: {
      create: (namespace, body) => c.core.createNamespacedConfigMap({ namespace, body }),
      read: (namespace, name) => maybe(c.core.readNamespacedConfigMap({ namespace, name })),
      patch: (namespace, name, body) => c.core.patchNamespacedConfigMap({ namespace, name, body }, mergePatch),
      remove: (namespace, name) => c.core.deleteNamespacedConfigMap({ namespace, name }),
      content: (v) => ({ data: { value: v } }),
      valueOf: (o) => o?.data?.value,
    },
    Role: {
      create: (namespace, body) => c.rbac.createNamespacedRole({ namespace, body: body as k8s.V1Role }),
      read: (namespace, name) => maybe(c.rbac.readNamespacedRole({ namespace, name })),
      patch: (namespace, name, body) => c.rbac.patchNamespacedRole({ namespace, name, body }, mergePatch),
      remove: (namespace, name) => c.rbac.deleteNamespacedRole({ namespace, name }),
      content: (v) => ({ rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [v], verbs: ['get'] }] }),
      valueOf: (o) => o?.rules?.[0]?.resourceNames?.[0],
    },
    RoleBinding: {
      create: (namespace, body) => c.rbac.createNamespacedRoleBinding({ namespace, body: body as k8s.V1RoleBinding }),
      read: (namespace, name) => maybe(c.rbac.readNamespacedRoleBinding({ namespace, name })),
      patch: (namespace, name, body) => c.rbac.patchNamespacedRoleBinding({ namespace, name, body }, mergePatch),
      remove: (namespace, name) => c.rbac.deleteNamespacedRoleBinding({ namespace, name }),
      content: (v) => ({
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: v }],
      }),
      valueOf: (o) => o?.subjects?.[0]?.name,
    },
    ServiceAccount: {
      create: (namespace, body) => c.core.createNamespacedServiceAccount({ namespace, body }),
      read: (namespace, name) => maybe(c.core.readNamespacedServiceAccount({ namespace, name })),
      patch: (namespace, name, body) => c.core.patchNamespacedServiceAccount({ namespace, name, body }, mergePatch),
      remove: (namespace, name) => c.core.deleteNamespacedServiceAccount({ namespace, name }),
      content: (v) => ({ imagePullSecrets: [{ name: v }] }),
      valueOf: (o) => o?.imagePullSecrets?.[0]?.name,
    },
  };
}
