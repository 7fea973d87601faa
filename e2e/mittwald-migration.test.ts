// A mittwald/kubernetes-replicator Helm release, upgraded in place to this chart the way the chart README's
// "Migrating a mittwald release in place" says, on a control plane of its own: a cluster that has never seen
// kube-replicator, so no ReplicationPolicy CRD exists until the upgrade brings it. The replicas mittwald made (its
// Pods cannot run here, so they are written as mittwald v2.12.4 writes them) are then taken over by the operator
// running as the chart's ServiceAccount with the chart's arguments.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigYaml, startControlPlane, type ControlPlane } from '../tools/controlplane/controlplane.ts';
import { chart, helm, parseObjects, repoRoot } from '../test/support/helm.ts';
import { b64, clientsFor, decoded, maybe, waitFor, type Clients } from '../test/support/cluster.ts';
import { OperatorProcess } from './support/process.ts';

const M = 'replicator.v1.mittwald.de/';
const KR = 'kube-replicator.io/';
const mittwaldChart = join(repoRoot, 'test', 'fixtures', 'mittwald-chart');
const release = 'kubernetes-replicator';
const ns = 'kube-system';
const fullname = `${release}-kube-replicator`; // the release name does not contain the chart's name

let cp: ControlPlane;
let c: Clients;
let operator: OperatorProcess | undefined;
const onCp = (args: string[]) => helm([...args, '--kubeconfig', cp.kubeconfig]);
const kubectl = (args: string[]) => execFileSync(cp.binaries.kubectl, ['--kubeconfig', cp.kubeconfig, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cp.dir } });

/** A copy of `source` as mittwald v2.12.4 leaves it in `namespace`: its three bookkeeping annotations, nothing of ours. */
function mittwaldCopy(source: k8s.V1Secret | k8s.V1ConfigMap, namespace: string): { metadata: { name: string; namespace: string; annotations: Record<string, string> }; data?: Record<string, string> } {
  const keys = Object.keys(source.data ?? {}).sort().join(',');
  return {
    metadata: { name: source.metadata!.name!, namespace, annotations: {
      [`${M}replicated-at`]: new Date().toISOString(), [`${M}replicated-from-version`]: source.metadata!.resourceVersion!, [`${M}replicated-keys`]: keys,
    } },
    data: source.data,
  };
}

beforeAll(async () => {
  cp = await startControlPlane();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  c = clientsFor(kc);
  const r = onCp(['install', release, mittwaldChart, '--namespace', ns]);
  if (r.status !== 0) throw new Error(`installing mittwald's chart failed: ${r.stderr}`);
}, 180_000);

afterAll(async () => {
  await operator?.kill('SIGTERM');
  await cp?.stop();
});

