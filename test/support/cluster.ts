// Helpers for tests against the real control plane started by global-setup.ts.
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { kubeconfigYaml, type ControlPlaneInfo } from '../../tools/controlplane/controlplane.ts';
import { Pki } from '../../tools/controlplane/pki.ts';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { kubeAccessFromText, type KubeAccess } from '../../src/kube/kubeconfig.ts';

export function controlPlaneInfo(): ControlPlaneInfo {
  const file = process.env.KR_TEST_CONTROLPLANE;
  if (!file) throw new Error('KR_TEST_CONTROLPLANE is not set: integration tests run through `npm test`, which starts a control plane');
  return JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo;
}

export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(controlPlaneInfo().kubeconfig); // only ever the control plane we started
  return kc;
}

export interface Clients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  rbac: k8s.RbacAuthorizationV1Api;
  custom: k8s.CustomObjectsApi;
}

export function clientsFor(kc: k8s.KubeConfig): Clients {
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

export const admin = (): Clients => clientsFor(adminKubeConfig());

/** A non-admin identity authenticated by a client certificate (never system:masters). */
export function userKubeConfig(user: string, groups: string[] = []): k8s.KubeConfig {
  const info = controlPlaneInfo();
  if (groups.includes('system:masters')) throw new Error('RBAC tests must not use system:masters');
  const pki = new Pki(info.pkiDir);
  const creds = pki.clientCert(user, groups);
  const file = join(info.dir, `user-${user}-${randomBytes(3).toString('hex')}.kubeconfig`);
  writeFileSync(file, kubeconfigYaml(info.server, pki.caCert, creds, user), { mode: 0o600 });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** A ServiceAccount identity: a short-lived token minted with the TokenRequest API. */
export async function serviceAccountKubeConfig(namespace: string, name: string): Promise<k8s.KubeConfig> {
  const info = controlPlaneInfo();
  const { core } = admin();
  const tr = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } as k8s.AuthenticationV1TokenRequest });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfigYaml(info.server, new Pki(info.pkiDir).caCert, { token: tr.status!.token }, `system:serviceaccount:${namespace}:${name}`));
  return kc;
}

/** The operator's own view of a client-node configuration (src/kube/kubeconfig.ts reads it). */
export const accessOf = (kc: k8s.KubeConfig): Promise<KubeAccess> => kubeAccessFromText(kc.exportConfig());

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The HTTP status of a failed client-node call (ApiException.code), or undefined. */
export function statusOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

export async function expectStatus(p: Promise<unknown>, status: number): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (statusOf(e) === status) return;
    throw e;
  }
  throw new Error(`expected HTTP ${status}, but the call succeeded`);
}

/** Polls until `check` returns a truthy value (returned), or fails with the last state seen. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let interval = 50; ; interval = Math.min(interval * 1.5, 500)) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await delay(interval);
  }
}

/** Makes `user` an admin (ClusterRole `admin`) of `namespace` and nothing else: how the suites' tenants are set up. */
export async function grantNamespaceAdmin(c: Clients, namespace: string, user: string): Promise<void> {
  await c.rbac.createNamespacedRoleBinding({ namespace, body: {
    metadata: { name: 'tenant-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
    subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
  } });
}

/** A kubeconfig file of a certificate user without admin rights, bound cluster-wide to a ClusterRole of `rules`. */
export async function clusterRoleUserKubeconfig(user: string, rules: k8s.V1PolicyRule[]): Promise<string> {
  const { rbac } = admin();
  await rbac.createClusterRole({ body: { metadata: { name: user }, rules } });
  await rbac.createClusterRoleBinding({ body: { metadata: { name: user }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] } });
  const file = join(controlPlaneInfo().dir, `${user}.kubeconfig`);
  writeFileSync(file, userKubeConfig(user).exportConfig(), { mode: 0o600 });
  return file;
}

/** Runs `f` over 0..n-1, `width` at a time. */
export async function inParallel(n: number, width: number, f: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await f(next++);
  }));
}

export async function createNamespace(c: Clients, name: string, labels: Record<string, string> = {}): Promise<string> {
  await c.core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

/** Deletes a namespace and waits until kube-controller-manager has finalized it. */
export async function deleteNamespace(c: Clients, name: string, wait = true): Promise<void> {
  try {
    await c.core.deleteNamespace({ name });
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
  if (wait) {
    await waitFor(`namespace ${name} to be gone`, async () => {
      try {
        await c.core.readNamespace({ name });
        return false;
      } catch (e) {
        return statusOf(e) === 404;
      }
    }, 60_000);
  }
}

/** Decoded data of a Secret (base64 → utf8), for readable assertions. */
export function decoded(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Reads an object, or undefined when it does not exist. */
export async function maybe<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
}

/** Waits for an Event with `reason` on the object `name` in `namespace`, and returns it. */
export async function waitForEvent(c: Clients, namespace: string, name: string, reason: string, timeoutMs = 30_000) {
  return waitFor(`Event ${reason} on ${namespace}/${name}`, async () => {
    const list = await c.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},reason=${reason}` });
    return list.items[0];
  }, timeoutMs);
}

/** Deletes a ClusterRole and the ClusterRoleBinding of the same name. */
export async function deleteClusterRoleWithBinding(c: Clients, clusterRole: string): Promise<void> {
  await c.rbac.deleteClusterRoleBinding({ name: clusterRole }).catch(() => undefined);
  await c.rbac.deleteClusterRole({ name: clusterRole }).catch(() => undefined);
}
