// Issue 15, the Reflector dialect: emberstack/kubernetes-reflector's annotations on the real control plane. Tenants
// are non-admin identities (client certificates, `admin` in their own namespace only), as in trust-boundaries: a
// Reflector annotation is a tenant's annotation and keeps every limit a mittwald one has. The admin client only
// makes namespaces, plays Reflector (mirrors it would have written) and reads results.
//
// Every push here is held to this file's namespaces by an explicit list: an empty Reflector list means every
// namespace of the cluster, which other suites share.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './support/helm.ts';
import {
  admin, b64, clientsFor, createNamespace, decoded, deleteNamespace, grantNamespaceAdmin, maybe, uniqueName, userKubeConfig, waitFor, type Clients,
} from './support/cluster.ts';
import { chartIdentity, configMapReadsOnly } from './support/chart-identity.ts';
import { SecretValues } from './support/secret-values.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const RF = 'reflector.v1.k8s.emberstack.com/';
const M = 'replicator.v1.mittwald.de/';
const KR = 'kube-replicator.io/';
const REPLICA = `${KR}replica`;
const allowed = `${RF}reflection-allowed`;
const allowedNs = `${RF}reflection-allowed-namespaces`;
const autoEnabled = `${RF}reflection-auto-enabled`;
const autoNs = `${RF}reflection-auto-namespaces`;
const reflects = `${RF}reflects`;

const c = admin();
const run = uniqueName('rf');
const teamA = `${run}-team-a`; // tenant A: sources
const teamB = `${run}-team-b`; // tenant B: mirrors, push targets
const teamC = `${run}-team-c`; // admin-owned push target
const sys = `${run}-sys`; // protected (this file's stand-in for kube-system)
const legacy = `${run}-legacy`; // holds Reflector mirrors before any rule may reach them
const namespaces = [teamA, teamB, teamC, sys, legacy];
const userA = `tenant-a-${run}`;
const userB = `tenant-b-${run}`;
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

let tenantA: Clients;
let tenantB: Clients;
let operator: TestOperator;
const secrets = new SecretValues();

beforeAll(async () => {
  await Promise.all(namespaces.map((n) => createNamespace(c, n, n === legacy ? { [`${KR}replication`]: 'deny' } : {})));
  await grantNamespaceAdmin(c, teamA, userA);
  await grantNamespaceAdmin(c, teamB, userB);
  tenantA = clientsFor(userKubeConfig(userA));
  tenantB = clientsFor(userKubeConfig(userB));
  await waitFor('tenant-a is admin in team-a', async () => Boolean(await tenantA.core.listNamespacedSecret({ namespace: teamA })));
  await waitFor('tenant-b is admin in team-b', async () => Boolean(await tenantB.core.listNamespacedSecret({ namespace: teamB })));
  const identity = await chartIdentity('kr-reflector', configMapReadsOnly);
  operator = await startTestOperator([`--protected-namespaces=${sys},kube-system,kube-public,kube-node-lease`], identity);
}, 90_000);

afterAll(async () => {
  await operator?.stop();
  await Promise.all(namespaces.map((n) => deleteNamespace(c, n, false)));
}, 90_000);

const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
const configMap = (namespace: string, name: string) => maybe(c.core.readNamespacedConfigMap({ namespace, name }));

async function ourEvents(namespace: string, name: string, reason: string): Promise<k8s.CoreV1Event[]> {
  const list = await c.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return list.items.filter((e) => e.source?.component === 'kube-replicator');
}

/** Waits for an Event `reason` on namespace/name whose message contains `text`, and returns it. */
const eventSaying = (namespace: string, name: string, reason: string, text: string) => waitFor(`Event ${reason} "${text}" on ${namespace}/${name}`, async () =>
  (await ourEvents(namespace, name, reason)).find((e) => e.message?.includes(text)));

/** A Secret replica (our label) whose `password` is `value`. */
const replicaWith = (namespace: string, name: string, value: string) => waitFor(`${namespace}/${name} to be a replica holding the expected value`, async () => {
  const s = await secret(namespace, name);
  return s?.metadata?.labels?.[REPLICA] === 'true' && decoded(s.data).password === value ? s : undefined;
});

