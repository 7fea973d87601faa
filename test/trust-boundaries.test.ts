// Issue 11 "Trust boundaries": the adversarial suite for trust tiers. REAL non-admin identities (client
// certificates, never system:masters), each holding the `admin` ClusterRole in its own namespace only, attack
// through the operator; the admin client sets up platform objects (ReplicationPolicies, platform Secrets, legacy
// mittwald replicas) and reads results. The operator runs in-process under its own chart release identity.
//
// Each case first waits until the operator has visibly DECIDED (the Event the spec promises, or the evidence that
// the attack worked), then asserts that the attack did not work, then asserts the Event: on a build without the
// feature the case fails on what the attacker gained, not on a timeout. Interface: /work/spec-trust.md (flags
// --trusted-source-namespaces, --protected-namespaces, --never-replicate-secret-types; Events ProtectedNamespace,
// SourceNotReplicable, RuleConflict, TargetClaimed, LegacyReplicaKept, SourceNotAvailable). Case 7 (#11): a pull
// target looks the same whether its source is missing or exists without consent, forged bookkeeping included.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl } from '../e2e/support/process.ts';
import { resolveBinaries } from '../tools/controlplane/binaries.ts';
import {
  admin, b64, clientsFor, controlPlaneInfo, createNamespace, decoded, deleteNamespace, expectStatus, maybe, statusOf, uniqueName, userKubeConfig,
  waitFor, waitForEvent, type Clients, grantNamespaceAdmin,
} from './support/cluster.ts';
import { chartIdentity, configMapReadsOnly, type ChartIdentity } from './support/chart-identity.ts';
import { SecretValues } from './support/secret-values.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const M = 'replicator.v1.mittwald.de/';
const KR = 'kube-replicator.io/';
const REPLICA = `${KR}replica`;
const TIER = `${KR}tier`;
const c = admin();
const run = uniqueName('tb');
const teamA = `${run}-team-a`;
const teamB = `${run}-team-b`;
const shared = `${run}-shared`; // where tenant-b pushes (untrusted) and the platform pushes (trusted)
const platform = `${run}-platform`; // admin-owned: sources of ReplicationPolicies, trusted in the trusted block
const sys = `${run}-sys`; // a protected namespace made for this file (writing into the real kube-system is unsafe)
const legacy = `${run}-legacy`; // holds a mittwald replica before any rule may reach it
const namespaces = [teamA, teamB, shared, platform, sys, legacy];
const sysLabel = `${run}-tier`;
const userA = `tenant-a-${run}`;
const userB = `tenant-b-${run}`;
const builtInProtected = ['kube-system', 'kube-public', 'kube-node-lease'];
/** The file's protected namespaces: the defaults plus its own. */
const protectedFlag = `--protected-namespaces=${[sys, ...builtInProtected].join(',')}`;
const trustedFlag = `--trusted-source-namespaces=${teamA},${platform}`;
const echoPolicy = `${run}-echo`;

const group = 'kube-replicator.io';
const version = 'v1alpha1';
const plural = 'replicationpolicies';
const policies: string[] = [];

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
let tenantA: Clients;
let tenantB: Clients;
let kubeconfigB: string;
let operator: TestOperator;
let identity: ChartIdentity;
let operatorStopped = false;
/** Every operator of this file, for the final scan of all their log lines. */
const operators: TestOperator[] = [];
/** Every secret value used in the suite: none may ever appear in a log line or an Event. */
const secrets = new SecretValues();
const secretValues = secrets.all;
/** Bootstrap-token Secret names pushed at kube-system: removed from there after the file whatever happened. */
const bootstrapNames: string[] = [];

const secretValue = (what: string) => secrets.make(what);

async function start(flags: string[]): Promise<void> {
  operator = await startTestOperator(flags, identity);
  operatorStopped = false;
  operators.push(operator);
}

async function stop(): Promise<void> {
  await operator.stop();
  operatorStopped = true;
}

beforeAll(async () => {
  await Promise.all(namespaces.map((n) => createNamespace(c, n,
    n === sys ? { [sysLabel]: 'sys' } : n === legacy ? { [`${KR}replication`]: 'deny' } : {})));
  for (const [ns, user] of [[teamA, userA], [teamB, userB]] as const) {
    await grantNamespaceAdmin(c, ns, user);
  }
  tenantA = clientsFor(userKubeConfig(userA));
  const kcB = userKubeConfig(userB);
  tenantB = clientsFor(kcB);
  // tenant-b also works with kubectl, as a namespace owner does.
  kubeconfigB = join(controlPlaneInfo().dir, `${userB}.kubeconfig`);
  writeFileSync(kubeconfigB, kcB.exportConfig(), { mode: 0o600 });
  identity = await chartIdentity('kr-trust', configMapReadsOnly);
  await waitFor('tenant-a is admin in team-a', async () => Boolean(await tenantA.core.listNamespacedSecret({ namespace: teamA })));
  await waitFor('tenant-b is admin in team-b', async () => Boolean(await tenantB.core.listNamespacedSecret({ namespace: teamB })));
  // The operator's own namespace is always protected (spec: POD_NAMESPACE, as the chart's Deployment sets it).
  process.env.POD_NAMESPACE = identity.namespace;
  await start([protectedFlag]);
}, 90_000);

