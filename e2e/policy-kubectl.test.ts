// ReplicationPolicy as a cluster admin uses it: the sample applied with kubectl, health read with
// `kubectl get/describe`, invalid specs refused (by the API server where the schema can say so, otherwise
// reported on the policy), and the status subresource written only when the status changes (audit log).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { admin, b64, uniqueName, waitFor } from '../test/support/cluster.ts';
import { AuditWrites, kubectl, OperatorProcess } from './support/process.ts';

const samples = join(import.meta.dirname, '..', 'config', 'samples', 'policies');
const sample = join(samples, 'registry-credentials.yaml');
const run = uniqueName('rpol');
const teams = [`${run}-alpha`, `${run}-beta`];
const otherSource = `${run}-other-src`;
const created: { kind: string; name: string }[] = [];
const resyncSeconds = 5;
const operator = new OperatorProcess('policy-kubectl', [`--resync-period=${resyncSeconds}s`]);
const audit = new AuditWrites();

interface Condition { type: string; status: string; reason: string; message: string }
interface PolicyJson {
  metadata: { name: string; generation: number; uid: string };
  status?: { observedGeneration?: number; sources?: number; targetNamespaces?: number; inSync?: number; failed?: number; conflicts?: number; lastSyncTime?: string; conditions?: Condition[] };
}

/** Every version of every policy seen by a watch: when a write count is off, the failure shows what changed. */
const versions: { at: string; type: string; name: string; resourceVersion: string; status?: unknown }[] = [];
let watch: AbortController | undefined;

beforeAll(async () => {
  watch = await new k8s.Watch(admin().kc).watch('/apis/kube-replicator.io/v1alpha1/replicationpolicies', {}, (type, obj: PolicyJson & { metadata: { resourceVersion: string } }) => {
    versions.push({ at: new Date().toISOString(), type, name: obj.metadata.name, resourceVersion: obj.metadata.resourceVersion, status: obj.status });
  }, () => undefined);
  await operator.start();
});

afterAll(async () => {
  watch?.abort();
  await operator.kill('SIGTERM');
  for (const { kind, name } of created.reverse()) kubectl(['delete', kind, name, '--ignore-not-found', '--wait=false']);
  kubectl(['delete', '-f', sample, '--ignore-not-found', '--wait=false']);
  for (const n of teams) kubectl(['delete', 'namespace', n, '--ignore-not-found', '--wait=false']);
});

