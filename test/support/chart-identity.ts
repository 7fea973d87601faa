// Test operators run with exactly the permissions the Helm chart grants: the chart's RBAC objects (`helm template`,
// nothing edited) are applied for a release, and the operator authenticates with a token of the chart's
// ServiceAccount and writes RBAC through the chart's RBAC writer, as the chart's Deployment does.
import type { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl } from '../../e2e/support/process.ts';
import { admin, controlPlaneInfo, serviceAccountKubeConfig, waitFor } from './cluster.ts';
import { render, type Rule } from './helm.ts';
import { qualifyServiceAccount } from '../../src/kube/client.ts';

export interface ChartIdentity {
  /** The release namespace: the ServiceAccounts and the leader-election Role live here. */
  namespace: string;
  /** The `--rbac-writer` value the chart's Deployment passes, as <namespace>/<name>. */
  rbacWriter: string;
  /** The `--settings-configmap` the chart passes (its Role lets the operator change only that ConfigMap). */
  settingsConfigMap: string;
  /** A fresh kubeconfig with a token for the chart's operator ServiceAccount. */
  kubeConfig(): Promise<KubeConfig>;
  /** The same, written to a file (for operator processes and kubectl). */
  kubeconfigFile(): Promise<string>;
}

const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/**
 * What the engine and policy suites replicate: Roles reading ConfigMaps, Pods and Secrets, and RoleBindings to the
 * `view` and `edit` ClusterRoles (`bind` on exactly those, so the writer need not hold everything they grant).
 */
export const suiteGrantable: Rule[] = [
  { apiGroups: [''], resources: ['configmaps', 'pods', 'secrets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['view', 'edit'] },
];

/** The release every engine and policy suite shares, and where a chart release keeps its namespaced objects. */
export const suiteRelease = 'kr-suite';
export const releaseNamespace = (release: string) => `${release}-system`;

/** A writer that may grant only ConfigMap reads: the escalation and tenant-isolation suites' refusals rest on it. */
export const configMapReadsOnly: Rule[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }];

const installed = new Map<string, Promise<ChartIdentity>>();

/**
 * Applies the chart's RBAC for `release` (idempotent: kubectl apply) with `rbacWriter.grantable` set to
 * `grantable`, and waits until kube-controller-manager has aggregated it. The default is the identity every
 * engine and policy suite runs under.
 */
export function chartIdentity(release = suiteRelease, grantable: Rule[] = suiteGrantable, values: string[] = []): Promise<ChartIdentity> {
  const key = `${release} ${JSON.stringify(grantable)} ${JSON.stringify(values)}`;
  let p = installed.get(key);
  if (!p) installed.set(key, p = install(release, grantable, values));
  return p;
}

/** `values`: more `helm template` arguments (e.g. `--set-json=extraKinds=[...]`). */
async function install(release: string, grantable: Rule[], values: string[]): Promise<ChartIdentity> {
  const namespace = releaseNamespace(release);
  const rendered = render([`--set-json=rbacWriter.grantable=${JSON.stringify(grantable)}`, ...values], { release, namespace });
  const objects = rendered.filter((o) => rbacKinds.has(o.kind));
  const deployment = rendered.find((o) => o.kind === 'Deployment');
  const args: string[] = deployment!.spec.template.spec.containers[0].args;
  // A bare name is the operator's own namespace: the release's (test operators do not run in a Pod).
  const rbacWriter = qualifyServiceAccount(args.find((a) => a.startsWith('--rbac-writer='))!.slice('--rbac-writer='.length), namespace);
  const settingsConfigMap = args.find((a) => a.startsWith('--settings-configmap='))!.slice('--settings-configmap='.length);
  const fullname = deployment!.metadata.name;
  const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, ...objects] };
  kubectl(['apply', '-f', '-'], JSON.stringify(list));
  const c = admin();
  // The writer can grant nothing until kube-controller-manager has aggregated rbacWriter.grantable.
  await waitFor('the grantable ClusterRole to be aggregated', async () => {
    const agg = await c.rbac.readClusterRole({ name: `${fullname}-grantable` });
    return (agg.rules?.length ?? 0) >= grantable.length;
  });
  const kubeConfig = () => serviceAccountKubeConfig(namespace, fullname);
  return {
    namespace,
    rbacWriter,
    settingsConfigMap,
    kubeConfig,
    async kubeconfigFile() {
      const file = join(controlPlaneInfo().dir, `${fullname}-${process.pid}.kubeconfig`);
      writeFileSync(file, (await kubeConfig()).exportConfig(), { mode: 0o600 });
      return file;
    },
  };
}

/**
 * The chart's `--rbac-writer` unless the flags name one, and no published settings unless they ask for them (with
 * `--settings-configmap=<identity.settingsConfigMap>`): a suite's operator would otherwise leave its settings behind
 * in the shared release namespace, for every later `explain` to find.
 */
export function withChartArgs(flags: string[], identity: ChartIdentity): string[] {
  const chart = [`--rbac-writer=${identity.rbacWriter}`, '--settings-configmap='];
  return [...chart.filter((c) => !flags.some((f) => f.startsWith(c.slice(0, c.indexOf('='))))), ...flags];
}