const gone = (namespace: string, name: string) => waitFor(`${namespace}/${name} to be gone`, async () => (await secret(namespace, name)) === undefined);

/** Until the operator has nothing queued or in flight: a decision not to write has been made. */
const operatorIdle = () => waitFor('the operator to be idle', () => operator.op.controller.queueDepth + operator.op.controller.inFlight === 0);

function source(name: string, annotations: Record<string, string>, value: string, extra: Partial<k8s.V1Secret> = {}): k8s.V1Secret {
  return { metadata: { name, annotations, ...extra.metadata }, data: { password: b64(value) }, ...(extra.type ? { type: extra.type } : {}) };
}

describe('push: auto-reflection (reflection-allowed + reflection-auto-enabled + reflection-auto-namespaces)', () => {
  it('Secret: mirrors in each listed namespace with the same type and data, and none of the source\'s labels', async () => {
    const value = secrets.make('auto-secret');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'auto-s', labels: { app: 'web' }, annotations: { [allowed]: 'true', [autoEnabled]: 'true', [allowedNs]: `${teamB},${teamC}`, [autoNs]: `${teamB},${teamC}` } },
      type: 'kubernetes.io/basic-auth', data: { password: b64(value), username: b64('u') },
    } });
    for (const ns of [teamB, teamC]) {
      const r = await replicaWith(ns, 'auto-s', value);
      expect(r.type).toBe('kubernetes.io/basic-auth');
      expect(decoded(r.data)).toEqual({ password: value, username: 'u' });
      expect(r.metadata!.labels).not.toHaveProperty('app');
      expect(r.metadata!.annotations![`${KR}source`]).toBe(`${teamA}/auto-s`);
    }
    expect(await secret(sys, 'auto-s')).toBeUndefined();
  });

  it('ConfigMap: an empty reflection-auto-namespaces means every namespace the allowed list permits (data and binaryData)', async () => {
    await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: {
      metadata: { name: 'auto-cm', annotations: { [allowed]: 'True', [autoEnabled]: 'True', [autoNs]: '', [allowedNs]: `${run}-team-[bc]` } },
      data: { k: 'v' }, binaryData: { b: b64('bin') },
    } });
    for (const ns of [teamB, teamC]) {
      const cm = await waitFor(`${ns}/auto-cm`, async () => (await configMap(ns, 'auto-cm'))?.metadata?.labels?.[REPLICA] === 'true' && configMap(ns, 'auto-cm'));
      expect(cm!.data).toEqual({ k: 'v' });
      expect(cm!.binaryData).toEqual({ b: b64('bin') });
    }
    await operatorIdle();
    for (const ns of [sys, legacy]) expect(await configMap(ns, 'auto-cm')).toBeUndefined();
  });

  it('reflection-auto-enabled alone (no reflection-allowed) reflects nothing and says why', async () => {
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('auto-alone', { [autoEnabled]: 'true', [autoNs]: teamB }, secrets.make('auto-alone')) });
    const ev = await eventSaying(teamA, 'auto-alone', 'InvalidAnnotation', `${allowed}: "true"`);
    expect(ev.type).toBe('Warning');
    await operatorIdle();
    expect(await secret(teamB, 'auto-alone')).toBeUndefined();
  });

  it('the auto list is held within reflection-allowed-namespaces; narrowing, disabling and deleting remove the mirrors', async () => {
    const value = secrets.make('auto-life');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('auto-life', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: `${teamB},${teamC}`, [allowedNs]: teamB }, value) });
    await replicaWith(teamB, 'auto-life', value);
    await operatorIdle();
    expect(await secret(teamC, 'auto-life')).toBeUndefined();
    // The allowed list widened, then the auto list narrowed: the mirror follows.
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-life', body: { metadata: { annotations: { [allowedNs]: '' } } } }, mergePatch);
    await replicaWith(teamC, 'auto-life', value);
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-life', body: { metadata: { annotations: { [autoNs]: teamC } } } }, mergePatch);
    await gone(teamB, 'auto-life');
    // Auto-reflection off: the mirrors go, as in Reflector.
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-life', body: { metadata: { annotations: { [autoEnabled]: 'false' } } } }, mergePatch);
    await gone(teamC, 'auto-life');
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-life', body: { metadata: { annotations: { [autoEnabled]: 'true' } } } }, mergePatch);
    await replicaWith(teamC, 'auto-life', value);
    // Consent withdrawn (reflection-allowed false): gone again.
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-life', body: { metadata: { annotations: { [allowed]: 'false' } } } }, mergePatch);
    await gone(teamC, 'auto-life');
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-life', body: { metadata: { annotations: { [allowed]: 'true' } } } }, mergePatch);
    await replicaWith(teamC, 'auto-life', value);
    // The source deleted: its auto mirrors go.
    await tenantA.core.deleteNamespacedSecret({ namespace: teamA, name: 'auto-life' });
    await gone(teamC, 'auto-life');
  });

  it('a source change reaches every mirror', async () => {
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('auto-upd', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: teamB, [allowedNs]: teamB }, secrets.make('auto-upd-1')) });
    await waitFor('the first mirror', () => secret(teamB, 'auto-upd'));
    const next = secrets.make('auto-upd-2');
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'auto-upd', body: { data: { password: b64(next) } } }, mergePatch);
    await replicaWith(teamB, 'auto-upd', next);
  });
});

