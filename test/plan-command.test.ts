// `kube-replicator plan -f policy.yaml` shows what a policy would create and delete, and writes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from '../src/cli/flags.ts';
import { runPlan } from '../src/plan-command.ts';
import { admin, b64, controlPlaneInfo, createNamespace, deleteNamespace, maybe, uniqueName } from './support/cluster.ts';

const c = admin();
const src = uniqueName('plan-src');
const team = uniqueName('plan-team');
const other = uniqueName('plan-other');

beforeAll(async () => {
  await createNamespace(c, src);
  await createNamespace(c, team, { [`plan-${src}`]: 'yes' });
  await createNamespace(c, other);
  await c.core.createNamespacedSecret({ namespace: src, body: { metadata: { name: 'creds' }, data: { k: b64('v') } } });
});
afterAll(async () => {
  await Promise.all([src, team, other].map((n) => deleteNamespace(c, n, false)));
});

async function plan(yaml: string): Promise<{ text: string; exit: typeof process.exitCode }> {
  const file = join(controlPlaneInfo().dir, `${uniqueName('plan')}.yaml`);
  writeFileSync(file, yaml);
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const before = process.exitCode;
  await runPlan(parseArgs(['plan', '-f', file, `--kubeconfig=${controlPlaneInfo().kubeconfig}`]), out);
  const exit = process.exitCode;
  process.exitCode = before;
  return { text, exit };
}

const policy = (name: string, targets: string) => `apiVersion: kube-replicator.io/v1alpha1
kind: ReplicationPolicy
metadata: {name: ${name}}
spec:
  kinds: [Secret]
  source: {namespace: ${src}, names: [creds]}
  targets: ${targets}
`;

describe('plan -f', () => {
  it('lists the replicas a policy would create, and creates none of them', async () => {
    const { text } = await plan(policy(uniqueName('p'), `{namespaceSelector: {matchLabels: {plan-${src}: "yes"}}}`));
    expect(text).toContain(`create   Secret ${team}/creds`);
    expect(text).not.toContain(`${other}/creds`);
    expect(await maybe(c.core.readNamespacedSecret({ namespace: team, name: 'creds' }))).toBeUndefined();
  });

  it('reports an invalid policy field by field and exits non-zero', async () => {
    const { text, exit } = await plan(policy(uniqueName('bad'), '{namespaces: ["ns-["]}'));
    expect(text).toMatch(/invalid {2}policy bad-[0-9a-f]+: spec\.targets\.namespaces: pattern "ns-\["/);
    expect(exit).toBe(1);
  });

  it('a file without a ReplicationPolicy is said to be one, and exits non-zero', async () => {
    const { text, exit } = await plan('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    expect(text).toMatch(/invalid {2}\S+\.yaml holds no ReplicationPolicy/);
    expect(exit).toBe(1);
  });
});