afterAll(async () => {
  if (!operatorStopped) await operator?.stop();
  delete process.env.POD_NAMESPACE;
  for (const name of policies) await maybe(c.custom.deleteClusterCustomObject({ group, version, plural, name }));
  kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', echoPolicy, '--ignore-not-found']);
  // Whatever an attack managed to put into the real system namespaces or the operator's own goes again.
  const ours = `${KR}source-namespace in (${namespaces.join(',')})`;
  for (const namespace of [...builtInProtected, 'default', identity?.namespace].filter((n): n is string => Boolean(n))) {
    for (const s of (await c.core.listNamespacedSecret({ namespace, labelSelector: ours })).items) await maybe(c.core.deleteNamespacedSecret({ namespace, name: s.metadata!.name! }));
    for (const m of (await c.core.listNamespacedConfigMap({ namespace, labelSelector: ours })).items) await maybe(c.core.deleteNamespacedConfigMap({ namespace, name: m.metadata!.name! }));
  }
  for (const name of bootstrapNames) await maybe(c.core.deleteNamespacedSecret({ namespace: 'kube-system', name }));
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n, false)));
}, 90_000);

const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
const configMap = (namespace: string, name: string) => maybe(c.core.readNamespacedConfigMap({ namespace, name }));
const password = async (namespace: string, name: string) => decoded((await secret(namespace, name))?.data).password;

/** kube-replicator's Events on namespace/name (optionally one reason, or one object uid). */
async function ourEvents(namespace: string, name: string, opts: { reason?: string; uid?: string } = {}): Promise<k8s.CoreV1Event[]> {
  const selectors = [`involvedObject.name=${name}`];
  if (opts.reason) selectors.push(`reason=${opts.reason}`);
  if (opts.uid) selectors.push(`involvedObject.uid=${opts.uid}`);
  const list = await c.core.listNamespacedEvent({ namespace, fieldSelector: selectors.join(',') });
  return list.items.filter((e) => e.source?.component === 'kube-replicator');
}

/** Waits for an Event with `reason` on namespace/name whose message contains `text`. */
const eventMessage = (namespace: string, name: string, reason: string, text: string) => waitFor(`Event ${reason} "${text}" on ${namespace}/${name}`, async () =>
  (await ourEvents(namespace, name, { reason })).find((e) => e.message?.includes(text)));

/**
 * Waits until the operator has visibly decided: an Event `reason` on namespace/name, or `attack()` reports that the
 * attack worked (then the assertions that follow fail on what the attacker gained).
 */
async function decided(what: string, namespace: string, name: string, reason: string, attack: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  await waitFor(`the operator to decide on ${what} (Event ${reason} on ${namespace}/${name}, or the attack visibly working)`, async () =>
    (await ourEvents(namespace, name, { reason })).length > 0 || await attack(), timeoutMs);
}

/** Creation timestamps have one-second resolution: waits until an object created now is strictly younger. */
async function afterCreationSecondOf(obj: { metadata?: { creationTimestamp?: Date } }): Promise<void> {
  const created = new Date(obj.metadata!.creationTimestamp!).getTime();
  await waitFor('the next creationTimestamp second', () => Date.now() >= created + 1100, 5000);
}

async function createPolicy(name: string, spec: Record<string, unknown>): Promise<void> {
  policies.push(name);
  await c.custom.createClusterCustomObject({ group, version, plural, body: { apiVersion: `${group}/${version}`, kind: 'ReplicationPolicy', metadata: { name }, spec } });
}

/** A kube-replicator push replica carrying `value` under `password`, or undefined. */
const replicaWith = (namespace: string, name: string, value: string) => waitFor(`${namespace}/${name} to be a replica holding the expected value`, async () => {
  const s = await secret(namespace, name);
  return s?.metadata?.labels?.[REPLICA] === 'true' && decoded(s.data).password === value ? s : undefined;
});

/** Until the operator has nothing queued or in flight. */
const operatorIdle = () => waitFor('the operator to be idle', () => operator.op.controller.queueDepth + operator.op.controller.inFlight === 0);

/** Runs make(0..count-1) with at most `width` calls in flight. */
async function bounded(count: number, width: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await make(next++);
  }));
}

/** A `bootstrap.kubernetes.io/token` Secret as kubeadm writes it (expiring soon, in case it ever lands). */
function bootstrapToken(annotations: Record<string, string>): k8s.V1Secret {
  const id = randomBytes(3).toString('hex');
  const tokenSecret = randomBytes(8).toString('hex');
  secretValues.push(tokenSecret);
  const name = `bootstrap-token-${id}`;
  bootstrapNames.push(name);
  return {
    metadata: { name, annotations }, type: 'bootstrap.kubernetes.io/token',
    stringData: {
      'token-id': id, 'token-secret': tokenSecret, expiration: new Date(Date.now() + 15 * 60_000).toISOString(),
      'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true', 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
    },
  };
}

