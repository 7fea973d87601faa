// Kinds an admin allows with --extra-kinds (chart value extraKinds), on the real control plane, with the operator
// running under the chart's RBAC rendered for those kinds: a ReplicationPolicy replicates NetworkPolicies,
// LimitRanges, ResourceQuotas and a custom resource of a CRD installed here; annotation push and consented pull of a
// NetworkPolicy; a kind that must never be copied, a missing kind and a cluster-scoped kind stop the operator at
// start with a message that names them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { admin, createNamespace, deleteNamespace, maybe, uniqueName, waitFor } from './support/cluster.ts';
import { chartIdentity, suiteGrantable, type ChartIdentity } from './support/chart-identity.ts';
import { render, repoRoot, type Rule } from './support/helm.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const c = admin();
const run = uniqueName('xk');
const [src, t1, t2, t3, puller] = ['src', 't1', 't2', 't3', 'pull'].map((n) => `${run}-${n}`) as [string, string, string, string, string];
const M = 'replicator.v1.mittwald.de/';
const crdGroup = 'xk.example.com';
const extraKinds = ['networking.k8s.io/v1/NetworkPolicy', 'v1/LimitRange', 'v1/ResourceQuota', `${crdGroup}/v1/Widget`];
const policy = `${run}-extra`;
let identity: ChartIdentity;
let operator: TestOperator;

type Obj = k8s.KubernetesObject & { metadata: { name: string }; spec?: unknown };

const objects = k8s.KubernetesObjectApi.makeApiClient(c.kc);
const crds = c.kc.makeApiClient(k8s.ApiextensionsV1Api);
const apiVersions: Record<string, string> = { NetworkPolicy: 'networking.k8s.io/v1', LimitRange: 'v1', ResourceQuota: 'v1', Widget: `${crdGroup}/v1` };
const header = (kind: string, namespace: string, name: string) => ({ apiVersion: apiVersions[kind]!, kind, metadata: { name, namespace } });
const mergePatchHeader = k8s.PatchStrategy.MergePatch;