describe('pull: reflects on a mirror, consented by reflection-allowed + reflection-allowed-namespaces', () => {
  it('Secret: a tenant\'s mirror copies the source its list allows, and follows it', async () => {
    const value = secrets.make('pull-s');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('pull-src', { [allowed]: 'true', [allowedNs]: `${run}-team-[b]` }, value) });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'pull-mirror', annotations: { [reflects]: `${teamA}/pull-src` } } } });
    await waitFor('the mirror to hold the source data', async () => decoded((await secret(teamB, 'pull-mirror'))?.data).password === value);
    const next = secrets.make('pull-s-2');
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'pull-src', body: { data: { password: b64(next) } } }, mergePatch);
    await waitFor('the mirror to follow the source', async () => decoded((await secret(teamB, 'pull-mirror'))?.data).password === next);
  });

  it('ConfigMap: an empty reflection-allowed-namespaces permits every namespace', async () => {
    await tenantA.core.createNamespacedConfigMap({ namespace: teamA, body: { metadata: { name: 'pull-cm', annotations: { [allowed]: 'true', [allowedNs]: '' } }, data: { k: 'v' }, binaryData: { b: b64('bin') } } });
    await tenantB.core.createNamespacedConfigMap({ namespace: teamB, body: { metadata: { name: 'pull-cm-mirror', annotations: { [reflects]: `${teamA}/pull-cm` } } } });
    const cm = await waitFor('the ConfigMap mirror', async () => (await configMap(teamB, 'pull-cm-mirror'))?.data?.k === 'v' && configMap(teamB, 'pull-cm-mirror'));
    expect(cm!.binaryData).toEqual({ b: b64('bin') });
  });

  it.each<[string, Record<string, string>]>([
    ['no reflection-allowed', { [allowedNs]: '' }],
    ['reflection-allowed false', { [allowed]: 'false' }],
    ['an allowed list without the mirror\'s namespace', { [allowed]: 'true', [allowedNs]: teamC }],
  ])('refused with %s: the mirror is untouched and told only that the source is not available', async (what, annotations) => {
    const name = `refused-${Object.keys(annotations).length}-${what.length}`;
    const value = secrets.make(name);
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source(name, annotations, value) });
    const mirror = await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: `${name}-m`, annotations: { [reflects]: `${teamA}/${name}` } }, data: { mine: b64('x') } } });
    const ev = await eventSaying(teamB, `${name}-m`, 'SourceNotAvailable', `${allowed}: "true"`);
    expect(ev.message).not.toContain(value);
    const after = (await secret(teamB, `${name}-m`))!;
    expect(after.metadata!.resourceVersion).toBe(mirror.metadata!.resourceVersion);
    expect(decoded(after.data)).toEqual({ mine: 'x' });
  });

  it('an invalid reflects value is reported on the mirror, naming reflects', async () => {
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'bad-reflects', annotations: { [reflects]: 'no-namespace' } } } });
    const ev = await eventSaying(teamB, 'bad-reflects', 'InvalidAnnotation', reflects);
    expect(ev.message).toContain('<namespace>/<name>');
  });

  it('cert-manager\'s secretTemplate (Reflector README, unchanged): a TLS Secret shaped like cert-manager\'s output is mirrored where asked', async () => {
    // The annotations of the recipe as our README shows it (Reflector's, unchanged).
    const recipe = /secretTemplate:\n\s+annotations:\n((?:\s+reflector\.v1\.k8s\.emberstack\.com\/[a-z-]+: "[^"]*"\n)+)/.exec(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
    const template = Object.fromEntries([...recipe![1]!.matchAll(/(\S+): "([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    expect(template).toEqual({ [allowed]: 'true', [allowedNs]: '' });
    const key = secrets.make('tls-key');
    // What cert-manager writes for a Certificate whose spec.secretTemplate carries the README's annotations.
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: {
        name: 'example-tls',
        labels: { 'controller.cert-manager.io/fao': 'true' },
        annotations: {
          'cert-manager.io/alt-names': 'example.com', 'cert-manager.io/certificate-name': 'example', 'cert-manager.io/common-name': 'example.com',
          'cert-manager.io/issuer-kind': 'ClusterIssuer', 'cert-manager.io/issuer-name': 'letsencrypt-prod', 'cert-manager.io/issuer-group': 'cert-manager.io',
          ...template,
        },
      },
      type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT'), 'tls.key': b64(key), 'ca.crt': b64('CA') },
    } });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: {
      metadata: { name: 'example-tls', annotations: { 'reflector.v1.k8s.emberstack.com/reflects': `${teamA}/example-tls` } },
      type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' },
    } });
    const m = await waitFor('the TLS mirror', async () => decoded((await secret(teamB, 'example-tls'))?.data)['tls.key'] === key && secret(teamB, 'example-tls'));
    expect(decoded(m!.data)).toEqual({ 'tls.crt': 'CERT', 'tls.key': key, 'ca.crt': 'CA' });
    expect(m!.type).toBe('kubernetes.io/tls');
    // cert-manager renews: the mirror follows.
    const renewed = secrets.make('tls-key-renewed');
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'example-tls', body: { data: { 'tls.key': b64(renewed) } } }, mergePatch);
    await waitFor('the renewed key in the mirror', async () => decoded((await secret(teamB, 'example-tls'))?.data)['tls.key'] === renewed);
  });
});