describe('1. cluster credentials and protected namespaces (untrusted pushes)', () => {
  it('a bootstrap.kubernetes.io/token Secret pushed at kube-system: nothing lands there; SourceNotReplicable names --never-replicate-secret-types', async () => {
    const body = bootstrapToken({ [`${M}replicate-to`]: 'kube-system' });
    const name = body.metadata!.name!;
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body });
    try {
      await decided('the bootstrap token', teamA, name, 'SourceNotReplicable', async () => Boolean(await secret('kube-system', name)));
      expect(await secret('kube-system', name)).toBeUndefined();
      const ev = await waitForEvent(c, teamA, name, 'SourceNotReplicable');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain('--never-replicate-secret-types');
    } finally {
      await maybe(tenantA.core.deleteNamespacedSecret({ namespace: teamA, name }));
      await maybe(c.core.deleteNamespacedSecret({ namespace: 'kube-system', name }));
    }
  });

  it('a Secret pushed by name into a protected namespace is not created there (ProtectedNamespace names the flags)', async () => {
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'sys-new', annotations: { [`${M}replicate-to`]: sys } }, data: { password: b64(secretValue('sys-new')) },
    } });
    await decided('a push into a protected namespace', teamA, 'sys-new', 'ProtectedNamespace', async () => Boolean(await secret(sys, 'sys-new')));
    expect(await secret(sys, 'sys-new')).toBeUndefined();
    const ev = await eventMessage(teamA, 'sys-new', 'ProtectedNamespace', sys);
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('--trusted-source-namespaces');
    expect(ev.message).toContain('--protected-namespaces');
  });

  it('a Secret pushed into a protected namespace through replicate-to-matching is not created there', async () => {
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'sys-labelled', annotations: { [`${M}replicate-to-matching`]: `${sysLabel}=sys` } }, data: { password: b64(secretValue('sys-labelled')) },
    } });
    await decided('a label-selected push into a protected namespace', teamA, 'sys-labelled', 'ProtectedNamespace', async () => Boolean(await secret(sys, 'sys-labelled')));
    expect(await secret(sys, 'sys-labelled')).toBeUndefined();
    const ev = await eventMessage(teamA, 'sys-labelled', 'ProtectedNamespace', sys);
    expect(ev.message).toContain('--trusted-source-namespaces');
    expect(ev.message).toContain('--protected-namespaces');
  });

  it('a ConfigMap pushed with replicate-to ".*" reaches no protected namespace (the file\'s, kube-system, kube-public, kube-node-lease)', async () => {
    await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: {
      metadata: { name: 'wide-open', annotations: { [`${M}replicate-to`]: '.*' } }, data: { setting: 'everywhere' },
    } });
    try {
      // An ordinary namespace receives it: the rule was evaluated.
      await waitFor('the push reaches team-b', async () => (await configMap(teamB, 'wide-open'))?.data?.setting === 'everywhere');
      const inProtected = async () => (await Promise.all([sys, ...builtInProtected].map(async (n) => (await configMap(n, 'wide-open')) ? [n] : []))).flat();
      await decided('a wildcard push', teamA, 'wide-open', 'ProtectedNamespace', async () => (await inProtected()).length > 0);
      await operatorIdle();
      expect(await inProtected()).toEqual([]);
      const ev = await eventMessage(teamA, 'wide-open', 'ProtectedNamespace', sys);
      expect(ev.message).toContain('--trusted-source-namespaces');
      expect(ev.message).toContain('--protected-namespaces');
    } finally {
      await tenantA.core.deleteNamespacedConfigMap({ namespace: teamA, name: 'wide-open' });
      await waitFor('every wide-open replica to be removed', async () =>
        (await c.core.listConfigMapForAllNamespaces({ labelSelector: `${KR}source-namespace=${teamA}` })).items.every((m) => m.metadata!.name !== 'wide-open'), 60_000);
    }
  }, 120_000);

  it('the operator\'s own namespace (POD_NAMESPACE) is protected even though no flag names it', async () => {
    await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: {
      metadata: { name: 'wide-open-own', annotations: { [`${M}replicate-to`]: `${teamB},${identity.namespace}` } }, data: { setting: 'x' },
    } });
    try {
      await waitFor('the push reaches team-b', async () => (await configMap(teamB, 'wide-open-own'))?.data?.setting === 'x');
      await decided('a push into the operator\'s namespace', teamA, 'wide-open-own', 'ProtectedNamespace', async () => Boolean(await configMap(identity.namespace, 'wide-open-own')));
      expect(await configMap(identity.namespace, 'wide-open-own')).toBeUndefined();
      await eventMessage(teamA, 'wide-open-own', 'ProtectedNamespace', identity.namespace);
    } finally {
      await tenantA.core.deleteNamespacedConfigMap({ namespace: teamA, name: 'wide-open-own' });
      await maybe(c.core.deleteNamespacedConfigMap({ namespace: identity.namespace, name: 'wide-open-own' }));
    }
  });

  it('a replica of tenant-a\'s source already in a protected namespace is neither updated nor deleted by the untrusted push', async () => {
    // The source exists first (its uid goes into the provenance), then its replica as an earlier, unprotected
    // configuration left it, and only then does the source ask for the push.
    const old = secretValue('sys-stale-old');
    const source = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: 'sys-stale' }, data: { password: b64(secretValue('sys-stale-new')) } } });
    const replica = await c.core.createNamespacedSecret({ namespace: sys, body: {
      metadata: {
        name: 'sys-stale', labels: { [REPLICA]: 'true', [`${KR}source-namespace`]: teamA },
        annotations: { [`${KR}source`]: `${teamA}/sys-stale`, [`${KR}source-uid`]: source.metadata!.uid!, [`${KR}rule`]: 'annotation', [TIER]: 'untrusted',
          [`${M}replicated-keys`]: 'password', [`${M}replicated-from-version`]: '1', [`${M}replicated-at`]: new Date().toISOString() },
      },
      data: { password: b64(old) },
    } });
    const untouched = async () => {
      const s = await secret(sys, 'sys-stale');
      return s !== undefined && s.metadata!.resourceVersion === replica.metadata!.resourceVersion && s.metadata!.uid === replica.metadata!.uid;
    };
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'sys-stale', body: { metadata: { annotations: { [`${M}replicate-to`]: sys } } } }, mergePatch);
    await decided('an update in a protected namespace', teamA, 'sys-stale', 'ProtectedNamespace', async () => !(await untouched()));
    expect(await password(sys, 'sys-stale')).toBe(old);
    expect(await untouched()).toBe(true);

    // Deleting the source must not delete it either. The marker's removal (same watch, deleted after) plus an
    // idle queue shows the operator has seen the deletion.
    const marker = secretValue('sys-marker');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: 'sys-marker', annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(marker) } } });
    await replicaWith(teamB, 'sys-marker', marker);
    await tenantA.core.deleteNamespacedSecret({ namespace: teamA, name: 'sys-stale' });
    await tenantA.core.deleteNamespacedSecret({ namespace: teamA, name: 'sys-marker' });
    await waitFor('the marker replica to go', async () => !(await secret(teamB, 'sys-marker')));
    await operatorIdle();
    expect(await untouched()).toBe(true);
  });
});

