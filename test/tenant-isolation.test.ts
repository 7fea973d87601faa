// Issue "Tenant isolation": the adversarial suite. Two REAL non-admin identities (client certificates, never
// system:masters) each hold the `admin` ClusterRole in their own namespace only; tenant-a attacks tenant-b through
// the operator. The admin client only sets up and reads results. Every attack must fail, leave the victim's
// objects untouched (resourceVersion and data), and leave an Event that explains the refusal without any secret
// value; the last test scans every log line, Event, policy status and /metrics for the secret values used here.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  admin, b64, clientsFor, createNamespace, decoded, deleteNamespace, expectStatus, maybe, uniqueName, userKubeConfig,
  waitFor, waitForEvent, type Clients, deleteClusterRoleWithBinding, grantNamespaceAdmin,
} from './support/cluster.ts';
import { chartIdentity, configMapReadsOnly, type ChartIdentity } from './support/chart-identity.ts';
import { SecretValues } from './support/secret-values.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const M = 'replicator.v1.mittwald.de/';
const REPLICA = 'kube-replicator.io/replica';
const c = admin();
const run = uniqueName('ti');
const teamA = `${run}-team-a`;
const teamB = `${run}-team-b`;
const teamC = `${run}-team-c`; // a third tenant's namespace (consent given to it, not to team-a)
const shared = `${run}-shared`; // where tenant-b legitimately pushes
const sink = `${run}-team-a-sink`; // where tenant-a's flood goes
const payments = `${run}-payments`; // selected by a label-based push rule meant for it only
// A name that makes `(a+)+$` and `(a|a)*b` backtrack catastrophically in a backtracking engine (2^50 paths).
const aaa = uniqueName('a'.repeat(50));
const namespaces = [teamA, teamB, teamC, shared, sink, payments, aaa];
const tierLabel = `tier-${run}`;
const userA = `tenant-a-${run}`;
const userB = `tenant-b-${run}`;
const labelRole = `${run}-label-team-a`;

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
let tenantA: Clients;
let tenantB: Clients;
let operator: TestOperator;
let identity: ChartIdentity;
let operatorStopped = false;
/** Every operator of this file, for the final scan of all their log lines. */
const operators: TestOperator[] = [];
/** /metrics of operators already stopped. */
const metricsTexts: string[] = [];
/** Every secret value used in the suite: none may ever appear in logs, Events, status or metrics. */
const secrets = new SecretValues();
const secretValues = secrets.all;

const secretValue = (what: string) => secrets.make(what);

async function start(flags: string[]): Promise<void> {
  operator = await startTestOperator(flags, identity);
  operatorStopped = false;
  operators.push(operator);
}

async function stop(): Promise<void> {
  metricsTexts.push(await metrics());
  await operator.stop();
  operatorStopped = true;
}

const metrics = async () => (await fetch(`${operator.statusUrl}/metrics`)).text();

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

beforeAll(async () => {
  await Promise.all(namespaces.map((n) => createNamespace(c, n, n === payments ? { [tierLabel]: 'payments' } : {})));
  // The tenants: `admin` in their own namespace, nothing anywhere else.
  for (const [ns, user] of [[teamA, userA], [teamB, userB]] as const) {
    await grantNamespaceAdmin(c, ns, user);
  }
  tenantA = clientsFor(userKubeConfig(userA));
  tenantB = clientsFor(userKubeConfig(userB));
  // The chart's permissions, with an RBAC writer that may grant ConfigMap reads only.
  identity = await chartIdentity('kr-tenants', configMapReadsOnly);
  // The RBAC authorizer learns about new bindings through its own informer: wait until they hold.
  await waitFor('tenant-a is admin in team-a', async () => Boolean(await tenantA.core.listNamespacedSecret({ namespace: teamA })));
  await waitFor('tenant-b is admin in team-b', async () => Boolean(await tenantB.core.listNamespacedSecret({ namespace: teamB })));
  await start([]); // the secure default: no --trusted-rbac-namespaces
}, 60_000);

afterAll(async () => {
  if (!operatorStopped) await operator?.stop();
  await deleteClusterRoleWithBinding(c, labelRole);
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n, false)));
}, 60_000);