describe('label selectors (reflection-allowed-namespaces-selector, reflection-auto-namespaces-selector)', () => {
  const allowedSel = `${RF}reflection-allowed-namespaces-selector`;
  const autoSel = `${RF}reflection-auto-namespaces-selector`;
  const label = (name: string, labels: Record<string, string | null>) => c.core.patchNamespace({ name, body: { metadata: { labels } } }, mergePatch);

  it('push: mirrors follow the namespaces\' labels, held within the allowed selector', async () => {
    const key = `${run}-sel`;
    const value = secrets.make('sel-push');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('sel-push', { [allowed]: 'true', [autoEnabled]: 'true', [autoSel]: `${key}=on`, [allowedSel]: `${key}-ok` }, value) });
    await label(teamB, { [`${key}-ok`]: 'yes' });
    await label(teamB, { [key]: 'on' });
    await replicaWith(teamB, 'sel-push', value);
    // team-c matches the auto selector but not the allowed one.
    await label(teamC, { [key]: 'on' });
    await operatorIdle();
    expect(await secret(teamC, 'sel-push')).toBeUndefined();
    await label(teamB, { [key]: null });
    await gone(teamB, 'sel-push');
  });

  it('pull: consent by the mirror namespace\'s labels, ORed with the name list; a label change is seen at once', async () => {
    const key = `${run}-consent`;
    const value = secrets.make('sel-pull');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('sel-pull', { [allowed]: 'true', [allowedNs]: teamC, [allowedSel]: `${key}=yes` }, value) });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'sel-pull-m', annotations: { [reflects]: `${teamA}/sel-pull` } } } });
    await eventSaying(teamB, 'sel-pull-m', 'SourceNotAvailable', teamA);
    expect((await secret(teamB, 'sel-pull-m'))!.data).toBeUndefined();
    await label(teamB, { [key]: 'yes' });
    await waitFor('the mirror filled once its namespace is labelled', async () => decoded((await secret(teamB, 'sel-pull-m'))?.data).password === value);
  });
});