describe('1 and 3 with --trusted-source-namespaces=<team-a>,<platform>', () => {
  beforeAll(async () => {
    await stop();
    await start([protectedFlag, trustedFlag]);
  }, 60_000);

  afterAll(async () => {
    await stop();
    await start([protectedFlag]); // back to the default trust for the rest of the file
  }, 60_000);

  it('class 1: the same pushes from the trusted team-a land in the protected namespace, marked tier=trusted', async () => {
    for (const name of ['sys-new', 'sys-labelled']) {
      const value = decoded((await secret(teamA, name))!.data).password!;
      const r = await replicaWith(sys, name, value);
      expect(r.metadata!.annotations?.[TIER]).toBe('trusted');
    }
  });

  it('class 1: even a trusted source never replicates a bootstrap token into kube-system (SourceNotReplicable)', async () => {
    const body = bootstrapToken({ [`${M}replicate-to`]: 'kube-system' });
    const name = body.metadata!.name!;
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body });
    try {
      await decided('a trusted bootstrap token', teamA, name, 'SourceNotReplicable', async () => Boolean(await secret('kube-system', name)));
      expect(await secret('kube-system', name)).toBeUndefined();
      expect((await waitForEvent(c, teamA, name, 'SourceNotReplicable')).message).toContain('--never-replicate-secret-types');
    } finally {
      await maybe(tenantA.core.deleteNamespacedSecret({ namespace: teamA, name }));
      await maybe(c.core.deleteNamespacedSecret({ namespace: 'kube-system', name }));
    }
  });

  it('class 3: a trusted annotation (platform) beats an OLDER untrusted one (tenant-b); the loser gets RuleConflict "trusted"', async () => {
    const bValue = secretValue('prec-tenant-b');
    const older = await tenantB.core.createNamespacedSecret({ namespace: teamB, body: {
      metadata: { name: 'prec-trusted', annotations: { [`${M}replicate-to`]: shared } }, data: { password: b64(bValue) },
    } });
    await replicaWith(shared, 'prec-trusted', bValue);
    await afterCreationSecondOf(older);
    const pValue = secretValue('prec-platform');
    await c.core.createNamespacedSecret({ namespace: platform, body: {
      metadata: { name: 'prec-trusted', annotations: { [`${M}replicate-to`]: shared } }, data: { password: b64(pValue) },
    } });
    await decided('trusted vs untrusted', teamB, 'prec-trusted', 'RuleConflict', async () => (await ourEvents(platform, 'prec-trusted', { reason: 'RuleConflict' })).length > 0);
    const r = await waitFor('the replica to settle', async () => {
      const s = await secret(shared, 'prec-trusted');
      const platformLost = (await ourEvents(platform, 'prec-trusted', { reason: 'RuleConflict' })).length > 0;
      return decoded(s?.data).password === pValue || (platformLost && decoded(s?.data).password === bValue) ? s : undefined;
    });
    expect(decoded(r.data).password).toBe(pValue);
    expect(r.metadata!.annotations?.[`${KR}source`]).toBe(`${platform}/prec-trusted`);
    expect(r.metadata!.annotations?.[TIER]).toBe('trusted');
    const ev = await waitForEvent(c, teamB, 'prec-trusted', 'RuleConflict');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('trusted');
  });
});

describe('2. name squatting: team-b takes back a name tenant-a pushed into team-b first', () => {
  // How team-b writes its own object over the replica, as team-b's user with kubectl.
  const manifest = (name: string, value: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: teamB }, type: 'Opaque', data: { password: b64(value) } });
  const methods: [string, (name: string, value: string) => void][] = [
    ['kubectl apply (client-side)', (name, value) => kubectl(['apply', '-f', '-'], manifest(name, value), kubeconfigB)],
    ['kubectl edit', (name, value) => {
      const editor = join(controlPlaneInfo().dir, `${run}-editor-${name}.sh`);
      writeFileSync(editor, `#!/bin/sh\nsed -i -e 's|^  password: .*|  password: ${b64(value)}|' "$1"\n`, { mode: 0o700 });
      const dir = controlPlaneInfo().dir;
      execFileSync(resolveBinaries().kubectl, ['edit', 'secret', name, '-n', teamB], {
        encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, KUBECONFIG: kubeconfigB, HOME: dir, KUBECACHEDIR: join(dir, 'kubectl-cache'), KUBE_EDITOR: editor },
      });
    }],
    ['kubectl replace', (name, value) => kubectl(['replace', '-f', '-'], manifest(name, value), kubeconfigB)],
    ['kubectl apply --server-side --force-conflicts', (name, value) => kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest(name, value), kubeconfigB)],
  ];

  it.each(methods.map(([how, write], i) => [how, write, `squat-${i}`] as const))('%s: the content stays team-b\'s, provenance goes, TargetClaimed on both sides; later source changes give TargetConflict', async (_how, write, name) => {
    const aValue = secretValue(`${name}-tenant-a`);
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name, annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(aValue) } } });
    await replicaWith(teamB, name, aValue);

    const bValue = secretValue(`${name}-team-b`);
    write(name, bValue);
    // After team-b's write returned, only the operator can make tenant-a's value reappear.
    const putBack = async () => (await password(teamB, name)) === aValue;
    // Any Event of ours on the target (TargetClaimed, or TargetConflict from a build that sees a foreign object).
    await waitFor(`the operator to react to team-b's write of ${teamB}/${name}`, async () => (await ourEvents(teamB, name)).length > 0 || await putBack());
    expect(await password(teamB, name)).toBe(bValue); // tenant-a's content was not put back
    const claimed = await waitFor(`${teamB}/${name} to lose kube-replicator provenance`, async () => {
      const s = await secret(teamB, name);
      return s && s.metadata!.labels?.[REPLICA] === undefined ? s : undefined;
    });
    expect(decoded(claimed.data).password).toBe(bValue);
    expect(Object.keys(claimed.metadata!.annotations ?? {}).filter((k) => k.startsWith(KR))).toEqual([]);
    const onTarget = await waitForEvent(c, teamB, name, 'TargetClaimed');
    expect(onTarget.type).toBe('Normal');
    const onSource = await waitForEvent(c, teamA, name, 'TargetClaimed');
    expect(onSource.type).toBe('Warning');

    // Not put back later either: tenant-a changes its source; the push now only reports TargetConflict.
    const claimedRv = claimed.metadata!.resourceVersion;
    const aNew = secretValue(`${name}-tenant-a-new`);
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name, body: { data: { password: b64(aNew) } } }, mergePatch);
    await waitForEvent(c, teamA, name, 'TargetConflict');
    const after = (await secret(teamB, name))!;
    expect(decoded(after.data).password).toBe(bValue);
    expect(after.metadata!.resourceVersion).toBe(claimedRv);
    expect(after.metadata!.labels?.[REPLICA]).toBeUndefined();
  });
});