describe('helm upgrade of a mittwald release to this chart, in place', () => {
  const replicas: { kind: 'Secret' | 'ConfigMap'; namespace: string; name: string; data: Record<string, string> }[] = [];
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  it('starts from what mittwald\'s chart installs: its Deployment and RBAC, no ReplicationPolicy CRD', async () => {
    const apps = c.kc.makeApiClient(k8s.AppsV1Api);
    const d = await apps.readNamespacedDeployment({ namespace: ns, name: release });
    expect(d.spec!.template.spec!.containers[0]!.image).toBe('quay.io/mittwald/kubernetes-replicator:v2.12.4');
    expect(await maybe(c.kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: 'replicationpolicies.kube-replicator.io' }))).toBeUndefined();

    // What mittwald replicated: a Secret pushed by annotation to two namespaces, a ConfigMap pulled into one.
    for (const n of ['platform', 'team-a', 'team-b']) await c.core.createNamespace({ body: { metadata: { name: n } } });
    const secret = await c.core.createNamespacedSecret({ namespace: 'platform', body: {
      metadata: { name: 'registry', annotations: { [`${M}replicate-to`]: 'team-a,team-b' } }, data: { '.dockerconfigjson': b64('{"auths":{}}') }, type: 'kubernetes.io/dockerconfigjson',
    } });
    const config = await c.core.createNamespacedConfigMap({ namespace: 'platform', body: {
      metadata: { name: 'ca-bundle', annotations: { [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: 'team-a' } }, data: { 'ca.crt': 'PEM' },
    } });
    for (const team of ['team-a', 'team-b']) {
      await c.core.createNamespacedSecret({ namespace: team, body: { ...mittwaldCopy(secret, team), type: 'kubernetes.io/dockerconfigjson' } });
      replicas.push({ kind: 'Secret', namespace: team, name: 'registry', data: decoded(secret.data) });
    }
    const pulled = mittwaldCopy(config, 'team-a');
    pulled.metadata.annotations[`${M}replicate-from`] = 'platform/ca-bundle';
    await c.core.createNamespacedConfigMap({ namespace: 'team-a', body: pulled });
    replicas.push({ kind: 'ConfigMap', namespace: 'team-a', name: 'ca-bundle', data: { 'ca.crt': 'PEM' } });
  });

  it('refuses to reuse mittwald\'s values, naming them, and refuses a carried-over mittwald image tag', () => {
    const reused = onCp(['upgrade', release, chart, '--namespace', ns, '--reuse-values']);
    expect(reused.status).toBe(1);
    expect(reused.stderr).toContain("values don't meet the specifications of the schema");
    expect(reused.stderr).toMatch(/grantClusterAdmin|replicationEnabled/);
    const tag = onCp(['upgrade', release, chart, '--namespace', ns, '--reset-values', '--set', 'image.tag=v2.12.4']);
    expect(tag.status).toBe(1);
    expect(tag.stderr).toContain('image.tag=v2.12.4 is a mittwald/kubernetes-replicator version');
    // Nothing changed: the release is still mittwald's.
    expect(JSON.parse(onCp(['list', '--namespace', ns, '-o', 'json']).stdout)[0].chart).toBe('kubernetes-replicator-2.12.4');
  });

  it('upgrades with --reset-values and translated values: mittwald\'s objects go, the CRD is installed and served', async () => {
    const values = join(cp.dir, 'migration-values.yaml');
    writeFileSync(values, 'trustedSourceNamespaces: [platform]\nreplicas: 1\n');
    const up = onCp(['upgrade', release, chart, '--namespace', ns, '--reset-values', '-f', values]);
    expect({ status: up.status, stderr: up.stderr.split('\n').filter((l) => l && !l.includes('symbolic link')).join('\n') }).toEqual({ status: 0, stderr: '' });
    expect(up.stdout).toContain('The ReplicationPolicy CRD is part of this release');

    const apps = c.kc.makeApiClient(k8s.AppsV1Api);
    await waitFor('mittwald\'s Deployment to be gone', async () => !(await maybe(apps.readNamespacedDeployment({ namespace: ns, name: release }))));
    expect(await maybe(c.rbac.readClusterRole({ name: release }))).toBeUndefined();
    expect((await apps.readNamespacedDeployment({ namespace: ns, name: fullname })).spec!.template.spec!.serviceAccountName).toBe(fullname);

    const crd = await waitFor('the CRD to be Established', async () => {
      const got = await maybe(c.kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: 'replicationpolicies.kube-replicator.io' }));
      return got?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? got : undefined;
    });
    expect(crd.metadata!.annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep', 'meta.helm.sh/release-name': release });
    expect(kubectl(['get', 'replicationpolicies'])).toBe('');
  });

  it('the operator, as the chart\'s ServiceAccount with the chart\'s arguments, takes over every replica mittwald made', async () => {
    const deployment = parseObjects(onCp(['get', 'manifest', release, '--namespace', ns]).stdout).find((o) => o.kind === 'Deployment')!;
    const args: string[] = deployment.spec.template.spec.containers[0].args;
    expect(args).toContain('--trusted-source-namespaces=platform');
    const token = kubectl(['create', 'token', fullname, '--namespace', ns]).trim();
    const kubeconfig = join(cp.dir, 'operator.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(cp.server, cp.pki.caCert, { token }, `system:serviceaccount:${ns}:${fullname}`), { mode: 0o600 });
    operator = new OperatorProcess('migration', args.slice(1), kubeconfig);
    operator.env = { POD_NAMESPACE: ns };
    await operator.start();

    // Pushed replicas get kube-replicator's provenance (one update each); a pull target keeps mittwald's bookkeeping.
    for (const r of replicas.filter((x) => x.kind === 'Secret')) {
      const taken = await waitFor(`${r.kind} ${r.namespace}/${r.name} taken over`, async () => {
        const o = await c.core.readNamespacedSecret({ namespace: r.namespace, name: r.name });
        return o.metadata!.labels?.[`${KR}replica`] === 'true' ? o : undefined;
      }, 60_000);
      expect(taken.metadata!.annotations![`${KR}source`]).toBe(`platform/${r.name}`);
      expect(decoded(taken.data)).toEqual(r.data);
    }
    // Taken over means kept current: each source changes, and every replica follows.
    await c.core.patchNamespacedSecret({ namespace: 'platform', name: 'registry', body: { data: { '.dockerconfigjson': b64('{"auths":{"r.example":{}}}') } } }, mergePatch);
    await c.core.patchNamespacedConfigMap({ namespace: 'platform', name: 'ca-bundle', body: { data: { 'ca.crt': 'PEM-2' } } }, mergePatch);
    for (const team of ['team-a', 'team-b']) {
      await waitFor(`${team}/registry to follow its source`, async () => decoded((await c.core.readNamespacedSecret({ namespace: team, name: 'registry' })).data)['.dockerconfigjson'] === '{"auths":{"r.example":{}}}', 60_000);
    }
    await waitFor('team-a/ca-bundle (pulled) to follow its source', async () => (await c.core.readNamespacedConfigMap({ namespace: 'team-a', name: 'ca-bundle' })).data?.['ca.crt'] === 'PEM-2', 60_000);
    // A ReplicationPolicy works too: the CRD came with the upgrade.
    await c.custom.createClusterCustomObject({ group: 'kube-replicator.io', version: 'v1alpha1', plural: 'replicationpolicies', body: {
      apiVersion: 'kube-replicator.io/v1alpha1', kind: 'ReplicationPolicy', metadata: { name: 'ca-bundle' },
      spec: { kinds: ['ConfigMap'], source: { namespace: 'platform', names: ['ca-bundle'] }, targets: { namespaces: ['team-b'] } },
    } });
    const pulledByPolicy = await waitFor('the policy\'s replica', () => maybe(c.core.readNamespacedConfigMap({ namespace: 'team-b', name: 'ca-bundle' })), 60_000);
    expect(pulledByPolicy.data).toEqual({ 'ca.crt': 'PEM-2' });
  });
});