describe('mirrors Reflector made (auto-reflects, reflected-version, reflected-at)', () => {
  const reflectorMirror = (name: string, value: string, version: string): k8s.V1Secret => ({
    metadata: { name, annotations: { [reflects]: `${teamA}/${name}`, [`${RF}auto-reflects`]: 'True', [`${RF}reflected-version`]: version, [`${RF}reflected-at`]: new Date().toISOString() } },
    data: { password: b64(value), stale: b64('left over') },
  });

  it('are taken over by the source they record (reflected-version): ours from then on, Reflector\'s bookkeeping and stale keys gone', async () => {
    const value = secrets.make('takeover');
    const src = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('taken', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: legacy, [allowedNs]: legacy }, value) });
    await c.core.createNamespacedSecret({ namespace: legacy, body: reflectorMirror('taken', `${value}-old`, src.metadata!.resourceVersion!) });
    await c.core.patchNamespace({ name: legacy, body: { metadata: { labels: { [`${KR}replication`]: null } } } }, mergePatch);
    const r = await replicaWith(legacy, 'taken', value);
    expect(decoded(r.data)).toEqual({ password: value });
    expect(r.metadata!.annotations![`${KR}source`]).toBe(`${teamA}/taken`);
    for (const k of ['reflects', 'auto-reflects', 'reflected-version', 'reflected-at']) expect(r.metadata!.annotations).not.toHaveProperty(`${RF}${k}`);
    expect(await ourEvents(teamA, 'taken', 'LegacyReplicaKept')).toEqual([]);
  });

  it('are not taken over by a tenant\'s source that cannot prove Reflector copied from it (LegacyReplicaKept)', async () => {
    const name = 'not-taken';
    const mirror = await c.core.createNamespacedSecret({ namespace: teamC, body: reflectorMirror(name, secrets.make('other-source'), '1') });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source(name, { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: teamC, [allowedNs]: teamC }, secrets.make('claimant')) });
    const ev = await eventSaying(teamA, name, 'LegacyReplicaKept', 'emberstack/kubernetes-reflector');
    expect(ev.type).toBe('Warning');
    expect((await secret(teamC, name))!.metadata!.resourceVersion).toBe(mirror.metadata!.resourceVersion);
  });

  it('that no rule wants are left as they are, even when the source they name stops auto-reflection (Reflector deletes them)', async () => {
    const name = 'left-alone';
    const src = await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source(name, { [allowed]: 'true' }, secrets.make('left-alone')) });
    const mirror = await c.core.createNamespacedSecret({ namespace: teamC, body: reflectorMirror(name, secrets.make('left-alone-copy'), src.metadata!.resourceVersion!) });
    // A change of the source makes the operator look at what it feeds: nothing, since it pushes nowhere.
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name, body: { metadata: { annotations: { [autoEnabled]: 'false' } } } }, mergePatch);
    await operatorIdle();
    const after = await secret(teamC, name);
    expect(after?.metadata!.resourceVersion).toBe(mirror.metadata!.resourceVersion);
  });
});