describe('3. precedence hijack: an untrusted annotation against a ReplicationPolicy', () => {
  it('the tenant\'s annotation source is OLDER: the policy still wins; the tenant\'s source gets RuleConflict "trusted"', async () => {
    const aValue = secretValue('registry-tenant-a');
    const tenantSource = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'registry', annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(aValue) },
    } });
    await replicaWith(teamB, 'registry', aValue);
    await afterCreationSecondOf(tenantSource);
    const pValue = secretValue('registry-platform');
    await c.core.createNamespacedSecret({ namespace: platform, body: { metadata: { name: 'registry' }, data: { password: b64(pValue) } } });
    const policy = `${run}-registry`;
    await createPolicy(policy, { kinds: ['Secret'], source: { namespace: platform, names: ['registry'] }, targets: { namespaces: [teamB] } });
    await decided('policy vs older annotation', teamA, 'registry', 'RuleConflict', async () => (await ourEvents(platform, 'registry', { reason: 'RuleConflict' })).length > 0);
    const r = await waitFor('the replica to settle', async () => {
      const s = await secret(teamB, 'registry');
      return s?.metadata?.annotations?.[`${KR}rule`] === `policy/${policy}` || decoded(s?.data).password === aValue ? s : undefined;
    });
    expect(decoded(r.data).password).toBe(pValue);
    expect(r.metadata!.annotations![`${KR}rule`]).toBe(`policy/${policy}`);
    expect(r.metadata!.annotations![TIER]).toBe('trusted');
    const ev = await waitForEvent(c, teamA, 'registry', 'RuleConflict');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('trusted');
  });

  it('the platform rotates its source by delete + create (now younger than the tenant\'s): the policy still wins', async () => {
    const p1 = secretValue('rot-platform-1');
    const first = await c.core.createNamespacedSecret({ namespace: platform, body: { metadata: { name: 'rot' }, data: { password: b64(p1) } } });
    const policy = `${run}-rot`;
    await createPolicy(policy, { kinds: ['Secret'], source: { namespace: platform, names: ['rot'] }, targets: { namespaces: [teamB] } });
    await replicaWith(teamB, 'rot', p1);
    await afterCreationSecondOf(first);
    const aValue = secretValue('rot-tenant-a');
    const tenantSource = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'rot', annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(aValue) },
    } });
    await waitForEvent(c, teamA, 'rot', 'RuleConflict');
    await afterCreationSecondOf(tenantSource);
    // The rotation.
    await c.core.deleteNamespacedSecret({ namespace: platform, name: 'rot' });
    const p2 = secretValue('rot-platform-2');
    const second = await c.core.createNamespacedSecret({ namespace: platform, body: { metadata: { name: 'rot' }, data: { password: b64(p2) } } });
    const seen = new Set<string>();
    const r = await waitFor('the rotated source to be replicated, or the new source to lose', async () => {
      const s = await secret(teamB, 'rot');
      const v = decoded(s?.data).password;
      if (v) seen.add(v === aValue ? 'tenant-a' : v === p2 ? 'platform-2' : v === p1 ? 'platform-1' : 'other');
      if (v === p2) return s;
      return (await ourEvents(platform, 'rot', { reason: 'RuleConflict', uid: second.metadata!.uid })).length > 0 && v === aValue ? s : undefined;
    });
    console.log(`class 3 rotation: team-b/rot was seen holding: ${[...seen].join(', ')}`);
    expect(decoded(r!.data).password).toBe(p2);
    expect(r!.metadata!.annotations![`${KR}rule`]).toBe(`policy/${policy}`);
    expect(r!.metadata!.annotations![`${KR}source-uid`]).toBe(second.metadata!.uid);
  });
});