/** Runs kubectl expecting it to fail; returns what it printed on stderr. */
function kubectlFails(args: string[], input?: string): string {
  try {
    kubectl(args, input);
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded, but it should have failed`);
}

const getPolicy = (name: string) => JSON.parse(kubectl(['get', 'replicationpolicies', name, '-o', 'json'])) as PolicyJson;
const condition = (p: PolicyJson, type: string) => p.status?.conditions?.find((c) => c.type === type);
const current = (p: PolicyJson) => p.status?.observedGeneration === p.metadata.generation;

function policyYaml(name: string, spec: Record<string, unknown>): string {
  return stringify({ apiVersion: 'kube-replicator.io/v1alpha1', kind: 'ReplicationPolicy', metadata: { name }, spec });
}

function applyPolicy(name: string, spec: Record<string, unknown>): void {
  created.push({ kind: 'replicationpolicy', name });
  kubectl(['apply', '-f', '-'], policyYaml(name, spec));
}

/** Sum of a metric family on the operator's /metrics. */
async function metricSum(name: string): Promise<number> {
  const text = await (await fetch(`${operator.statusUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

/** Waits for `resyncs` further full resyncs (the last-sync gauge moving on), and at least `reconciles` reconciles. */
async function waitForResyncs(resyncs: number, reconciles: number): Promise<void> {
  const seen = new Set<number>([await metricSum('kube_replicator_last_sync_timestamp_seconds')]);
  const base = await metricSum('kube_replicator_reconcile_total');
  await waitFor(`${resyncs} full resyncs and ${reconciles} reconciles`, async () => {
    seen.add(await metricSum('kube_replicator_last_sync_timestamp_seconds'));
    return seen.size > resyncs && (await metricSum('kube_replicator_reconcile_total')) >= base + reconciles;
  }, (resyncs + 3) * resyncSeconds * 1000);
}

const statusWrites = (name: string) => audit.writes().filter((w) => w.resource === 'replicationpolicies' && w.name === name);

/** Asserts the writes to one policy since the audit mark; on a mismatch, prints the versions the watch saw since `since`. */
function expectStatusWrites(name: string, expected: { verb: string; resource: string; subresource?: string; name: string }[], since: string): void {
  const got = statusWrites(name);
  if (JSON.stringify(got.map((w) => [w.verb, w.resource, w.subresource, w.name])) !== JSON.stringify(expected.map((w) => [w.verb, w.resource, w.subresource, w.name]))) {
    process.stderr.write(`policy ${name} versions since ${since}:\n${versions.filter((v) => v.name === name && v.at >= since).map((v) => JSON.stringify(v)).join('\n')}\n`);
  }
  expect(got).toEqual(expected);
}

describe('ReplicationPolicy with kubectl', () => {
  it('the registry-credentials sample: kubectl get shows it Ready with its counts; describe shows its conditions', async () => {
    kubectl(['apply', '-f', sample]);
    for (const [i, n] of teams.entries()) {
      kubectl(['create', 'namespace', n]);
      kubectl(['label', 'namespace', n, `kube-replicator.io/team=team-${i}`]);
    }
    const source = JSON.parse(kubectl(['get', 'secret', 'registry-credentials', '-n', 'platform', '-o', 'json'])) as { data: Record<string, string> };
    for (const n of teams) {
      await waitFor(`the replica in ${n}`, () => {
        const r = JSON.parse(kubectl(['get', 'secrets', '-n', n, '-o', 'json'])) as { items: { metadata: { name: string }; type: string; data: Record<string, string> }[] };
        const replica = r.items.find((s) => s.metadata.name === 'registry-credentials');
        return replica?.type === 'kubernetes.io/dockerconfigjson' && replica.data['.dockerconfigjson'] === source.data['.dockerconfigjson'];
      });
    }
    const p = await waitFor('registry-credentials Ready with 1 source and 2 targets in sync', () => {
      const got = getPolicy('registry-credentials');
      return current(got) && condition(got, 'Ready')?.status === 'True' && got.status?.inSync === 2 ? got : undefined;
    });
    expect(p.status).toMatchObject({ sources: 1, targetNamespaces: 2, inSync: 2, failed: 0, conflicts: 0 });
    expect(condition(p, 'Ready')!.reason).toBe('InSync');
    expect(condition(p, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(condition(p, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });

    const table = kubectl(['get', 'replicationpolicies']).split('\n');
    expect(table[0]).toMatch(/^NAME\s+READY\s+SOURCES\s+TARGETS\s+IN SYNC\s+CONFLICTS\s+AGE$/);
    expect(table.find((l) => l.startsWith('registry-credentials '))).toMatch(/^registry-credentials\s+True\s+1\s+2\s+2\s+0\s+\S+$/);
    // The short name and the wide REASON column.
    expect(kubectl(['get', 'rpol', 'registry-credentials', '-o', 'wide'])).toMatch(/REASON[\s\S]*registry-credentials\s+True\s+1\s+2\s+2\s+0\s+InSync/);

    const described = kubectl(['describe', 'replicationpolicy', 'registry-credentials']);
    expect(described).toContain('Conditions:');
    for (const [type, status, reason] of [['Ready', 'True', 'InSync'], ['Progressing', 'False', 'Complete'], ['Degraded', 'False', 'AsExpected']]) {
      expect(described).toMatch(new RegExp(`Reason:\\s+${reason}\\s+Status:\\s+${status}\\s+Type:\\s+${type}`));
    }
  });

  it('kubectl explain describes the kind and its fields', () => {
    expect(kubectl(['explain', 'replicationpolicy'])).toContain('keeps copies of Secrets');
    expect(kubectl(['explain', 'replicationpolicy.spec.source.namespace'])).toContain('The one namespace the sources live in.');
    expect(kubectl(['explain', 'replicationpolicy.spec.targets.namespaceSelector'])).toContain('A label selector');
    expect(kubectl(['explain', 'replicationpolicy.status.inSync'])).toContain('Replicas that exist and equal their source.');
  });

  it('specs the schema can refuse are refused by the API server, naming the field', () => {
    const name = `${run}-refused`;
    const base = { kinds: ['Secret'], source: { namespace: 'platform', names: ['x'] }, targets: { namespaces: ['*'] } };
    const noNames = kubectlFails(['apply', '-f', '-'], policyYaml(name, { ...base, source: { namespace: 'platform' } }));
    expect(noNames).toContain('spec.source');
    expect(noNames).toContain('source needs names or a selector');
    const onConflict = kubectlFails(['apply', '-f', '-'], policyYaml(name, { ...base, onConflict: 'Replace' }));
    expect(onConflict).toMatch(/spec\.onConflict: Unsupported value: "Replace"/);
    const noKinds = kubectlFails(['apply', '-f', '-'], policyYaml(name, { ...base, kinds: [] }));
    expect(noKinds).toMatch(/spec\.kinds.*at least 1 items/);
    const noTargets = kubectlFails(['apply', '-f', '-'], policyYaml(name, { ...base, targets: {} }));
    expect(noTargets).toContain('targets needs namespaces or a namespaceSelector');
    expect(kubectlFails(['get', 'replicationpolicy', name])).toContain('NotFound');
  });

  it('specs only the operator can judge (RE2 patterns) are accepted, then reported: Ready=False InvalidSpec and an Event', async () => {
    const cases = [
      { name: `${run}-bad-source`, spec: { kinds: ['Secret'], source: { namespace: 'platform', names: ['(?!x)'] }, targets: { namespaces: ['*'] } }, field: 'spec.source.names[0]' },
      { name: `${run}-bad-targets`, spec: { kinds: ['Secret'], source: { namespace: 'platform', names: ['x'] }, targets: { namespaces: ['ns-['] } }, field: 'spec.targets.namespaces' },
    ];
    for (const { name, spec } of cases) applyPolicy(name, spec);
    for (const { name, field } of cases) {
      const p = await waitFor(`${name} to report InvalidSpec`, () => {
        const got = getPolicy(name);
        return current(got) && condition(got, 'Ready')?.reason === 'InvalidSpec' ? got : undefined;
      });
      expect(condition(p, 'Ready')!.status).toBe('False');
      expect(condition(p, 'Ready')!.message).toContain(field);
      expect(condition(p, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
      expect(p.status).toMatchObject({ sources: 0, inSync: 0 });
      // A cluster-scoped object's Events are in `default`.
      const event = await waitFor(`Event InvalidSpec on ${name}`, () => {
        const list = JSON.parse(kubectl(['get', 'events', '-n', 'default', `--field-selector=involvedObject.name=${name},reason=InvalidSpec`, '-o', 'json'])) as { items: { type: string; message: string; involvedObject: { kind: string; uid: string } }[] };
        return list.items[0];
      });
      expect(event).toMatchObject({ type: 'Warning', involvedObject: { kind: 'ReplicationPolicy', uid: p.metadata.uid } });
      expect(event.message).toContain(field);
      expect(kubectl(['describe', 'replicationpolicy', name])).toMatch(/InvalidSpec/);
    }
  });

  it('no status write while nothing changes (full resyncs), exactly one for a source edit, none for an unaffected policy', async () => {
    // A second policy on another source into the same namespaces, to show that an edit touches only its own policy.
    kubectl(['create', 'namespace', otherSource]);
    created.push({ kind: 'namespace', name: otherSource });
    kubectl(['create', 'secret', 'generic', 'other-token', '-n', otherSource, '--from-literal=token=one']);
    const other = `${run}-other`;
    applyPolicy(other, { kinds: ['Secret'], source: { namespace: otherSource, names: ['other-token'] }, targets: { namespaceSelector: { matchExpressions: [{ key: 'kube-replicator.io/team', operator: 'Exists' }] } } });
    for (const name of ['registry-credentials', other]) {
      await waitFor(`${name} Ready with 2 in sync`, () => {
        const got = getPolicy(name);
        return current(got) && condition(got, 'Ready')?.status === 'True' && got.status?.inSync === 2;
      });
    }
    // Both policies are settled: their statuses stay equal from here on while nothing changes.
    const targets = 4;
    let since = new Date().toISOString();
    audit.mark();
    await waitForResyncs(3, 3 * targets);
    expectStatusWrites('registry-credentials', [], since);
    expectStatusWrites(other, [], since);

    const before = getPolicy('registry-credentials');
    since = new Date().toISOString();
    audit.mark();
    kubectl(['patch', 'secret', 'registry-credentials', '-n', 'platform', '--type=merge', '-p', JSON.stringify({ data: { '.dockerconfigjson': b64('{"auths":{"registry.example.com":{"auth":"cm90YXRlZA=="}}}') } })]);
    for (const n of teams) {
      await waitFor(`the edit to reach ${n}`, () => kubectl(['get', 'secret', 'registry-credentials', '-n', n, '-o', 'jsonpath={.data.\\.dockerconfigjson}']) === b64('{"auths":{"registry.example.com":{"auth":"cm90YXRlZA=="}}}'));
    }
    const after = await waitFor('a new lastSyncTime on registry-credentials', () => {
      const got = getPolicy('registry-credentials');
      return got.status?.lastSyncTime !== before.status?.lastSyncTime ? got : undefined;
    });
    expect(condition(after, 'Ready')?.status).toBe('True');
    // Any further write would follow within the debounce (~1 s): two more resyncs leave it ample time.
    await waitForResyncs(2, 2 * targets);
    expectStatusWrites('registry-credentials', [{ verb: 'patch', resource: 'replicationpolicies', subresource: 'status', name: 'registry-credentials' }], since);
    expectStatusWrites(other, [], since);
  }, 120_000);
});