describe('a source carrying both dialects', () => {
  it('one rule: mittwald\'s replicate-to and Reflector\'s auto list together; consent from either dialect serves a pull in either', async () => {
    const value = secrets.make('both');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('both', {
      [`${M}replicate-to`]: teamB, [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: teamC, [allowedNs]: teamC,
      [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: teamB,
    }, value) });
    await replicaWith(teamB, 'both', value);
    await replicaWith(teamC, 'both', value);
    // A mittwald pull consented only in Reflector's dialect (team-c is not in the mittwald list), and a Reflector pull
    // consented only in mittwald's (team-b is not in the Reflector list).
    await c.core.createNamespacedSecret({ namespace: teamC, body: { metadata: { name: 'both-mw', annotations: { [`${M}replicate-from`]: `${teamA}/both` } } } });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'both-rf', annotations: { [reflects]: `${teamA}/both` } } } });
    await waitFor('both pulls served', async () => decoded((await secret(teamC, 'both-mw'))?.data).password === value && decoded((await secret(teamB, 'both-rf'))?.data).password === value);
    expect(await ourEvents(teamA, 'both', 'RuleConflict')).toEqual([]);
  });
});

describe('Differences from Reflector (one test per row of the README table)', () => {
  it('protected namespaces: a tenant\'s auto-reflection never lands there, with an empty allowed list too (ProtectedNamespace)', async () => {
    const value = secrets.make('prot');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('prot', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: `${sys},kube-system,${teamB}`, [allowedNs]: '' }, value) });
    await replicaWith(teamB, 'prot', value);
    const ev = await eventSaying(teamA, 'prot', 'ProtectedNamespace', sys);
    expect(ev.type).toBe('Warning');
    await operatorIdle();
    expect(await secret(sys, 'prot')).toBeUndefined();
    expect(await secret('kube-system', 'prot')).toBeUndefined();
  });

  it('an object that is not a mirror is never overwritten, on any path (TargetConflict)', async () => {
    const own = await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'occupied' }, data: { password: b64('tenant-b-own') } } });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('occupied', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: teamB, [allowedNs]: teamB }, secrets.make('occupier')) });
    await eventSaying(teamA, 'occupied', 'TargetConflict', 'left untouched');
    // Reflector's namespace path creates, then patches on 409: a namespace label change must not do that here.
    await c.core.patchNamespace({ name: teamB, body: { metadata: { labels: { touched: 'yes' } } } }, mergePatch);
    await operatorIdle();
    const after = (await secret(teamB, 'occupied'))!;
    expect(after.metadata!.resourceVersion).toBe(own.metadata!.resourceVersion);
    expect(decoded(after.data)).toEqual({ password: 'tenant-b-own' });
  });

  it('patterns are RE2 and match the whole name (Reflector misses `x|xy` against `xy`), `*` means every namespace, and .NET-only syntax is reported', async () => {
    const value = secrets.make('re2');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('re2', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: `${run}-team|${teamB},(?<=x)y`, [allowedNs]: '*' }, value) });
    await replicaWith(teamB, 're2', value);
    const ev = await eventSaying(teamA, 're2', 'InvalidAnnotation', autoNs);
    expect(ev.message).toContain('(?<=x)y');
    await operatorIdle();
    expect(await secret(teamC, 're2')).toBeUndefined();
  });

  it('a selector of blanks is no selector (Reflector: every namespace); an invalid one matches nothing (fail closed) and is reported', async () => {
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('sel-blank', { [allowed]: 'true', [allowedNs]: teamC, [`${RF}reflection-allowed-namespaces-selector`]: '  ' }, secrets.make('sel-blank')) });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'sel-blank-m', annotations: { [reflects]: `${teamA}/sel-blank` } } } });
    await eventSaying(teamB, 'sel-blank-m', 'SourceNotAvailable', teamA);
    expect((await secret(teamB, 'sel-blank-m'))!.data).toBeUndefined();
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('sel-bad', { [allowed]: 'true', [`${RF}reflection-allowed-namespaces-selector`]: 'team in (' }, secrets.make('sel-bad')) });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'sel-bad-m', annotations: { [reflects]: `${teamA}/sel-bad` } } } });
    await eventSaying(teamA, 'sel-bad', 'InvalidAnnotation', 'matches no namespace');
    await eventSaying(teamB, 'sel-bad-m', 'SourceNotAvailable', teamA);
    expect((await secret(teamB, 'sel-bad-m'))!.data).toBeUndefined();
  });

  it('drift: a deleted mirror comes back at once; one its namespace\'s owner edits is theirs (TargetClaimed), not reverted at the next source change', async () => {
    const value = secrets.make('drift');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('drift', { [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: teamB, [allowedNs]: teamB }, value) });
    const first = await replicaWith(teamB, 'drift', value);
    await tenantB.core.deleteNamespacedSecret({ namespace: teamB, name: 'drift' });
    const back = await replicaWith(teamB, 'drift', value);
    expect(back.metadata!.uid).not.toBe(first.metadata!.uid);
    await tenantB.core.patchNamespacedSecret({ namespace: teamB, name: 'drift', body: { data: { password: b64('owner-edit') } } }, mergePatch);
    await eventSaying(teamB, 'drift', 'TargetClaimed', 'no longer managed');
    await tenantA.core.patchNamespacedSecret({ namespace: teamA, name: 'drift', body: { data: { password: b64(secrets.make('drift-2')) } } }, mergePatch);
    await operatorIdle();
    expect(decoded((await secret(teamB, 'drift'))!.data).password).toBe('owner-edit');
  });

  it('a pull mirror keeps keys of its own; when the source goes, only the reflected keys are removed (Reflector leaves it stale)', async () => {
    const value = secrets.make('pull-del');
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: source('pull-del', { [allowed]: 'true' }, value) });
    await tenantB.core.createNamespacedSecret({ namespace: teamB, body: { metadata: { name: 'pull-del-m', annotations: { [reflects]: `${teamA}/pull-del` } }, data: { mine: b64('kept') } } });
    await waitFor('the mirror to hold both keys', async () => decoded((await secret(teamB, 'pull-del-m'))?.data).password === value);
    expect(decoded((await secret(teamB, 'pull-del-m'))!.data)).toEqual({ password: value, mine: 'kept' });
    await tenantA.core.deleteNamespacedSecret({ namespace: teamA, name: 'pull-del' });
    await waitFor('the reflected key removed', async () => {
      const d = decoded((await secret(teamB, 'pull-del-m'))?.data);
      return d.password === undefined && d.mine === 'kept';
    });
  });

  it('credentials are never reflected: a service-account-token Secret with auto-reflection (SourceNotReplicable)', async () => {
    await tenantA.core.createNamespacedServiceAccount({ namespace: teamA, body: { metadata: { name: 'bot' } } });
    await tenantA.core.createNamespacedSecret({ namespace: teamA, body: {
      metadata: { name: 'bot-token', annotations: { 'kubernetes.io/service-account.name': 'bot', [allowed]: 'true', [autoEnabled]: 'true', [autoNs]: teamB, [allowedNs]: teamB } },
      type: 'kubernetes.io/service-account-token',
    } });
    await eventSaying(teamA, 'bot-token', 'SourceNotReplicable', 'ServiceAccount token Secrets');
    await operatorIdle();
    expect(await secret(teamB, 'bot-token')).toBeUndefined();
  });

  it('Events and metrics: what was reflected and refused is visible outside the logs', async () => {
    const text = await waitFor('metrics with Reflector-made replicas', async () => {
      const t = await (await fetch(`${operator.statusUrl}/metrics`)).text();
      return /^kube_replicator_replicas\{[^}]*kind="Secret"[^}]*\} [1-9]/m.test(t) && /^kube_replicator_refusals_total\{[^}]*reason="ProtectedNamespace"[^}]*\} [1-9]/m.test(t) ? t : undefined;
    });
    expect(text).toMatch(/^kube_replicator_refusals_total\{[^}]*reason="TargetConflict"[^}]*\} [1-9]/m);
  });

  it('no secret value of this file appears in a log line or an Event', async () => {
    const events = (await Promise.all(namespaces.map((namespace) => c.core.listNamespacedEvent({ namespace })))).flatMap((l) => l.items.map((e) => e.message ?? ''));
    for (const v of secrets.all) {
      expect(operator.logs.filter((l) => l.includes(v))).toEqual([]);
      expect(events.filter((m) => m.includes(v))).toEqual([]);
    }
  });
});