describe('4. legacy take-over: mittwald replicas (replicated-from-version, no kube-replicator provenance)', () => {
  const mittwaldReplica = (name: string, value: string, fromVersion: string): k8s.V1Secret => ({
    metadata: { name, annotations: { [`${M}replicated-at`]: new Date().toISOString(), [`${M}replicated-from-version`]: fromVersion, [`${M}replicated-keys`]: 'password' } },
    data: { password: b64(value) },
  });

  it('an untrusted push cannot take over a legacy replica it cannot prove mittwald copied from it (LegacyReplicaKept on both sides)', async () => {
    const pValue = secretValue('legacy-platform');
    const platformSource = await c.core.createNamespacedSecret({ namespace: platform, body: { metadata: { name: 'legacy-cred' }, data: { password: b64(pValue) } } });
    const replica = await c.core.createNamespacedSecret({ namespace: teamB, body: mittwaldReplica('legacy-cred', pValue, platformSource.metadata!.resourceVersion!) });
    const untouched = async () => (await secret(teamB, 'legacy-cred'))?.metadata!.resourceVersion === replica.metadata!.resourceVersion;
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'legacy-cred', annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(secretValue('legacy-tenant-a')) },
    } });
    await decided('a legacy replica', teamA, 'legacy-cred', 'LegacyReplicaKept', async () => !(await untouched()));
    const after = (await secret(teamB, 'legacy-cred'))!;
    expect(decoded(after.data).password).toBe(pValue);
    expect(after.metadata!.resourceVersion).toBe(replica.metadata!.resourceVersion);
    expect(after.metadata!.labels?.[REPLICA]).toBeUndefined();
    expect((await waitForEvent(c, teamA, 'legacy-cred', 'LegacyReplicaKept')).type).toBe('Warning');
    expect((await waitForEvent(c, teamB, 'legacy-cred', 'LegacyReplicaKept')).type).toBe('Warning');
  });

  it('(proof) the source whose resourceVersion is the replica\'s replicated-from-version takes it over', async () => {
    // The source pushes into a namespace that refuses pushes (label deny) while "mittwald" copies it there.
    const value = secretValue('legacy-proof');
    const source = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'legacy-proof', annotations: { [`${M}replicate-to`]: legacy } }, data: { password: b64(value) },
    } });
    // Copied from exactly that version, then hand-edited: only the version proves where it came from.
    await c.core.createNamespacedSecret({ namespace: legacy, body: mittwaldReplica('legacy-proof', `${value}-edited`, source.metadata!.resourceVersion!) });
    await c.core.patchNamespace({ name: legacy, body: { metadata: { labels: { [`${KR}replication`]: null } } } }, mergePatch);
    const r = await replicaWith(legacy, 'legacy-proof', value);
    expect(r.metadata!.annotations![`${KR}source`]).toBe(`${teamA}/legacy-proof`);
    expect(await ourEvents(teamA, 'legacy-proof', { reason: 'LegacyReplicaKept' })).toEqual([]);
  });

  it('(trusted) a ReplicationPolicy takes over any legacy replica', async () => {
    const pValue = secretValue('legacy-pol-platform');
    await c.core.createNamespacedSecret({ namespace: platform, body: { metadata: { name: 'legacy-pol' }, data: { password: b64(pValue) } } });
    await c.core.createNamespacedSecret({ namespace: teamB, body: mittwaldReplica('legacy-pol', secretValue('legacy-pol-old-copy'), '1') });
    const policy = `${run}-legacy-pol`;
    await createPolicy(policy, { kinds: ['Secret'], source: { namespace: platform, names: ['legacy-pol'] }, targets: { namespaces: [teamB] } });
    const r = await replicaWith(teamB, 'legacy-pol', pValue);
    expect(r.metadata!.annotations![`${KR}rule`]).toBe(`policy/${policy}`);
  });
});

