// The chart's ValidatingAdmissionPolicy (templates/admission-policy.yaml), rendered by `helm template` and applied
// as rendered, in force in the real kube-apiserver. Every refusal is exercised with a REAL non-admin identity (a
// client certificate bound to the `admin` ClusterRole in its own namespace only, never system:masters); the
// "replicas" are written by the chart's operator ServiceAccount (and its RBAC writer, impersonated as the operator
// does), exactly the identities the policy lets through. No operator runs: the policy is what is under test.
//
// The only change to what the chart renders: the binding gets a namespaceSelector on this run's namespaces, so a
// policy left behind by an aborted run cannot refuse writes of the suites that run after it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl } from '../e2e/support/process.ts';
import { chartIdentity, releaseNamespace } from './support/chart-identity.ts';
import {
  admin, b64, controlPlaneInfo, createNamespace, decoded, deleteNamespace, maybe, serviceAccountKubeConfig, statusOf, uniqueName, userKubeConfig, waitFor, grantNamespaceAdmin,
} from './support/cluster.ts';
import { render, type Obj } from './support/helm.ts';

const release = 'kr-vap';
const releaseNs = releaseNamespace(release);
const fullname = `${release}-kube-replicator`;
const policyName = `${fullname}-protect-replicas`;
const operatorUser = `system:serviceaccount:${releaseNs}:${fullname}`;
const writerUser = `system:serviceaccount:${releaseNs}:${fullname}-rbac-writer`;

const run = uniqueName('vap');
const scope = { 'kube-replicator.test/admission-run': run };
const tenantNs = `${run}-team-a`;
const doomedNs = `${run}-doomed`;
const tenantUser = `tenant-${run}`;

const R = 'kube-replicator.io/';
const SOURCE = 'platform/registry-creds';
/** What kube-replicator writes on a replica (spec-trust.md), for a trusted or an untrusted rule. */
const provenance = (tier: 'trusted' | 'untrusted', source = SOURCE) => ({
  labels: { [`${R}replica`]: 'true', [`${R}source-namespace`]: source.split('/')[0]!, app: 'registry' },
  annotations: {
    [`${R}source`]: source, [`${R}source-uid`]: '6f1c7f5e-0000-4000-8000-000000000001', [`${R}rule`]: tier === 'trusted' ? 'policy/registry' : 'annotation',
    [`${R}content-hash`]: 'sha256-0', [`${R}tier`]: tier, 'replicator.v1.mittwald.de/replicated-at': '2026-11-30T00:00:00Z',
  },
});

type Kind = 'Secret' | 'ConfigMap' | 'ServiceAccount' | 'Role' | 'RoleBinding';
/** A minimal valid object of each replicated kind (the RBAC ones grant only what every namespace admin holds). */
function object(kind: Kind, namespace: string, name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): k8s.KubernetesObject & Record<string, unknown> {
  const metadata = { name, namespace, ...meta };
  switch (kind) {
    case 'Secret': return { apiVersion: 'v1', kind, metadata, type: 'Opaque', data: { token: b64('t0ken') } };
    case 'ConfigMap': return { apiVersion: 'v1', kind, metadata, data: { mode: 'strict' } };
    case 'ServiceAccount': return { apiVersion: 'v1', kind, metadata, imagePullSecrets: [{ name: 'registry-creds' }] };
    case 'Role': return { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] };
    case 'RoleBinding': return { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'readers', apiGroup: 'rbac.authorization.k8s.io' }] };
  }
}
const allKinds: Kind[] = ['Secret', 'ConfigMap', 'ServiceAccount', 'Role', 'RoleBinding'];

