// Events on the real API server: a source that conflicts in thousands of namespaces must not become thousands of
// Events on one object, nor one read of all of them per Event.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeClient } from '../src/kube/client.ts';
import { distinctPerReason, EventRecorder, type RecordedEvent } from '../src/kube/events.ts';
import { accessOf, admin, createNamespace, deleteNamespace, uniqueName, waitFor } from './support/cluster.ts';
import { chartIdentity } from './support/chart-identity.ts';

const c = admin();
const ns = uniqueName('events');
let client: KubeClient;
let involved: RecordedEvent['involved'];
const requests: string[] = [];

beforeAll(async () => {
  await createNamespace(c, ns);
  const cm = await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'source' } } });
  involved = { apiVersion: 'v1', kind: 'ConfigMap', name: 'source', namespace: ns, uid: cm.metadata!.uid! };
  // The operator's own identity, as the chart grants it.
  client = new KubeClient(await accessOf(await (await chartIdentity()).kubeConfig()));
  client.onRequest((r) => requests.push(`${r.method} ${r.path}`));
});
afterAll(() => deleteNamespace(c, ns, false));

const conflict = (i: number): RecordedEvent => ({ involved, type: 'Warning', reason: 'RuleConflict', message: `target namespace team-${i}: another rule wins` });
const events = async () => (await c.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.uid=${involved.uid}` })).items;

describe('EventRecorder', () => {
  it(`records ${distinctPerReason} distinct Events of a reason on one object, then one that combines the rest, then none`, async () => {
    const recorder = new EventRecorder(client);
    for (let i = 0; i < 200; i++) recorder.record(conflict(i));
    const list = await waitFor('the Events', async () => { const l = await events(); return l.length === distinctPerReason + 1 ? l : undefined; });
    const combined = list.filter((e) => e.message!.startsWith(`more than ${distinctPerReason} RuleConflict Events on this object within 10 minutes`));
    expect(combined).toHaveLength(1);
    expect(combined[0]!.message).toContain('(the latest: target namespace team-25: another rule wins); `kubectl replicator explain` lists them all');
    // Another reason on the same object has its own allowance.
    recorder.record({ ...conflict(0), reason: 'TargetConflict' });
    await waitFor('the TargetConflict Event', async () => (await events()).some((e) => e.reason === 'TargetConflict'));
    // One read of the object's existing Events per reason, not one per Event.
    expect(requests.filter((r) => r.startsWith('GET ') && r.includes('/events'))).toHaveLength(2);
  });

  it('after a restart, Events the cluster already has are not recorded again, at the cost of one read', async () => {
    const before = (await events()).length;
    requests.length = 0;
    const restarted = new EventRecorder(client);
    for (let i = 0; i < 10; i++) restarted.record(conflict(i));
    await waitFor('the read', () => requests.some((r) => r.startsWith('GET ')));
    // A new message is still recorded: the read is done, and the reads stay one.
    restarted.record({ ...conflict(0), reason: 'TargetConflict', message: 'a new one' });
    await waitFor('the new Event', async () => (await events()).some((e) => e.message === 'a new one'));
    expect((await events()).length).toBe(before + 1);
    expect(requests.filter((r) => r.startsWith('POST '))).toHaveLength(1);
    expect(requests.filter((r) => r.startsWith('GET '))).toHaveLength(2);
  });
});