describe('6. lesser findings', () => {
  it('(i) a tenant\'s own Secret dressed up with replica provenance, wanted by no rule, is never deleted', async () => {
    const decoy = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: {
        name: 'decoy', labels: { [REPLICA]: 'true', [`${KR}source-namespace`]: teamB },
        annotations: { [`${KR}source`]: `${teamB}/decoy`, [`${KR}source-uid`]: randomUUID(), [`${KR}rule`]: 'annotation', [TIER]: 'trusted',
          [`${KR}content-hash`]: 'sha256:0000', [`${M}replicated-keys`]: 'password', [`${M}replicated-from-version`]: '1' },
      },
      data: { password: b64(secretValue('decoy')) },
    } });
    // Processed: a push into the same namespace, made after it, has landed and the queue is empty.
    const marker = secretValue('decoy-marker');
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'decoy-marker', annotations: { [`${M}replicate-to`]: teamA } }, data: { password: b64(marker) } } });
    await replicaWith(teamA, 'decoy-marker', marker);
    await operatorIdle();
    const after = await secret(teamA, 'decoy');
    expect(after).toBeDefined();
    expect(after!.metadata!.uid).toBe(decoy.metadata!.uid);
    expect(after!.data).toEqual(decoy.data);
  });

  it('(ii) refused pulls: a missing source and one that exists without consent look the same (SourceNotAvailable)', async () => {
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'b-private' }, data: { password: b64(secretValue('b-private')) } } });
    const ghost = `ghost-${randomBytes(3).toString('hex')}`;
    const own = { own: b64('tenant-a-own') };
    for (const [target, from] of [['pull-missing', ghost], ['pull-private', 'b-private']]) {
      await tenantA.core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: target, annotations: { [`${M}replicate-from`]: `${teamB}/${from}` } }, data: own } });
    }
    const first = (target: string) => waitFor(`an Event on ${teamA}/${target}`, async () => (await ourEvents(teamA, target))[0]);
    const missing = await first('pull-missing');
    const refused = await first('pull-private');
    const normalise = (m: string | undefined) => (m ?? '').replaceAll(ghost, 'NAME').replaceAll('b-private', 'NAME').replaceAll('pull-missing', 'TARGET').replaceAll('pull-private', 'TARGET');
    // Whether team-b has a Secret of that name must not be readable from the answer.
    expect({ reason: missing.reason, type: missing.type, message: normalise(missing.message) })
      .toEqual({ reason: refused.reason, type: refused.type, message: normalise(refused.message) });
    expect(missing.reason).toBe('SourceNotAvailable');
    expect(missing.type).toBe('Warning');
    expect((await secret(teamA, 'pull-private'))!.data).toEqual(own);
  });

  it('(iii) a 422 for a pull target of type kubernetes.io/tls whose source lost tls.key: the Event quotes no value', async () => {
    const crt = secretValue('tls-crt');
    const key = secretValue('tls-key');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'tls-src', annotations: { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: teamA } },
      data: { 'tls.crt': b64(crt), 'tls.key': b64(key) },
    } });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'tls-pull', annotations: { [`${M}replicate-from`]: `${teamA}/tls-src` } }, type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64('placeholder-crt'), 'tls.key': b64('placeholder-key') },
    } });
    await waitFor('the pull', async () => decoded((await secret(teamA, 'tls-pull'))?.data)['tls.key'] === key);
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'tls-src', body: { data: { 'tls.key': null } } }, mergePatch);
    const ev = await waitFor('a Warning on the pull target', async () => (await ourEvents(teamA, 'tls-pull')).find((e) => e.type === 'Warning'));
    for (const v of [crt, key]) {
      expect(ev.message).not.toContain(v);
      expect(ev.message).not.toContain(b64(v));
    }
  });

  it('(iii) a push the API server rejects with a message that quotes the value (an admission policy): no Event or log line repeats it', async () => {
    // An admission policy in team-b whose 422 message echoes the value, as many real policies do.
    const policyObj = {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: echoPolicy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['secrets'] }] },
        matchConditions: [{ name: 'has-echo', expression: 'has(object.data) && \'echo\' in object.data' }],
        // In CEL a Secret's data values are the base64 text ("cmVqZWN0" is "reject"); the message echoes it as is.
        validations: [{ expression: '!(string(object.data[\'echo\']).startsWith(\'reject\') || string(object.data[\'echo\']).startsWith(\'cmVqZWN0\'))', messageExpression: '\'value \' + string(object.data[\'echo\']) + \' is not allowed here\'', reason: 'Invalid' }],
      },
    };
    const binding = {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: echoPolicy },
      spec: { policyName: echoPolicy, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': teamB } } } },
    };
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policyObj, binding] }));
    let probes = 0;
    await waitFor('the admission policy to be active', async () => {
      const name = `probe-${probes++}`;
      try {
        await c.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name }, data: { echo: b64('reject-probe') } } });
        await c.core.deleteNamespacedSecret({ namespace: teamB, name });
        return false;
      } catch (e) {
        return statusOf(e) === 422;
      }
    });
    const value = secretValue('reject-echo');
    const core = value.split('-')[2]!; // the random part: no piece of it may appear
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: 'echo-push', annotations: { [`${M}replicate-to`]: teamB } }, data: { echo: b64(value) } } });
    const ev = await waitFor('a Warning about the refused write', async () => (await ourEvents(teamA, 'echo-push')).find((e) => e.type === 'Warning'));
    const texts = [JSON.stringify(ev), ...(await ourEvents(teamA, 'echo-push')).map((e) => e.message ?? ''), ...operators.flatMap((o) => o.logs)].join('\n');
    expect([core, value, b64(value)].filter((form) => texts.includes(form)).map((form) => `${form.slice(0, 12)}… is quoted`)).toEqual([]);
  });

  it('(iv) 50 pushes at names team-b already owns: Events in team-b on behalf of tenant-a stay bounded; tenant-a\'s own sources get theirs', async () => {
    const N = 50;
    await bounded(N, 10, (i) => tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: `owned-${i}` }, data: { password: b64(`team-b-owns-${i}`) } } }));
    await bounded(N, 10, (i) => tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: `owned-${i}`, annotations: { [`${M}replicate-to`]: teamB } }, data: { password: b64(`tenant-a-wants-${i}`) },
    } }));
    const conflicts = async (namespace: string) => new Set((await c.core.listNamespacedEvent({ namespace, fieldSelector: 'reason=TargetConflict' })).items
      .filter((e) => e.source?.component === 'kube-replicator' && e.involvedObject.name?.startsWith('owned-')).map((e) => e.involvedObject.name));
    await waitFor(`TargetConflict on all ${N} of tenant-a's sources`, async () => (await conflicts(teamA)).size === N, 60_000);
    await operatorIdle();
    const inTeamB = (await c.core.listNamespacedEvent({ namespace: teamB })).items
      .filter((e) => e.source?.component === 'kube-replicator' && e.involvedObject.name?.startsWith('owned-'));
    console.log(`class 6(iv): ${inTeamB.length} Events in team-b about the ${N} contested names`);
    expect(inTeamB.length).toBeLessThanOrEqual(20);
    for (let i = 0; i < N; i++) expect(decoded((await secret(teamB, `owned-${i}`))!.data).password).toBe(`team-b-owns-${i}`);
  }, 120_000);
});

