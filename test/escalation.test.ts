// The RBAC escalation guard: Roles and RoleBindings are written while impersonating --rbac-writer, so the API
// server's own escalation prevention decides what may be granted; and a Role is never created under a name
// that someone else's RoleBinding already references.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { admin, createNamespace, deleteNamespace, maybe, uniqueName, waitFor, waitForEvent } from './support/cluster.ts';
import { chartIdentity, configMapReadsOnly, type ChartIdentity } from './support/chart-identity.ts';
import { AuditWrites } from '../e2e/support/process.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const M = 'replicator.v1.mittwald.de/';
const c = admin();
const run = uniqueName('esc');
const src = `${run}-src`;
const teamB = `${run}-team-b`;
let operator: TestOperator;
let identity: ChartIdentity;

beforeAll(async () => {
  for (const n of [src, teamB]) await createNamespace(c, n);
  // The chart's permissions, with an RBAC writer that may grant ConfigMap reads only. The suites' release, whose
  // writer may grant Secret reads, is installed too: its grantable rules must not reach this release's writer.
  await chartIdentity();
  identity = await chartIdentity('kr-escalation', configMapReadsOnly);
  operator = await startTestOperator([`--trusted-rbac-namespaces=${src}`], identity);
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([src, teamB].map((n) => deleteNamespace(c, n, false)));
});

const role = (namespace: string, name: string) => maybe(c.rbac.readNamespacedRole({ namespace, name }));

describe('RBAC escalation guard', () => {
  it('replicates a Role whose rules the writer holds: written by the chart\'s ServiceAccount impersonating its writer', async () => {
    const audit = new AuditWrites();
    audit.mark();
    await c.rbac.createNamespacedRole({ namespace: src, body: { metadata: { name: 'cm-reader', annotations: { [`${M}replicate-to`]: teamB } },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] } });
    const replica = await waitFor('the replica', () => role(teamB, 'cm-reader'));
    expect(replica.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]);
    const [ns, name] = identity.rbacWriter.split('/');
    const create = await waitFor('the audit entry of the create', () => audit.entries().find((e) => e.verb === 'create' && e.resource === 'roles' && e.namespace === teamB));
    expect(create.user).toBe(`system:serviceaccount:${identity.namespace}:kr-escalation-kube-replicator`);
    expect(create.impersonatedUser).toBe(`system:serviceaccount:${ns}:${name}`);
  });

  it('refuses a Role that grants more than the writer holds (Secrets)', async () => {
    await c.rbac.createNamespacedRole({ namespace: src, body: { metadata: { name: 'secret-reader', annotations: { [`${M}replicate-to`]: teamB } },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } });
    const ev = await waitForEvent(c, src, 'secret-reader', 'EscalationRefused');
    expect(ev.message).toContain('would grant more than the writer holds');
    expect(ev.message).toContain("add what it grants to the chart's rbacWriter.grantable");
    expect(await role(teamB, 'secret-reader')).toBeUndefined();
  });

  it('refuses a RoleBinding that would hand out the admin ClusterRole', async () => {
    await c.rbac.createNamespacedRoleBinding({ namespace: src, body: {
      metadata: { name: 'tenant-a-admin', annotations: { [`${M}replicate-to`]: teamB } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', name: 'tenant-a', apiGroup: 'rbac.authorization.k8s.io' }],
    } });
    await waitForEvent(c, src, 'tenant-a-admin', 'EscalationRefused');
    expect(await maybe(c.rbac.readNamespacedRoleBinding({ namespace: teamB, name: 'tenant-a-admin' }))).toBeUndefined();
  });

  it('never creates a Role under a name that a foreign RoleBinding already references', async () => {
    await c.rbac.createNamespacedRoleBinding({ namespace: teamB, body: {
      metadata: { name: 'ops' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ops' },
      subjects: [{ kind: 'User', name: 'team-b-operator', apiGroup: 'rbac.authorization.k8s.io' }],
    } });
    await c.rbac.createNamespacedRole({ namespace: src, body: { metadata: { name: 'ops', annotations: { [`${M}replicate-to`]: teamB } },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] } });
    const ev = await waitForEvent(c, src, 'ops', 'RoleNameInUse');
    expect(ev.message).toContain('already references Role ops');
    expect(await role(teamB, 'ops')).toBeUndefined();
  });
});