const objects = (kc: k8s.KubeConfig) => k8s.KubernetesObjectApi.makeApiClient(kc);
/** What KubernetesObjectApi.read needs of an object. */
const ref = (o: k8s.KubernetesObject) => ({ apiVersion: o.apiVersion!, kind: o.kind!, metadata: { name: o.metadata!.name!, namespace: o.metadata!.namespace } });
/** The same credentials, impersonating `user` (the API server then admits the request as that user). */
function impersonating(kc: k8s.KubeConfig, user: string): k8s.KubeConfig {
  const out = new k8s.KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters, contexts: kc.contexts, currentContext: kc.currentContext,
    users: kc.users.map((u) => (u.name === kc.getCurrentUser()!.name ? { ...u, impersonateUser: user } : u)),
  });
  return out;
}

/** The refusal of a request that must fail: HTTP status and the Status message the client sees. */
async function refusal(p: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    const body = (e as { body?: unknown }).body;
    const parsed = typeof body === 'string' ? (() => { try { return JSON.parse(body) as { message?: string }; } catch { return { message: body }; } })() : body as { message?: string } | undefined;
    return { code: statusOf(e), message: parsed?.message ?? (e as Error).message };
  }
  throw new Error('expected the API server to refuse the request, but it was admitted');
}
const denied = (message: string) => `ValidatingAdmissionPolicy '${policyName}' with binding '${policyName}' denied request: ${message}`;
const replicaMessage = (kind: Kind, source = SOURCE) => `this ${kind} is a replica of ${source} managed by kube-replicator; edit the source instead`;
const onlyUs = ': only kube-replicator sets kube-replicator.io/ labels and annotations (removing them is allowed)';

const c = admin();
let policyObjects: Obj[] = [];
let operator: k8s.KubernetesObjectApi; // the chart's operator ServiceAccount
let writer: k8s.KubernetesObjectApi; // the operator impersonating its RBAC writer, as it writes Roles and RoleBindings
let tenant: k8s.KubernetesObjectApi; // a namespace admin of tenantNs
let tenantKc: k8s.KubeConfig;
/** The operator writes Roles and RoleBindings through its writer, everything else as itself. */
const asOperator = (kind: Kind) => (kind === 'Role' || kind === 'RoleBinding' ? writer : operator);

beforeAll(async () => {
  const identity = await chartIdentity(release);
  const operatorKc = await identity.kubeConfig();
  operator = objects(operatorKc);
  writer = objects(impersonating(operatorKc, writerUser));
  expect(identity.rbacWriter).toBe(`${releaseNs}/${fullname}-rbac-writer`);

  for (const ns of [tenantNs, doomedNs]) await createNamespace(c, ns, scope);
  await grantNamespaceAdmin(c, tenantNs, tenantUser);
  tenantKc = userKubeConfig(tenantUser);
  tenant = objects(tenantKc);

  // The policy, its binding, and the ConfigMap naming whom it lets through.
  policyObjects = render([], { release, namespace: releaseNs }).filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy') || (o.kind === 'ConfigMap' && o.metadata.name === policyName));
  expect(policyObjects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([`ConfigMap/${policyName}`, `ValidatingAdmissionPolicy/${policyName}`, `ValidatingAdmissionPolicyBinding/${policyName}`]);
  const binding = policyObjects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
  expect(binding.spec).toEqual({ policyName, validationActions: ['Deny'], paramRef: { name: policyName, namespace: releaseNs, parameterNotFoundAction: 'Allow' } });
  const scoped = policyObjects.map((o) => (o === binding ? { ...o, spec: { ...o.spec, matchResources: { namespaceSelector: { matchLabels: scope } } } } : o));
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: scoped }));

  // In force once the API server refuses a provenance label from the tenant (a dry run: nothing is stored).
  const probe = object('ConfigMap', tenantNs, 'probe', { labels: { [`${R}replica`]: 'true' } });
  await waitFor('the ValidatingAdmissionPolicy to be in force', async () => {
    try {
      await tenant.create(probe, undefined, 'All');
      return false;
    } catch (e) {
      if (statusOf(e) === 403) return true;
      throw e;
    }
  });
});