describe('7. pull probing with forged bookkeeping: a missing source and a non-consenting one look the same to the puller', () => {
  // tenant-a writes mittwald's bookkeeping (replicated-keys, replicated-from-version) on its own pull targets, so that
  // "the source is gone" would clear them. Whether an object of that name exists in the platform namespace (which
  // tenant-a cannot read) must not show in anything tenant-a can read: the targets' content, annotations, who wrote
  // them, and their Events. (The platform namespace, not team-b: case 6(iv) has used up the Events team-a's objects
  // may cause in team-b for a while, and the source's owner's Event below shows that the source was found.)
  const ghost = `ghost-${randomBytes(3).toString('hex')}`;
  const hidden = 'hidden-from-a';
  const forged = { [`${M}replicated-keys`]: 'password,token', [`${M}replicated-from-version`]: '1', [`${M}replicated-at`]: '2024-01-01T00:00:00Z' };
  const rules = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }];
  /** The target names, per source name: a Secret and a Role pull each. */
  const pairs = [['probe-missing', ghost], ['probe-hidden', hidden]] as const;
  /** The resourceVersion each target was created at, by kind and name. */
  const createdAt = new Map<string, string>();

  /** Everything tenant-a sees of one target, with the source's and the target's names normalised. */
  async function seen(kind: 'Secret' | 'Role', target: string, source: string) {
    const obj = kind === 'Secret' ? await tenantA.core.readNamespacedSecret({ namespace: teamA, name: target }) : await tenantA.rbac.readNamespacedRole({ namespace: teamA, name: target });
    const { [`${M}replicate-from`]: from, ...annotations } = obj.metadata!.annotations ?? {};
    expect(from).toBe(`${platform}/${source}`);
    const events = (await tenantA.core.listNamespacedEvent({ namespace: teamA, fieldSelector: `involvedObject.name=${target},involvedObject.kind=${kind}` })).items;
    const normalise = (m: string | undefined) => (m ?? '').replaceAll(source, 'SOURCE').replaceAll(target, 'TARGET');
    return {
      content: kind === 'Secret' ? { type: (obj as k8s.V1Secret).type, data: (obj as k8s.V1Secret).data } : { rules: (obj as k8s.V1Role).rules ?? [] },
      labels: obj.metadata!.labels ?? {},
      annotations,
      // Whether it was written since it was created, who wrote it and how (a write that only removes fields leaves
      // no managedFields entry of its own).
      written: obj.metadata!.resourceVersion !== createdAt.get(`${kind}/${target}`),
      writers: (obj.metadata!.managedFields ?? []).map((f) => `${f.manager} ${f.operation}`).sort(),
      events: events.map((e) => ({ reason: e.reason, type: e.type, message: normalise(e.message), source: e.source?.component, count: e.count ?? 1 }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    };
  }

  it('Secret and Role pull targets: the same data, annotations, writers and Events (reason, type, message) for both', async () => {
    await c.core.createNamespacedSecret({ namespace: platform, body: { metadata: { name: hidden }, data: { password: b64(secretValue('hidden')) } } });
    await c.rbac.createNamespacedRole({ namespace: platform, body: { metadata: { name: hidden }, rules } });
    const stolen = { password: b64('what-the-source-would-hold'), token: b64('tenant-a-token'), own: b64('tenant-a-own') };
    for (const [target, source] of pairs) {
      const annotations = { [`${M}replicate-from`]: `${platform}/${source}`, ...forged };
      const secretTarget = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: target, annotations }, data: stolen } });
      const roleTarget = await tenantA.rbac.createNamespacedRole({ namespace: teamA, body: { metadata: { name: target, annotations }, rules } });
      createdAt.set(`Secret/${target}`, secretTarget.metadata!.resourceVersion!);
      createdAt.set(`Role/${target}`, roleTarget.metadata!.resourceVersion!);
    }
    // Decided: every target has an Event from kube-replicator, tenant-a's view, and nothing is left to do.
    for (const [target] of pairs) {
      for (const kind of ['Secret', 'Role']) {
        await waitFor(`an Event on ${kind} ${teamA}/${target}`, async () => (await tenantA.core.listNamespacedEvent({ namespace: teamA, fieldSelector: `involvedObject.name=${target},involvedObject.kind=${kind}` }))
          .items.some((e) => e.source?.component === 'kube-replicator'));
      }
    }
    // The source's owner is told (on the source, which tenant-a cannot read): the hidden source was found and refused.
    for (const kind of ['Secret', 'Role']) {
      const why = await waitFor(`ReplicationNotPermitted on ${kind} ${platform}/${hidden}`, async () =>
        (await c.core.listNamespacedEvent({ namespace: platform, fieldSelector: `involvedObject.name=${hidden},involvedObject.kind=${kind},reason=ReplicationNotPermitted` })).items[0]);
      expect(why.message).toContain(`${teamA}/probe-hidden may not pull from ${platform}/${hidden}`);
    }
    await expectStatus(tenantA.core.listNamespacedEvent({ namespace: platform }), 403);
    await expectStatus(tenantA.core.readNamespacedSecret({ namespace: platform, name: hidden }), 403);
    await operatorIdle();

    for (const kind of ['Secret', 'Role'] as const) {
      const [missing, refused] = [await seen(kind, 'probe-missing', ghost), await seen(kind, 'probe-hidden', hidden)];
      expect(refused).toEqual(missing);
      // And what both are: the forged keys removed (the target's own kept), the bookkeeping gone, one Warning.
      expect(missing.content).toEqual(kind === 'Secret' ? { type: 'Opaque', data: { own: stolen.own } } : { rules: [] });
      expect(missing.annotations).toEqual({});
      expect(missing.written).toBe(true);
      expect(missing.events).toEqual([{
        reason: 'SourceNotAvailable', type: 'Warning', source: 'kube-replicator', count: 1,
        message: `source ${platform}/SOURCE does not exist or does not permit replication into ${teamA} (it needs ${M}replication-allowed: "true" and `
          + `${M}replication-allowed-namespaces matching ${teamA}); the replicated ${kind === 'Secret' ? 'keys were removed' : 'rules were cleared'}, and it is copied here once it does`,
      }]);
    }
  });
});

describe('no secret value anywhere', () => {
  it('no secret value (nor its base64) appears in any operator log line or in any Event of the test namespaces', async () => {
    expect(secretValues.length).toBeGreaterThanOrEqual(20);
    await stop(); // every log line the operators will ever write is in `logs` now
    const logs = operators.flatMap((o) => o.logs);
    expect(logs.length).toBeGreaterThan(50);
    const events = (await Promise.all([...namespaces, ...builtInProtected, 'default', identity.namespace].map(async (namespace) => (await c.core.listNamespacedEvent({ namespace })).items))).flat();
    const haystacks: Record<string, string> = {
      logs: logs.join('\n'),
      'Event messages': events.map((e) => `${e.reason}: ${e.message}`).join('\n'),
      Events: JSON.stringify(events),
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