const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
const configMap = (namespace: string, name: string) => maybe(c.core.readNamespacedConfigMap({ namespace, name }));
const roleBinding = (namespace: string, name: string) => maybe(c.rbac.readNamespacedRoleBinding({ namespace, name }));
const names = (items: { metadata?: k8s.V1ObjectMeta }[]) => items.map((i) => `${i.metadata!.name}@${i.metadata!.resourceVersion}`).sort();
const rbacSnapshot = async (namespace: string) => ({
  roles: names((await c.rbac.listNamespacedRole({ namespace })).items),
  bindings: names((await c.rbac.listNamespacedRoleBinding({ namespace })).items),
});

/** Waits for an Event with `reason` on namespace/name whose message contains `text`. */
const eventMessage = (namespace: string, name: string, reason: string, text: string) => waitFor(`Event ${reason} "${text}" on ${namespace}/${name}`, async () => {
  const list = await c.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return list.items.find((e) => e.message?.includes(text));
});

/** How many ConfigMaps a namespace holds, without listing them (remainingItemCount of a one-item page). */
async function configMapCount(namespace: string): Promise<number> {
  const page = await c.core.listNamespacedConfigMap({ namespace, limit: 1 });
  return page.items.length + (page.metadata?.remainingItemCount ?? 0);
}

/** Runs make(0..count-1) with at most `width` calls in flight. */
async function bounded(count: number, width: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await make(next++);
  }));
}