/** Typed client objects as plain JSON. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null));

const get = (kind: string, ns: string, name: string) => maybe(objects.read<Obj>(header(kind, ns, name)));
const create = (kind: string, ns: string, obj: Obj) => objects.create<Obj>({ ...obj, apiVersion: apiVersions[kind], kind, metadata: { ...obj.metadata, namespace: ns } });
const mergePatch = (kind: string, ns: string, name: string, patch: Record<string, unknown>) =>
  objects.patch<Obj>({ ...header(kind, ns, name), ...patch, metadata: { ...header(kind, ns, name).metadata, ...(patch.metadata as object | undefined) } }, undefined, undefined, undefined, undefined, mergePatchHeader);
const remove = (kind: string, ns: string, name: string) => objects.delete(header(kind, ns, name));
const policyApi = { group: 'kube-replicator.io', version: 'v1alpha1', plural: 'replicationpolicies' };

const sources: Record<string, Obj> = {
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-ingress' }, spec: { podSelector: { matchLabels: { app: 'web', tier: 'front' } }, policyTypes: ['Ingress'] } },
  LimitRange: { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults' }, spec: { limits: [{ type: 'Container', default: { memory: '256Mi' } }] } },
  ResourceQuota: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota' }, spec: { hard: { pods: '10' } } },
  Widget: { apiVersion: `${crdGroup}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3, colour: 'blue' } },
};

beforeAll(async () => {
  await crds.createCustomResourceDefinition({ body: {
    metadata: { name: `widgets.${crdGroup}` },
    spec: {
      group: crdGroup, scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } } } }],
    },
  } });
  await waitFor('the Widget CRD to be established', async () => {
    const crd = await crds.readCustomResourceDefinition({ name: `widgets.${crdGroup}` });
    return crd.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
  });
  for (const n of [src, t3, puller]) await createNamespace(c, n);
  for (const n of [t1, t2]) await createNamespace(c, n, { [`${run}-team`]: 'yes' });
  identity = await chartIdentity('kr-extra', suiteGrantable, [`--set-json=extraKinds=${JSON.stringify(extraKinds)}`]);
  operator = await startTestOperator([`--extra-kinds=${extraKinds.join(',')}`], identity);
});

afterAll(async () => {
  await operator?.stop();
  await maybe(c.custom.deleteClusterCustomObject({ ...policyApi, name: policy }));
  await Promise.all([src, t1, t2, t3, puller].map((n) => deleteNamespace(c, n, false)));
  await maybe(crds.deleteCustomResourceDefinition({ name: `widgets.${crdGroup}` }));
});

describe('a ReplicationPolicy with kinds from --extra-kinds', () => {
  it('replicates NetworkPolicies, LimitRanges, ResourceQuotas and a custom resource to the labelled namespaces only', async () => {
    for (const [kind, obj] of Object.entries(sources)) await create(kind, src, obj);
    await c.custom.createClusterCustomObject({ ...policyApi, body: {
      apiVersion: 'kube-replicator.io/v1alpha1', kind: 'ReplicationPolicy', metadata: { name: policy },
      spec: {
        kinds: Object.keys(sources), source: { namespace: src, names: Object.values(sources).map((s) => s.metadata.name) },
        targets: { namespaceSelector: { matchLabels: { [`${run}-team`]: 'yes' } } },
      },
    } });
    for (const [kind, s] of Object.entries(sources)) {
      // As stored: the API server fills in defaults (a LimitRange's defaultRequest), on the source and the replica alike.
      const stored = plain((await get(kind, src, s.metadata.name))!.spec);
      for (const ns of [t1, t2]) {
        const r = await waitFor(`${kind} in ${ns}`, () => get(kind, ns, s.metadata.name));
        expect(plain(r.spec)).toEqual(stored);
        expect(r.metadata.labels?.['kube-replicator.io/replica']).toBe('true');
      }
    }
    for (const [kind, s] of Object.entries(sources)) expect(await get(kind, t3, s.metadata.name)).toBeUndefined();
  });

  it('follows a source whose spec loses a nested key (the replica is rewritten whole, not merged)', async () => {
    await mergePatch('NetworkPolicy', src, 'deny-ingress', { spec: { podSelector: { matchLabels: { tier: null } } } });
    for (const ns of [t1, t2]) {
      await waitFor(`the NetworkPolicy in ${ns} to lose tier`, async () => {
        const r = await get('NetworkPolicy', ns, 'deny-ingress');
        return JSON.stringify((plain(r?.spec) as { podSelector?: unknown } | null)?.podSelector) === JSON.stringify({ matchLabels: { app: 'web' } });
      });
    }
  });

  it('puts back a replica someone edited, and removes the replicas when the source goes', async () => {
    await mergePatch('Widget', t1, 'w', { spec: { size: 99 } });
    await waitFor('the Widget in t1 to be put back', async () => ((await get('Widget', t1, 'w'))?.spec as { size?: number } | undefined)?.size === 3);
    await remove('Widget', src, 'w');
    for (const ns of [t1, t2]) await waitFor(`the Widget in ${ns} to go`, async () => (await get('Widget', ns, 'w')) === undefined);
  });
});

describe('annotation mode with an extra kind', () => {
  it('pushes a NetworkPolicy with replicate-to', async () => {
    await create('NetworkPolicy', src, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'pushed', annotations: { [`${M}replicate-to`]: t3 } }, spec: { podSelector: {}, policyTypes: ['Egress'] } });
    const r = await waitFor('the pushed NetworkPolicy in t3', () => get('NetworkPolicy', t3, 'pushed'));
    expect(plain(r.spec)).toEqual({ podSelector: {}, policyTypes: ['Egress'] });
  });

  it('pulls a NetworkPolicy with replicate-from once the source consents, and not before', async () => {
    await create('NetworkPolicy', src, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'shared' }, spec: { podSelector: { matchLabels: { shared: 'yes' } }, policyTypes: ['Ingress'] } });
    await create('NetworkPolicy', puller, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'mine', annotations: { [`${M}replicate-from`]: `${src}/shared` } }, spec: { podSelector: {} } });
    await waitFor('SourceNotAvailable on the puller', async () => {
      const list = await c.core.listNamespacedEvent({ namespace: puller });
      return list.items.some((e) => e.reason === 'SourceNotAvailable' && e.involvedObject.name === 'mine');
    });
    expect(plain((await get('NetworkPolicy', puller, 'mine'))!.spec)).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    await mergePatch('NetworkPolicy', src, 'shared', { metadata: { annotations: { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: puller } } });
    await waitFor('the pulled spec', async () => JSON.stringify(plain((await get('NetworkPolicy', puller, 'mine'))?.spec)) === JSON.stringify({ podSelector: { matchLabels: { shared: 'yes' } }, policyTypes: ['Ingress'] }));
  });
});

describe('--extra-kinds entries the operator refuses at start', () => {
  /** Runs the real CLI under the chart identity; it must exit at once with a message, not crash or retry. */
  async function start(entry: string) {
    const kubeconfig = await identity.kubeconfigFile();
    const r = spawnSync(process.execPath, [join(repoRoot, 'src', 'main.ts'), 'run', `--kubeconfig=${kubeconfig}`, '--status-addr=127.0.0.1:0', `--extra-kinds=${entry}`, '--log-format=plain'],
      { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH } });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  it.each([
    ['v1/Pod', 'Pod is never replicated: Pods are run by controllers'],
    ['coordination.k8s.io/v1/Lease', 'Lease is never replicated'],
    [`${crdGroup}/v1/Gadget`, `${crdGroup}/v1 has no kind Gadget (kinds there: Widget)`],
    ['nothere.example.com/v1/Thing', 'the API server does not serve nothere.example.com/v1'],
    ['rbac.authorization.k8s.io/v1/ClusterRole', 'ClusterRole is cluster-scoped'],
  ])('%s: exits with "%s"', async (entry, message) => {
    const r = await start(entry);
    expect(r.status).toBe(2);
    expect(r.output).toContain(message);
    expect(r.output).toContain(entry);
    expect(r.output).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('the chart', () => {
  it('renders RBAC for extraKinds and nothing more', () => {
    const rules = (values: string[]) => render(values).find((o) => o.kind === 'ClusterRole' && !o.metadata.name.endsWith('-grantable'))!.rules as Rule[];
    const plain = rules([]);
    const extra = rules([`--set-json=extraKinds=${JSON.stringify(extraKinds)}`]);
    const added = extra.filter((r) => !plain.some((p) => JSON.stringify(p) === JSON.stringify(r)));
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    expect(added).toEqual([
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: all },
      { apiGroups: [''], resources: ['limitranges'], verbs: all },
      { apiGroups: [''], resources: ['resourcequotas'], verbs: all },
      { apiGroups: [crdGroup], resources: ['widgets'], verbs: all },
    ]);
    expect(extra.length).toBe(plain.length + added.length);
  });
});