afterAll(async () => {
  if (policyObjects.length) kubectl(['delete', '--ignore-not-found', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policyObjects }));
  await Promise.all([tenantNs, doomedNs].map((ns) => deleteNamespace(c, ns, false)));
});

describe('the chart\'s ValidatingAdmissionPolicy in the API server', () => {
  it('is in the API server as rendered: every replicated kind, only the chart\'s two ServiceAccounts exempt', async () => {
    // (Its status.typeChecking is filled by kube-controller-manager's validatingadmissionpolicy-status-controller,
    // which this control plane does not run; what the expressions do is checked below, kind by kind.)
    const vap = await c.kc.makeApiClient(k8s.AdmissionregistrationV1Api).readValidatingAdmissionPolicy({ name: policyName });
    expect(vap.spec!.failurePolicy).toBe('Fail');
    expect(vap.spec!.matchConstraints!.resourceRules!.flatMap((r) => r.resources!).sort()).toEqual(['configmaps', 'rolebindings', 'roles', 'secrets', 'serviceaccounts']);
    // Whom it lets through comes from its parameter ConfigMap, in that ConfigMap's namespace.
    expect(vap.spec!.paramKind).toEqual({ apiVersion: 'v1', kind: 'ConfigMap' });
    const params = await c.core.readNamespacedConfigMap({ namespace: releaseNs, name: policyName });
    expect(params.data!.serviceAccounts!.split(',').map((n) => `system:serviceaccount:${releaseNs}:${n}`)).toEqual([operatorUser, writerUser]);
  });

  it('a ServiceAccount named like the operator\'s in another namespace is not let through', async () => {
    const replica = await operator.create(object('Secret', tenantNs, 'impostor-target', provenance('trusted')));
    await c.core.createNamespacedServiceAccount({ namespace: tenantNs, body: { metadata: { name: fullname } } });
    const impostor = objects(await serviceAccountKubeConfig(tenantNs, fullname));
    await c.rbac.createNamespacedRoleBinding({ namespace: tenantNs, body: {
      metadata: { name: 'impostor-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'ServiceAccount', name: fullname, namespace: tenantNs }],
    } });
    const edited = { ...replica, metadata: { ...replica.metadata!, labels: { ...replica.metadata!.labels, app: 'mine' } } };
    expect(await refusal(impostor.replace(edited))).toEqual({ code: 403, message: expect.stringContaining(replicaMessage('Secret')) });
  });

  describe.each(allKinds)('a trusted replica (%s)', (kind) => {
    const name = `trusted-${kind.toLowerCase()}`;
    let created: k8s.KubernetesObject;
    beforeAll(async () => {
      created = await asOperator(kind).create(object(kind, tenantNs, name, provenance('trusted')));
    });

    it('cannot be updated by the namespace\'s admin, who is told which source to edit', async () => {
      const edited = { ...created, metadata: { ...created.metadata!, labels: { ...created.metadata!.labels, app: 'mine' } } };
      const r = await refusal(tenant.replace(edited));
      expect(r).toEqual({ code: 403, message: expect.stringContaining(denied(replicaMessage(kind))) });
      // Nor by stripping the provenance first: a trusted replica is not the tenant's to take back.
      const stripped = { ...created, metadata: { ...created.metadata!, labels: { app: 'registry' }, annotations: {} } };
      expect(await refusal(tenant.replace(stripped))).toEqual({ code: 403, message: expect.stringContaining(replicaMessage(kind)) });
      const live = await objects(c.kc).read(ref(created));
      expect(live.metadata!.resourceVersion).toBe(created.metadata!.resourceVersion);
    });

    it('cannot be deleted by the namespace\'s admin, nor by a cluster admin', async () => {
      expect(await refusal(tenant.delete(created))).toEqual({ code: 403, message: expect.stringContaining(denied(replicaMessage(kind))) });
      expect(await refusal(objects(c.kc).delete(created))).toEqual({ code: 403, message: expect.stringContaining(replicaMessage(kind)) });
      expect((await objects(c.kc).read(ref(created))).metadata!.uid).toBe(created.metadata!.uid);
    });

    it('is updated and deleted by the operator\'s ServiceAccount (its RBAC writer for Roles and RoleBindings)', async () => {
      const live = await asOperator(kind).read(ref(created));
      const updated = await asOperator(kind).replace({ ...live, metadata: { ...live.metadata!, annotations: { ...live.metadata!.annotations, [`${R}content-hash`]: 'sha256-1', [`${R}source`]: 'platform/registry-creds-v2' } } });
      expect(updated.metadata!.annotations![`${R}source`]).toBe('platform/registry-creds-v2');
      await asOperator(kind).delete(updated);
      await waitFor(`${kind} ${name} to be gone`, async () => !(await maybe(objects(c.kc).read(ref(created)))));
    });
  });

  it('names the source of the replica in the message, whatever it is', async () => {
    const s = await operator.create(object('Secret', tenantNs, 'db-creds', provenance('trusted', 'payments-platform/db-creds')));
    expect(await refusal(tenant.patch({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-creds', namespace: tenantNs }, data: { token: b64('mine') } } as k8s.KubernetesObject)))
      .toEqual({ code: 403, message: expect.stringContaining('this Secret is a replica of payments-platform/db-creds managed by kube-replicator; edit the source instead') });
    expect(decoded((await c.core.readNamespacedSecret({ namespace: tenantNs, name: 'db-creds' })).data)).toEqual({ token: 't0ken' });
    expect((await c.core.readNamespacedSecret({ namespace: tenantNs, name: 'db-creds' })).metadata!.resourceVersion).toBe(s.metadata!.resourceVersion);
  });

  describe('provenance', () => {
    it.each(allKinds)('a tenant cannot create a %s carrying a kube-replicator.io/ label or annotation', async (kind) => {
      const withLabel = object(kind, tenantNs, `forged-label-${kind.toLowerCase()}`, { labels: { [`${R}replica`]: 'true' } });
      expect(await refusal(tenant.create(withLabel))).toEqual({ code: 403, message: expect.stringContaining(denied(`label ${R}replica${onlyUs}`)) });
      const withAnnotation = object(kind, tenantNs, `forged-annotation-${kind.toLowerCase()}`, { annotations: { [`${R}source`]: SOURCE } });
      expect(await refusal(tenant.create(withAnnotation))).toEqual({ code: 403, message: expect.stringContaining(denied(`annotation ${R}source${onlyUs}`)) });
      // Forging a whole trusted replica is refused too (every key is named).
      const forged = await refusal(tenant.create(object(kind, tenantNs, `forged-${kind.toLowerCase()}`, provenance('trusted'))));
      expect(forged.code).toBe(403);
      for (const k of ['label kube-replicator.io/replica', 'label kube-replicator.io/source-namespace', 'annotation kube-replicator.io/tier', 'annotation kube-replicator.io/source']) expect(forged.message).toContain(k);
      // The same object without our keys is the tenant's to create.
      const own = await tenant.create(object(kind, tenantNs, `own-${kind.toLowerCase()}`, { labels: { app: 'mine' }, annotations: { 'replicator.v1.mittwald.de/replicate-to': 'elsewhere' } }));
      expect(own.metadata!.uid).toBeTruthy();
      for (const n of [withLabel, withAnnotation]) expect(await maybe(objects(c.kc).read(ref(n)))).toBeUndefined();
    });

    it('a tenant cannot add provenance to its own object', async () => {
      const own = await tenant.create(object('ConfigMap', tenantNs, 'plain', { labels: { app: 'mine' } }));
      const r = await refusal(tenant.replace({ ...own, metadata: { ...own.metadata!, annotations: { [`${R}tier`]: 'trusted' } } }));
      expect(r).toEqual({ code: 403, message: expect.stringContaining(denied(`annotation ${R}tier${onlyUs}`)) });
      // Any other label or annotation is fine.
      const relabelled = await tenant.replace({ ...own, metadata: { ...own.metadata!, labels: { app: 'mine', tier: 'gold' }, annotations: { note: 'ok' } } });
      expect(relabelled.metadata!.labels).toEqual({ app: 'mine', tier: 'gold' });
    });

    it('a tenant cannot change the provenance of an untrusted replica, but may edit its content and strip the provenance', async () => {
      const replica = await operator.create(object('Secret', tenantNs, 'untrusted', provenance('untrusted', 'team-b/shared')));
      // Promoting it, or pointing it at another source, is refused.
      const promote = await refusal(tenant.replace({ ...replica, metadata: { ...replica.metadata!, annotations: { ...replica.metadata!.annotations, [`${R}tier`]: 'trusted' } } }));
      expect(promote).toEqual({ code: 403, message: expect.stringContaining(denied(`annotation ${R}tier${onlyUs}`)) });
      const repoint = await refusal(tenant.replace({ ...replica, metadata: { ...replica.metadata!, labels: { ...replica.metadata!.labels, [`${R}source-namespace`]: 'kube-system' } } }));
      expect(repoint).toEqual({ code: 403, message: expect.stringContaining(denied(`label ${R}source-namespace${onlyUs}`)) });
      // Editing the content of an untrusted replica is the namespace owner's right (the operator then yields).
      const edited = await tenant.replace({ ...replica, data: { token: b64('mine') } });
      expect(edited.metadata!.annotations![`${R}tier`]).toBe('untrusted');
      // Taking it back: every kube-replicator.io/ key removed, other labels and annotations kept.
      const taken = await tenant.replace({ ...edited, metadata: { ...edited.metadata!, labels: { app: 'registry' }, annotations: { 'replicator.v1.mittwald.de/replicated-at': '2026-11-30T00:00:00Z' } } });
      expect(taken.metadata!.labels).toEqual({ app: 'registry' });
      expect(Object.keys(taken.metadata!.annotations ?? {}).filter((k) => k.startsWith(R))).toEqual([]);
      // Removing one key at a time is removal too; and an untrusted replica may be deleted.
      const second = await operator.create(object('ConfigMap', tenantNs, 'untrusted-cm', provenance('untrusted', 'team-b/shared')));
      const { [`${R}source-uid`]: _uid, ...fewer } = second.metadata!.annotations!;
      const partly = await tenant.replace({ ...second, metadata: { ...second.metadata!, annotations: fewer } });
      expect(partly.metadata!.annotations![`${R}source-uid`]).toBeUndefined();
      await tenant.delete(partly);
      expect(await maybe(objects(c.kc).read(ref(partly)))).toBeUndefined();
    });

    it('only the operator\'s ServiceAccounts set it: another ServiceAccount with the same RBAC is refused', async () => {
      // A look-alike: a ServiceAccount in the release namespace, bound to the operator's own ClusterRole.
      const lookalike = `${fullname}-lookalike`;
      await c.core.createNamespacedServiceAccount({ namespace: releaseNs, body: { metadata: { name: lookalike } } });
      await c.rbac.createClusterRoleBinding({ body: {
        metadata: { name: `${run}-lookalike` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: fullname },
        subjects: [{ kind: 'ServiceAccount', name: lookalike, namespace: releaseNs }],
      } });
      try {
        const kc = impersonating(c.kc, `system:serviceaccount:${releaseNs}:${lookalike}`);
        const r = await refusal(objects(kc).create(object('ConfigMap', tenantNs, 'lookalike', { labels: { [`${R}replica`]: 'true' } })));
        expect(r).toEqual({ code: 403, message: expect.stringContaining(denied(`label ${R}replica${onlyUs}`)) });
        const ok = await operator.create(object('ConfigMap', tenantNs, 'by-operator', { labels: { [`${R}replica`]: 'true' } }));
        expect(ok.metadata!.labels![`${R}replica`]).toBe('true');
      } finally {
        await c.rbac.deleteClusterRoleBinding({ name: `${run}-lookalike` });
        await c.core.deleteNamespacedServiceAccount({ namespace: releaseNs, name: lookalike });
      }
    });
  });

  describe('namespace deletion and garbage collection', () => {
    it.each([
      ['the garbage collector', 'system:serviceaccount:kube-system:generic-garbage-collector'],
      ['the namespace controller', 'system:serviceaccount:kube-system:namespace-controller'],
      ['kube-controller-manager without --use-service-account-credentials', 'system:kube-controller-manager'],
    ])('%s (%s) may delete a trusted replica', async (_what, user) => {
      const name = `gc-${user.split(':').pop()}`;
      const owner = await c.core.createNamespacedConfigMap({ namespace: tenantNs, body: { metadata: { name: `${name}-owner` } } });
      const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata!.name!, uid: owner.metadata!.uid! }];
      const replica = await operator.create({ ...object('Secret', tenantNs, name, provenance('trusted')), metadata: { name, namespace: tenantNs, ...provenance('trusted'), ownerReferences } });
      expect(await refusal(tenant.delete(replica))).toEqual({ code: 403, message: expect.stringContaining(replicaMessage('Secret')) });
      const as = objects(impersonating(c.kc, user));
      if (user.endsWith('generic-garbage-collector')) {
        // The collector also updates dependents: orphaning removes their ownerReference to the owner.
        expect(await refusal(tenant.replace({ ...replica, metadata: { ...replica.metadata!, ownerReferences: [] } }))).toMatchObject({ code: 403 });
        const orphaned = await as.replace({ ...replica, metadata: { ...replica.metadata!, ownerReferences: [] } });
        expect(orphaned.metadata!.ownerReferences).toBeUndefined();
      }
      await as.delete(replica);
      expect(await maybe(objects(c.kc).read(ref(replica)))).toBeUndefined();
      await c.core.deleteNamespacedConfigMap({ namespace: tenantNs, name: owner.metadata!.name! });
    });

    it('deleting a namespace that holds trusted replicas completes', async () => {
      for (const kind of allKinds) await asOperator(kind).create(object(kind, doomedNs, `trusted-${kind.toLowerCase()}`, provenance('trusted')));
      // In this control plane kube-controller-manager runs as a cluster admin (not one of the identities above), so
      // its deletions pass only because the namespace is being deleted; outside of that the same identity is refused.
      expect(await refusal(objects(c.kc).delete(object('Secret', doomedNs, 'trusted-secret')))).toEqual({ code: 403, message: expect.stringContaining(replicaMessage('Secret')) });
      await deleteNamespace(c, doomedNs);
      expect(await maybe(c.core.readNamespace({ name: doomedNs }))).toBeUndefined();
    });
  });

  it('an object without kube-replicator.io/ metadata is not the policy\'s business', async () => {
    const cm = await tenant.create(object('ConfigMap', tenantNs, 'unrelated'));
    await tenant.replace({ ...cm, data: { mode: 'lax' } });
    await tenant.delete(cm);
    expect(await maybe(objects(c.kc).read(ref(cm)))).toBeUndefined();
  });

  it('the tenant\'s kubectl prints the refusal naming the source (the message users see)', () => {
    const file = join(controlPlaneInfo().dir, `tenant-${run}.kubeconfig`);
    writeFileSync(file, tenantKc.exportConfig(), { mode: 0o600 });
    expect(kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], undefined, file)).toBe(tenantUser);
    let stderr = '';
    try {
      kubectl(['-n', tenantNs, 'delete', 'secret', 'db-creds'], undefined, file);
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr);
    }
    expect(stderr).toContain(`secrets "db-creds" is forbidden: ${denied('this Secret is a replica of payments-platform/db-creds managed by kube-replicator; edit the source instead')}`);
  });
});
