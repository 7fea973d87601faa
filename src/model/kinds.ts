// The kinds kube-replicator replicates, and how each one is addressed on the API server.

export const kinds = ['Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'] as const;
export type Kind = (typeof kinds)[number];

export interface KindInfo {
  kind: Kind;
  /** API group/version, e.g. `v1` or `rbac.authorization.k8s.io/v1`. */
  apiVersion: string;
  /** Lower-case plural resource name. */
  plural: string;
}

export const kindInfo: Record<Kind, KindInfo> = {
  Secret: { kind: 'Secret', apiVersion: 'v1', plural: 'secrets' },
  ConfigMap: { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps' },
  Role: { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles' },
  RoleBinding: { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings' },
  ServiceAccount: { kind: 'ServiceAccount', apiVersion: 'v1', plural: 'serviceaccounts' },
};

export function isKind(value: string): value is Kind {
  return (kinds as readonly string[]).includes(value);
}

/** RBAC kinds can grant permissions, so they get extra trust checks. */
export function isRbacKind(kind: Kind): boolean {
  return kind === 'Role' || kind === 'RoleBinding';
}