describe('tenant isolation (tenant-a attacks tenant-b through the operator)', () => {
  it('attack 1: a push over tenant-b\'s own same-named Secret is refused (TargetConflict); the Secret is unchanged', async () => {
    const victim = await tenantB.core.createNamespacedSecret({ namespace: teamB, body: {
      metadata: { name: 'db-password' }, data: { password: b64(secretValue('tenant-b-db-password')) },
    } });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'db-password', annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(secretValue('tenant-a-db-password')) },
    } });
    const onSource = await waitForEvent(c, teamA, 'db-password', 'TargetConflict');
    const onTarget = await waitForEvent(c, teamB, 'db-password', 'TargetConflict');
    expect(onSource.type).toBe('Warning');
    expect(onSource.message).toContain('was not made by a replicator; it is left untouched');
    expect(onTarget.message).toContain(`not replaced by ${teamA}/db-password`);
    const after = (await secret(teamB, 'db-password'))!;
    expect(after.metadata!.resourceVersion).toBe(victim.metadata!.resourceVersion);
    expect(after.metadata!.uid).toBe(victim.metadata!.uid);
    expect(after.data).toEqual(victim.data);
    expect(after.metadata!.labels?.[REPLICA]).toBeUndefined();
  });

  it('attack 2: a RoleBinding push that would make tenant-a admin in team-b is refused (RbacPushNotTrusted by default)', async () => {
    const before = await rbacSnapshot(teamB);
    await tenantA.rbac.createNamespacedRoleBinding({ namespace: teamA, body: {
      metadata: { name: 'tenant-a-admin', annotations: { [`${M}replicate-to`]: teamB } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', name: userA, apiGroup: 'rbac.authorization.k8s.io' }],
    } });
    const ev = await waitForEvent(c, teamA, 'tenant-a-admin', 'RbacPushNotTrusted');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain(`${teamA} is not one`);
    expect(await roleBinding(teamB, 'tenant-a-admin')).toBeUndefined();
    expect(await rbacSnapshot(teamB)).toEqual(before);
    await expectStatus(tenantA.core.listNamespacedSecret({ namespace: teamB }), 403);
  });

  describe('attack 4: pulling a team-b Secret without matching consent', () => {
    const own = { own: b64('tenant-a-own-value') };
    let sources: Record<string, k8s.V1Secret>;

    beforeAll(async () => {
      const allow = (patterns: string) => ({ [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: patterns });
      sources = {};
      for (const [name, annotations] of [
        ['b-private', {}],
        ['b-for-team-c', allow(teamC)],
        // Each element matches team-a only as a substring, a prefix, a suffix, or inside a longer name; the last
        // is mittwald's textual-anchoring trap (`^x-team|nothing$` matches `x-team-a` there).
        ['b-substring', allow(['team', 'team-a', `${run}-team`, `${run}-team-a-.+`, `${run}-team-a-prod`, `.+-team-a-sink`, `${run}-team|nothing`].join(','))],
      ] as const) {
        sources[name] = await tenantB.core.createNamespacedSecret({ namespace: teamB, body: {
          metadata: { name, annotations }, data: { password: b64(secretValue(`tenant-b-${name}`)) },
        } });
      }
    });

    it.each([
      ['without consent', 'b-private', 'does not set replicator.v1.mittwald.de/replication-allowed: "true"'],
      ['with consent given to another namespace only', 'b-for-team-c', `namespace ${teamA} does not match`],
      ['with patterns that match team-a only as a substring, prefix or longer name', 'b-substring', `namespace ${teamA} does not match`],
    ])('%s → SourceNotAvailable (the reason goes to the owner only); tenant-a gets no data from team-b', async (_what, name, reason) => {
      const target = `pull-${name}`;
      await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
        metadata: { name: target, annotations: { [`${M}replicate-from`]: `${teamB}/${name}` } }, data: own,
      } });
      const ev = await waitForEvent(c, teamA, target, 'SourceNotAvailable');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(`source ${teamB}/${name} does not exist or does not permit replication`);
      expect(ev.message).not.toContain(reason);
      const why = await waitForEvent(c, teamB, name, 'ReplicationNotPermitted'); // the owner is told why
      expect(why.message).toContain(`may not pull from ${teamB}/${name}`);
      expect(why.message).toContain(reason);
      const got = (await secret(teamA, target))!;
      expect(got.data).toEqual(own);
      const source = (await secret(teamB, name))!;
      expect(source.metadata!.resourceVersion).toBe(sources[name]!.metadata!.resourceVersion);
      for (const v of Object.values(decoded(source.data))) expect(JSON.stringify(got)).not.toContain(b64(v));
    });

    it('(control) the consented namespace team-c can pull the same Secret', async () => {
      await c.core.createNamespacedSecret({ namespace: teamC, body: { metadata: { name: 'pull', annotations: { [`${M}replicate-from`]: `${teamB}/b-for-team-c` } } } });
      await waitFor('team-c filled', async () => (await secret(teamC, 'pull'))?.data?.password === sources['b-for-team-c']!.data!.password);
    });
  });

  it('attack 5: tenant-a may not label its namespace into a label-targeted push (403); once the admin lets it, the label works — the documented limit', async () => {
    const value = secretValue('payments-api-key');
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: {
      metadata: { name: 'payments-api-key', annotations: { [`${M}replicate-to-matching`]: `${tierLabel}=payments` } }, data: { key: b64(value) },
    } });
    await waitFor('the rule reaches the namespace it is meant for', async () => (await secret(payments, 'payments-api-key'))?.data?.key === b64(value));
    const label = { metadata: { labels: { [tierLabel]: 'payments' } } };
    // `admin` in a namespace does not include patching the Namespace object itself.
    await expectStatus(tenantA.core.patchNamespace({ name: teamA, body: label }, mergePatch), 403);
    expect((await c.core.readNamespace({ name: teamA })).metadata!.labels?.[tierLabel]).toBeUndefined();
    expect(await secret(teamA, 'payments-api-key')).toBeUndefined();

    // docs/security.md: label-based targeting is only as strong as who may label namespaces.
    await c.rbac.createClusterRole({ body: { metadata: { name: labelRole }, rules: [
      { apiGroups: [''], resources: ['namespaces'], resourceNames: [teamA], verbs: ['get', 'patch'] },
    ] } });
    await c.rbac.createClusterRoleBinding({ body: {
      metadata: { name: labelRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: labelRole },
      subjects: [{ kind: 'User', name: userA, apiGroup: 'rbac.authorization.k8s.io' }],
    } });
    await waitFor('tenant-a labels team-a', async () => Boolean(await tenantA.core.patchNamespace({ name: teamA, body: label }, mergePatch)));
    const replica = await waitFor('team-a receives the push', async () => {
      const s = await secret(teamA, 'payments-api-key');
      return s?.data?.key === b64(value) ? s : undefined;
    });
    expect(replica.metadata!.labels?.[REPLICA]).toBe('true');
    // The grant is for team-a only: team-b's namespace still cannot be relabelled by tenant-a.
    await expectStatus(tenantA.core.patchNamespace({ name: teamB, body: label }, mergePatch), 403);
  });

  it('attack 6: ServiceAccount-token and Helm release Secrets are never replicated (SourceNotReplicable)', async () => {
    await tenantA.core.createNamespacedServiceAccount({ namespace: teamA, body: { metadata: { name: 'builder' } } });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'builder-token', annotations: { 'kubernetes.io/service-account.name': 'builder', [`${M}replicate-to`]: teamB } },
      type: 'kubernetes.io/service-account-token',
    } });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'sh.helm.release.v1.x.v1', labels: { owner: 'helm', name: 'x', status: 'deployed', version: '1' }, annotations: { [`${M}replicate-to`]: teamB } },
      type: 'helm.sh/release.v1', data: { release: b64(secretValue('helm-release')) },
    } });
    // The token controller fills in a real token: it is a secret value of this suite too.
    const token = await waitFor('the token controller fills the token', async () => (await secret(teamA, 'builder-token'))?.data?.token);
    secretValues.push(Buffer.from(token, 'base64').toString('utf8'));
    const sa = await waitForEvent(c, teamA, 'builder-token', 'SourceNotReplicable');
    expect(sa.message).toContain('ServiceAccount token Secrets');
    const helm = await waitForEvent(c, teamA, 'sh.helm.release.v1.x.v1', 'SourceNotReplicable');
    expect(helm.message).toContain('Helm release Secrets');
    expect(await secret(teamB, 'builder-token')).toBeUndefined();
    expect(await secret(teamB, 'sh.helm.release.v1.x.v1')).toBeUndefined();
  });

  it('attack 9: tenant-a\'s edit of tenant-b\'s (untrusted) replica in team-a makes it tenant-a\'s; deleting it brings the replica back; nothing else changes', async () => {
    const value = secretValue('shared-config');
    const source = await tenantB.core.createNamespacedSecret({ namespace: teamB, body: {
      metadata: { name: 'shared-config', annotations: { [`${M}replicate-to`]: `${teamA},${shared}` } }, data: { token: b64(value) },
    } });
    const replicaIn = (namespace: string) => waitFor(`replica in ${namespace}`, async () => {
      const s = await secret(namespace, 'shared-config');
      return s?.data?.token === b64(value) ? s : undefined;
    });
    const inA = await replicaIn(teamA);
    const inShared = await replicaIn(shared);

    // The namespace's owner wins over an untrusted push: the edit stays, provenance goes, both sides are told.
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'shared-config', body: { data: { token: b64('changed by tenant-a') } } }, mergePatch);
    const claimed = await waitFor('the replica released to tenant-a', async () => {
      const s = await secret(teamA, 'shared-config');
      return s && s.metadata!.labels?.[REPLICA] === undefined ? s : undefined;
    });
    expect(claimed.data?.token).toBe(b64('changed by tenant-a'));
    await waitForEvent(c, teamA, 'shared-config', 'TargetClaimed');
    await waitForEvent(c, teamB, 'shared-config', 'TargetClaimed');
    await tenantA.core.deleteNamespacedSecret({ namespace: teamA, name: 'shared-config' });
    const recreated = await waitFor('the deletion is undone', async () => {
      const s = await secret(teamA, 'shared-config');
      return s && s.metadata!.uid !== inA.metadata!.uid && s.data?.token === b64(value) ? s : undefined;
    });
    expect(recreated.metadata!.labels?.[REPLICA]).toBe('true');
    const sourceAfter = (await secret(teamB, 'shared-config'))!;
    expect(sourceAfter.metadata!.resourceVersion).toBe(source.metadata!.resourceVersion);
    expect(sourceAfter.data).toEqual(source.data);
    const sharedAfter = (await secret(shared, 'shared-config'))!;
    expect(sharedAfter.metadata!.resourceVersion).toBe(inShared.metadata!.resourceVersion);
  });

  describe('with team-a trusted for RBAC push (--trusted-rbac-namespaces=<team-a>): the writer and RoleNameInUse still refuse', () => {
    beforeAll(async () => {
      await stop();
      await start([`--trusted-rbac-namespaces=${teamA}`]);
    }, 60_000);

    afterAll(async () => {
      await stop();
      await start([]); // back to the secure default for the rest of the file
    }, 60_000);

    it('attack 2 (trusted): the RoleBinding to admin in team-b is refused by the writer (EscalationRefused)', async () => {
      const before = await rbacSnapshot(teamB);
      const ev = await waitForEvent(c, teamA, 'tenant-a-admin', 'EscalationRefused');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(`the RBAC writer ${identity.rbacWriter} may not create RoleBinding ${teamB}/tenant-a-admin`);
      expect(ev.message).toContain('would grant more than the writer holds');
      expect(await roleBinding(teamB, 'tenant-a-admin')).toBeUndefined();
      expect(await rbacSnapshot(teamB)).toEqual(before);
      await expectStatus(tenantA.core.listNamespacedSecret({ namespace: teamB }), 403);
    });

    it('attack 3: a Role pushed under a name that tenant-b\'s dangling RoleBinding references is not created (RoleNameInUse)', async () => {
      // tenant-b once granted Role "ops" to every authenticated user, then deleted the Role: a dangling binding.
      await tenantB.rbac.createNamespacedRole({ namespace: teamB, body: { metadata: { name: 'ops' }, rules: [] } });
      const binding = await tenantB.rbac.createNamespacedRoleBinding({ namespace: teamB, body: {
        metadata: { name: 'ops' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ops' },
        subjects: [{ kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' }],
      } });
      await tenantB.rbac.deleteNamespacedRole({ namespace: teamB, name: 'ops' });
      // Rules the writer holds (ConfigMaps get/list), so only RoleNameInUse stands between tenant-a and team-b's ConfigMaps.
      await tenantA.rbac.createNamespacedRole({ namespace: teamA, body: {
        metadata: { name: 'ops', annotations: { [`${M}replicate-to`]: teamB } },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      } });
      const ev = await waitForEvent(c, teamA, 'ops', 'RoleNameInUse');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(`a RoleBinding in ${teamB} that kube-replicator did not make already references Role ops`);
      expect(await maybe(c.rbac.readNamespacedRole({ namespace: teamB, name: 'ops' }))).toBeUndefined();
      expect((await roleBinding(teamB, 'ops'))!.metadata!.resourceVersion).toBe(binding.metadata!.resourceVersion);
      await expectStatus(tenantA.core.listNamespacedConfigMap({ namespace: teamB }), 403);
    });
  });

  it('attack 7: catastrophic-backtracking patterns and a 10 000-entry replicate-to leave the operator responsive', async () => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = Date.now();
    const evil = ['(a+)+$', '(a|a)*b', '(a*)*b', '((a+)+)+-z', '(a)\\1', '(?=a)a'].join(',');
    const huge = Array.from({ length: 10_000 }, (_, i) => `(a+)+x${i}`).join(',');
    await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: { metadata: { name: 'evil-patterns', annotations: { [`${M}replicate-to`]: evil } }, data: { k: 'v' } } });
    await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: { metadata: { name: 'evil-list', annotations: { [`${M}replicate-to`]: huge } }, data: { k: 'v' } } });
    // Meanwhile tenant-b's own push converges.
    await tenantB.core.createNamespacedConfigMap({ namespace: teamB, body: { metadata: { name: 'b-settings', annotations: { [`${M}replicate-to`]: shared } }, data: { mode: 'blue' } } });
    await waitFor('tenant-b\'s push converges', async () => (await configMap(shared, 'b-settings'))?.data?.mode === 'blue');
    const converged = Date.now() - started;
    // One InvalidAnnotation Event per rejected element (RE2 has no backreferences or lookaround); the
    // catastrophic-backtracking patterns themselves are valid RE2 and simply match nothing.
    await eventMessage(teamA, 'evil-patterns', 'InvalidAnnotation', 'pattern "(a)\\1" ignored');
    await eventMessage(teamA, 'evil-patterns', 'InvalidAnnotation', 'pattern "(?=a)a" ignored');
    await eventMessage(teamA, 'evil-list', 'InvalidAnnotation', '9000 more element(s) ignored: at most 1000 are allowed');
    expect((await fetch(`${operator.statusUrl}/healthz`)).status).toBe(200);
    delay.disable();
    // Nothing matched: the long `a…a-<hex>` namespace received nothing.
    expect(await configMap(aaa, 'evil-patterns')).toBeUndefined();
    expect(await configMap(aaa, 'evil-list')).toBeUndefined();
    console.log(`attack 7: event-loop delay during the pattern attack: p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms; tenant-b's push converged in ${converged} ms`);
  });

  const FLOOD = 5000;
  it(`attack 8: a flood of ${FLOOD} annotated sources does not starve tenant-b (round-robin by source namespace)`, async () => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = Date.now();
    let created = 0;
    let failed: unknown;
    const flood = bounded(FLOOD, 50, async (i) => {
      await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: { metadata: { name: `flood-${i}`, annotations: { [`${M}replicate-to`]: sink } }, data: { i: String(i) } } });
      created++;
    }).catch((e: unknown) => { failed = e; });
    // Counted without listing 5 000 objects into this process (which is also the operator's).
    const floodReplicas = async () => (await configMapCount(sink)) - ((await configMap(sink, 'kube-root-ca.crt')) ? 1 : 0);
    const loaded = await waitFor('the work queue is loaded', async () => {
      if (failed) throw failed;
      const depth = sample(await metrics(), 'kube_replicator_workqueue_depth') ?? 0;
      return depth >= 1000 || created === FLOOD ? { depth, created } : undefined;
    }, 120_000);
    const replicasAtPush = await floodReplicas();
    const t0 = Date.now();
    await tenantB.core.createNamespacedConfigMap({ namespace: teamB, body: { metadata: { name: 'b-urgent', annotations: { [`${M}replicate-to`]: shared } }, data: { urgent: 'yes' } } });
    await waitFor('tenant-b\'s push converges under the flood', async () => (await configMap(shared, 'b-urgent'))?.data?.urgent === 'yes', 60_000);
    const latency = Date.now() - t0;
    const replicasThen = await floodReplicas();
    expect(replicasThen).toBeLessThan(FLOOD);
    // Served ahead of the backlog, not behind it: first-come-first-served would have made about half of the
    // waiting keys (each flood source queues its own key and its target's) into replicas first.
    expect(replicasThen - replicasAtPush).toBeLessThan(loaded.depth / 4);
    await flood;
    expect(failed).toBeUndefined();
    const createdIn = Date.now() - started;
    await waitFor(`all ${FLOOD} flood replicas`, async () => (await floodReplicas()) === FLOOD, 180_000);
    const doneIn = Date.now() - started;
    delay.disable();
    const replicas = (await c.core.listNamespacedConfigMap({ namespace: sink, labelSelector: `${REPLICA}=true` })).items;
    expect(replicas).toHaveLength(FLOOD);
    expect(replicas.every((r) => r.metadata!.name === `flood-${r.data!.i}`)).toBe(true);
    console.log(`attack 8: queue depth ${loaded.depth} (${loaded.created} sources created) when tenant-b pushed; tenant-b converged in ${latency} ms with ${replicasThen}/${FLOOD} flood replicas made (${replicasThen - replicasAtPush} of them meanwhile); sources created in ${createdIn} ms, flood replicated in ${doneIn} ms; event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);
  }, 300_000);

  it('attack 10: no secret value (nor its base64) appears in any log line, Event, policy status or /metrics', async () => {
    expect(secretValues.length).toBeGreaterThanOrEqual(9);
    const metricsNow = await metrics();
    await stop(); // every log line the operators will ever write is in `logs` now
    const logs = operators.flatMap((o) => o.logs);
    expect(logs.length).toBeGreaterThan(100);
    const events = (await Promise.all([...namespaces, 'default'].map(async (namespace) => (await c.core.listNamespacedEvent({ namespace })).items))).flat();
    const ours = events.filter((e) => e.source?.component === 'kube-replicator');
    for (const reason of ['TargetConflict', 'RbacPushNotTrusted', 'EscalationRefused', 'RoleNameInUse', 'ReplicationNotPermitted', 'SourceNotAvailable', 'TargetClaimed', 'SourceNotReplicable', 'InvalidAnnotation']) {
      expect(ours.map((e) => e.reason)).toContain(reason);
    }
    const policies = (await c.custom.listClusterCustomObject({ group: 'kube-replicator.io', version: 'v1alpha1', plural: 'replicationpolicies' })) as { items: { status?: unknown }[] };
    const haystacks: Record<string, string> = {
      logs: logs.join('\n'),
      'Event messages': events.map((e) => `${e.reason}: ${e.message}`).join('\n'),
      Events: JSON.stringify(events),
      'policy status': JSON.stringify(policies.items.map((p) => p.status ?? null)),
      metrics: [...metricsTexts, metricsNow].join('\n'),
    };
    const leaks: string[] = [];
    for (const v of secretValues) {
      for (const form of [v, b64(v)]) {
        for (const [where, text] of Object.entries(haystacks)) if (text.includes(form)) leaks.push(`${where} contains ${form.slice(0, 12)}…`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
