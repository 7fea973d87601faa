// `kubectl replicator explain` as a user runs it: the plugin on PATH, kubectl from the test control plane, and the
// operator running as its chart installs it, with its own release (so that the settings it publishes, which explain
// plans with, are its own). One case per reason, -o json parsed, a tenant told what it cannot read, and no Secret
// value in anything printed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinaries } from '../tools/controlplane/binaries.ts';
import { admin, b64, clusterRoleUserKubeconfig, controlPlaneInfo, createNamespace, grantNamespaceAdmin, uniqueName, userKubeConfig, waitFor } from '../test/support/cluster.ts';
import { replicatorAuditEntries, type AuditEntry } from '../tools/controlplane/audit-log.ts';
import { SecretValues } from '../test/support/secret-values.ts';
import { kubectl, OperatorProcess } from './support/process.ts';
import { chartIdentity, withChartArgs, type ChartIdentity } from '../test/support/chart-identity.ts';
import type { NamespaceExplanation, SourceExplanation, TargetExplanation } from '../src/engine/explain.ts';
import type { SettingsOrigin } from '../src/explain-command.ts';
import type { OwnView } from '../src/engine/explain-own.ts';

const c = admin();
const run = uniqueName('explain');
const ns = {
  src: `${run}-src`, platform: `${run}-platform`, a: `${run}-a`, b: `${run}-b`, deny: `${run}-deny`, excl: `${run}-excl`, prot: `${run}-prot`, own: `${run}-own`,
  term: `${run}-term`, late: `${run}-late`,
};
const settings = [`--exclude-namespaces=${ns.excl}`, `--protected-namespaces=kube-system,kube-public,kube-node-lease,${ns.prot}`];
let operator: OperatorProcess;
let identity: ChartIdentity;
/** Explain plans with the settings this suite's operator published (none of the flags above are given to it). */
let fromOperator: string;
const secrets = new SecretValues();
const password = secrets.make('explain-password');
const printed: string[] = [];
const policies = [`${run}-stronger`, `${run}-registry`, `${run}-excluding`, `${run}-rbac`];
/** Holds ns.term in Terminating until afterAll lets it go. */
const hold = 'example.com/explain-test-hold';

/** A directory with `kubectl-replicator` as installed from the package, but running the sources. */
function pluginDir(): string {
  const dir = join(controlPlaneInfo().dir, `plugin-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kubectl-replicator');
  writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${join(import.meta.dirname, '..', 'src', 'kubectl-replicator.ts')}" "$@"\n`);
  chmodSync(file, 0o755);
  return dir;
}

let plugins = '';

/** `kubectl replicator …` through kubectl's plugin lookup: stdout (with stderr on failure) and the exit code. */
function replicator(args: string[], kubeconfig = controlPlaneInfo().kubeconfig): { out: string; err: string; code: number } {
  const dir = controlPlaneInfo().dir;
  const env = { PATH: `${plugins}:${process.env.PATH ?? ''}`, KUBECONFIG: kubeconfig, HOME: dir, KUBECACHEDIR: join(dir, 'kubectl-cache') };
  const r = spawnSync(resolveBinaries().kubectl, ['replicator', ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  printed.push(r.stdout, r.stderr);
  const code = r.status ?? -1;
  const out = code === 0 ? r.stdout : `${r.stdout}${r.stderr}`;
  return { out, err: r.stderr, code };
}

const explainKind = (kind: string, what: string, ...flags: string[]) => replicator(['explain', kind, what, fromOperator, ...flags]);
const explain = (what: string, ...flags: string[]) => explainKind('secret', what, ...flags);

/** Explains until the answer's first line says `state` (the operator may not have reconciled yet), and returns it. */
async function explainedAs(kind: string, what: string, state: string): Promise<string> {
  let out = '';
  await waitFor(`${kind} ${what} to be explained as "${state}"`, async () => (out = explainKind(kind, what).out).split('\n')[0]!.includes(state));
  return out;
}
const json = (what: string, ...flags: string[]) => JSON.parse(explain(what, '-o', 'json', ...flags).out) as { target?: TargetExplanation; source: SourceExplanation | null; settings: SettingsOrigin };

function secret(namespace: string, name: string, annotations: Record<string, string> = {}): Promise<unknown> {
  return c.core.createNamespacedSecret({ namespace, body: { metadata: { name, annotations }, data: { password: b64(password) } } });
}

beforeAll(async () => {
  plugins = pluginDir();
  identity = await chartIdentity(run);
  fromOperator = `--operator-namespace=${identity.namespace}`;
  operator = new OperatorProcess('explain', withChartArgs([...settings, `--settings-configmap=${identity.settingsConfigMap}`], identity), await identity.kubeconfigFile());
  operator.env = { POD_NAMESPACE: identity.namespace };
  for (const n of [ns.src, ns.platform, ns.a, ns.b, ns.excl, ns.prot, ns.own]) await createNamespace(c, n);
  await createNamespace(c, ns.deny, { 'kube-replicator.io/replication': 'deny' });
  // A Secret of the namespace's own, not a replica: a push does not take it over.
  await secret(ns.own, 'creds');
  await secret(ns.src, 'creds', { 'replicator.v1.mittwald.de/replicate-to': [ns.a, ns.b, ns.deny, ns.excl, ns.prot, ns.own].join(',') });
  await secret(ns.src, 'private'); // no consent to pull
  await secret(ns.src, 'badpattern', { 'replicator.v1.mittwald.de/replicate-to': `${run}-nowhere,${run}-[` });
  await secret(ns.a, 'puller', { 'replicator.v1.mittwald.de/replicate-from': `${ns.src}/private` });
  await secret(ns.a, 'puller-missing', { 'replicator.v1.mittwald.de/replicate-from': `${ns.src}/missing-${run}` });
  await secret(ns.platform, 'creds');
  await secret(ns.platform, 'registry');
  await c.core.createNamespacedConfigMap({ namespace: ns.platform, body: { metadata: { name: 'settings' }, data: { 'app.yaml': 'level: info' } } });
  // The other kinds: a Role, a RoleBinding to `view` and a ServiceAccount, by a policy (trusted: RBAC may be pushed).
  await c.rbac.createNamespacedRole({ namespace: ns.platform, body: { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] } });
  await c.rbac.createNamespacedRoleBinding({ namespace: ns.platform, body: {
    metadata: { name: 'reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns.a }],
  } });
  await c.core.createNamespacedServiceAccount({ namespace: ns.platform, body: { metadata: { name: 'reader' } } });
  // A namespace that stays Terminating (a ConfigMap's finalizer holds it) while a push names it.
  await createNamespace(c, ns.term);
  await c.core.createNamespacedConfigMap({ namespace: ns.term, body: { metadata: { name: 'held', finalizers: [hold] } } });
  await c.core.deleteNamespace({ name: ns.term });
  await secret(ns.src, 'late-creds', { 'replicator.v1.mittwald.de/replicate-to': ns.term });
  kubectl(['apply', '-f', '-'], [
    { name: policies[0], kinds: 'Secret', names: ['creds'], targets: `{namespaces: [${ns.b}]}` },
    { name: policies[1], kinds: 'Secret', names: ['registry'], targets: '{namespaceSelector: {matchExpressions: [{key: kube-replicator.io/team, operator: Exists}]}}' },
    { name: policies[2], kinds: 'ConfigMap', names: ['settings'], targets: `{namespaces: [${ns.a}, ${ns.b}], exclude: [${ns.b}]}` },
    { name: policies[3], kinds: 'Role, RoleBinding, ServiceAccount', names: ['reader'], targets: `{namespaces: [${ns.a}]}` },
  ].map((p) => `apiVersion: kube-replicator.io/v1alpha1
kind: ReplicationPolicy
metadata: {name: ${p.name}}
spec:
  kinds: [${p.kinds}]
  source: {namespace: ${ns.platform}, names: [${p.names.join(',')}]}
  targets: ${p.targets}
`).join('---\n'));
  await operator.start();
  await waitFor('the operator to publish its settings', async () => Boolean(await c.core.readNamespacedConfigMap({ namespace: identity.namespace, name: identity.settingsConfigMap }).catch(() => undefined)));
  await waitFor('the replica in a', async () => (await c.core.readNamespacedSecret({ namespace: ns.a, name: 'creds' }).catch(() => undefined))?.metadata?.labels?.['kube-replicator.io/replica'] === 'true');
});

afterAll(async () => {
  await operator.kill('SIGTERM');
  // What the operator published outlives it (as after an uninstall): later suites' explain must not find it.
  await c.core.deleteNamespacedConfigMap({ namespace: identity.namespace, name: identity.settingsConfigMap }).catch(() => undefined);
  await c.core.patchNamespacedConfigMap({ namespace: ns.term, name: 'held', body: [{ op: 'remove', path: '/metadata/finalizers' }] }).catch(() => undefined);
  for (const p of policies) kubectl(['delete', 'replicationpolicy', p, '--ignore-not-found', '--wait=false']);
  for (const n of Object.values(ns)) kubectl(['delete', 'namespace', n, '--ignore-not-found', '--wait=false']);
});

describe('kubectl replicator explain <kind> <namespace>/<name>', () => {
  it('a replica in sync: its rule, the content as hashes, and its last write', () => {
    const { out, err, code } = explain(`${ns.a}/creds`);
    expect(code).toBe(0);
    expect(err).toBe(''); // stdout is the explanation; nothing else is said on success
    expect(out).toContain(`Secret ${ns.a}/creds: in sync: replicated by the annotation rule from ${ns.src}/creds (untrusted)`);
    expect(out).toMatch(/password: sha256:[0-9a-f]{12} \/ sha256:[0-9a-f]{12}\n/);
    expect(out).toMatch(/last write: \d{4}-\d\d-\d\dT\S+ by annotation from \S+-src\/creds \(untrusted\)/);
    const e = json(`${ns.a}/creds`).target!;
    expect(e).toMatchObject({ role: 'replica', outcome: 'InSync', winner: `annotation:Secret/${ns.src}/creds` });
    expect(e.content?.desired).toEqual(e.content?.actual);
  });

  it.each([
    ['deny', 'DenyLabel', 'is labelled kube-replicator.io/replication=deny'],
    ['excl', 'Excluded', 'matches --exclude-namespaces'],
    ['prot', 'ProtectedNamespace', 'it is a protected namespace, and pushes by annotation'],
  ] as const)('a push refused in the %s namespace: %s', (key, reason, message) => {
    const { out } = explain(`${ns[key]}/creds`);
    expect(out).toContain(`Secret ${ns[key]}/creds: not created: ${reason}: `);
    expect(out).toContain(message);
    expect(json(`${ns[key]}/creds`).target!.rules[0]).toMatchObject({ reason, source: `${ns.src}/creds` });
  });

  it('a conflict with an object that is not a replica', () => {
    const { out } = explain(`${ns.own}/creds`);
    expect(out).toContain(`Secret ${ns.own}/creds: Conflict: TargetConflict: Secret ${ns.own}/creds already exists and was not made by a replicator`);
    expect(json(`${ns.own}/creds`).target).toMatchObject({ role: 'other', outcome: 'Conflict' });
  });

  it('how the last writes went: the Events the operator recorded on the object', async () => {
    let out = '';
    await waitFor('the TargetConflict Event', async () => (out = explain(`${ns.own}/creds`).out).includes('Events on it'));
    expect(out).toMatch(/\n {2}kube-replicator's Events on it, newest first:\n {4}\d{4}-\S+ Warning TargetConflict: not replaced by \S+-src\/creds: Secret \S+\/creds already exists and was not made by a replicator/);
    expect(json(`${ns.own}/creds`).target!.events![0]).toMatchObject({ type: 'Warning', reason: 'TargetConflict' });
  });

  it('a conflict with a stronger rule: the policy wins, the annotation is told why it lost', () => {
    const { out } = explain(`${ns.b}/creds`);
    expect(out).toContain(`in sync: replicated by the policy/${policies[0]} rule from ${ns.platform}/creds (trusted)`);
    expect(out).toMatch(/lost +annotation from \S+-src\/creds \(untrusted, priority 0\) {2}RuleConflict: .*a trusted rule always wins over an untrusted one/);
    const e = json(`${ns.b}/creds`).target!;
    expect(e.rules.map((r) => [r.origin, r.state]).sort()).toEqual([['annotation', 'lost'], [`policy/${policies[0]}`, 'winner']]);
  });

  it('no consent for a pull: the puller learns only that the source is not available to it', () => {
    const { out } = explain(`${ns.a}/puller`);
    expect(out).toContain(`Secret ${ns.a}/puller: pulls from ${ns.src}/private (replicate-from): Waiting: SourceNotAvailable: source ${ns.src}/private does not exist or does not permit replication into ${ns.a}`);
    // Whoever may read the source (explain's reader may read every namespace) is told why: the consent check.
    expect(out).toContain(`pulls from: ${ns.src}/private (replicate-from); consent: not permitted: the source does not set replicator.v1.mittwald.de/replication-allowed: "true"`);
  });

  it('an invalid pattern', () => {
    const { out } = explain(`${ns.a}/badpattern`);
    expect(out).toContain(`Secret ${ns.a}/badpattern: not created: InvalidPattern: invalid namespace pattern in the annotations on ${ns.src}/badpattern (it matches nothing): "${run}-[": error parsing regexp`);
  });

  it('a policy that selects by a label the namespace lacks', () => {
    const { out } = explain(`${ns.a}/registry`);
    expect(out).toContain(`not created: NotSelected: ReplicationPolicy ${policies[1]} selects namespaces by label "kube-replicator.io/team" but ${ns.a} lacks kube-replicator.io/team`);
  });

  it('a namespace that has not opted in (a what-if: a planning flag given replaces the operator\'s, and is named)', () => {
    const { out } = explain(`${ns.a}/creds`, '--require-namespace-opt-in');
    expect(out).toContain(`not replicated: NotOptedIn: namespace ${ns.a} has not opted in`);
    expect(out).toContain('; replaced here by --require-namespace-opt-in\n');
    expect(json(`${ns.a}/creds`, '--require-namespace-opt-in').settings).toMatchObject({ from: 'operator', overridden: ['require-namespace-opt-in'] });
  });

  it('no rule at all', () => {
    expect(explain(`${ns.a}/nothing-${run}`).out).toContain(`no rule replicates a Secret named nothing-${run}`);
  });

  it('a source: every namespace it names, by state, with counts', () => {
    const { out } = explain(`${ns.src}/creds`);
    expect(out).toContain(`Secret ${ns.src}/creds: source of 1 rule(s); 1 in sync, 0 pending, 5 refused`);
    expect(out).toContain(`refused (DenyLabel): 1: ${ns.deny}`);
    const s = json(`${ns.src}/creds`).source!;
    expect(Object.fromEntries(s.namespaces.map((n) => [n.namespace, n.state === 'refused' ? n.reason : n.state]))).toEqual({
      [ns.a]: 'inSync', [ns.b]: 'RuleConflict', [ns.deny]: 'DenyLabel', [ns.excl]: 'Excluded', [ns.prot]: 'ProtectedNamespace', [ns.own]: 'TargetConflict',
    });
  });

  it('a source that pull targets name: each with the consent check\'s answer, which the source\'s reader may know', () => {
    const { out } = explain(`${ns.src}/private`);
    expect(out).toContain(`Secret ${ns.src}/private: source of 0 rule(s) and 1 pull target(s); 0 in sync, 0 pending, 1 refused`);
    expect(out).toContain(`refused (ReplicationNotPermitted): 1: ${ns.a}/puller (pull)`);
    expect(out).toMatch(/e\.g\. .*replicator\.v1\.mittwald\.de\/replication-allowed/);
  });

  it('a source whose rule has an invalid pattern says so on the rule', () => {
    expect(explain(`${ns.src}/badpattern`).out).toContain(`InvalidPattern: invalid namespace pattern in the annotations on ${ns.src}/badpattern (it matches nothing): "${run}-[": error parsing regexp`);
  });

  it('explain namespace: what is replicated into it, and what is refused there with the reason', () => {
    const { out, code } = replicator(['explain', 'namespace', ns.a, fromOperator]);
    expect(code).toBe(0);
    expect(out).toContain(`inSync   Secret ${ns.a}/creds  (annotation:Secret/${ns.src}/creds)`);
    expect(out).toContain(`refused  Secret ${ns.a}/puller  SourceNotAvailable: source ${ns.src}/private does not exist or does not permit replication`);
    const deny = JSON.parse(replicator(['explain', 'ns', ns.deny, '-o', 'json', fromOperator]).out) as NamespaceExplanation;
    expect(deny).toMatchObject({ namespace: ns.deny, visible: true, counts: { inSync: 0, pending: 0, refused: 1 } });
    expect(deny.objects).toEqual([expect.objectContaining({ target: `Secret ${ns.deny}/creds`, state: 'refused', reason: 'DenyLabel' })]);
    expect(replicator(['explain', 'namespace', `${run}-missing`, fromOperator]).code).toBe(3);
  });

  it('a namespace being deleted', () => {
    const { out } = explain(`${ns.term}/late-creds`);
    expect(out).toContain(`Secret ${ns.term}/late-creds: not created: Terminating: namespace ${ns.term} is being deleted`);
  });

  it('a namespace the policy excludes, and a ConfigMap replica with its keys hashed', async () => {
    expect(explainKind('configmap', `${ns.b}/settings`).out).toContain(`ConfigMap ${ns.b}/settings: not created: ExcludedByRule: ReplicationPolicy ${policies[2]} excludes ${ns.b} (`);
    const out = await explainedAs('configmap', `${ns.a}/settings`, 'in sync');
    expect(out).toContain(`ConfigMap ${ns.a}/settings: in sync: replicated by the policy/${policies[2]} rule from ${ns.platform}/settings (trusted)`);
    expect(out).toMatch(/\n {4}app\.yaml: (sha256:[0-9a-f]{12}) \/ \1\n/);
  });

  it.each([
    ['role', 'Role'], ['rolebinding', 'RoleBinding'], ['serviceaccount', 'ServiceAccount'],
  ] as const)('a %s replica', async (arg, kind) => {
    const out = await explainedAs(arg, `${ns.a}/reader`, 'in sync');
    expect(out).toContain(`${kind} ${ns.a}/reader: in sync: replicated by the policy/${policies[3]} rule from ${ns.platform}/reader (trusted)`);
    const j = JSON.parse(explainKind(arg, `${ns.a}/reader`, '-o', 'json').out) as { target: TargetExplanation };
    expect(j.target).toMatchObject({ kind, role: 'replica', outcome: 'InSync', winner: `policy:${policies[3]}:${kind}/${ns.platform}/reader` });
  });

  it('pending: with the operator stopped, a changed source and a newly labelled namespace are what a reconcile would do', async () => {
    await operator.kill('SIGTERM');
    await c.core.patchNamespacedSecret({ namespace: ns.src, name: 'creds', body: [{ op: 'replace', path: '/data/password', value: b64(secrets.make('explain-rotated')) }] });
    await createNamespace(c, ns.late, { 'kube-replicator.io/team': 'late' });
    const update = explain(`${ns.a}/creds`).out;
    expect(update).toContain(`Secret ${ns.a}/creds: pending: a reconcile would update it, by the annotation rule from ${ns.src}/creds (untrusted)`);
    expect(update).toMatch(/\n {4}password: sha256:[0-9a-f]{12} \/ sha256:[0-9a-f]{12} {2}differs\n/);
    expect(explain(`${ns.late}/registry`).out).toContain(`Secret ${ns.late}/registry: pending: a reconcile would create it, by the policy/${policies[1]} rule from ${ns.platform}/registry (trusted)`);
    expect(explain(`${ns.src}/creds`).out).toContain('pending (update): 1: ');
    await operator.start();
    await explainedAs('secret', `${ns.a}/creds`, 'in sync');
    await explainedAs('secret', `${ns.late}/registry`, 'in sync');
  });

  it('plans with the running operator\'s settings, which it publishes once and rewrites only when they change', async () => {
    const cm = await c.core.readNamespacedConfigMap({ namespace: identity.namespace, name: identity.settingsConfigMap });
    expect(cm.data).toMatchObject({ 'exclude-namespaces': ns.excl, 'protected-namespaces': `kube-system,kube-public,kube-node-lease,${ns.prot},${identity.namespace}` });
    expect(cm.metadata?.labels?.['kube-replicator.io/operator-settings']).toBe('true');
    const { out } = explain(`${ns.excl}/creds`);
    expect(out).toContain(`\nsettings: the operator's, published in ConfigMap ${identity.namespace}/${identity.settingsConfigMap} by kube-replicator `);
    // The same settings after a restart: no write.
    const checked = () => operator.logs().split('the published settings are current').length - 1;
    const before = checked();
    await operator.kill('SIGTERM');
    await operator.start();
    await waitFor('the restarted operator to check its published settings', async () => checked() === before + 1);
    expect((await c.core.readNamespacedConfigMap({ namespace: identity.namespace, name: identity.settingsConfigMap })).metadata?.resourceVersion).toBe(cm.metadata?.resourceVersion);
  });

  it('says where no operator published its settings, rather than planning with guessed ones', () => {
    const { out, code } = replicator(['explain', 'secret', `${ns.a}/creds`, `--operator-namespace=${ns.b}`]);
    expect(code).toBe(2);
    expect(out).toContain(`explain: no ConfigMap labelled kube-replicator.io/operator-settings=true in namespace ${ns.b}`);
  });

  it('picks no operator\'s settings when a namespace admin labels a ConfigMap of its own like them: says so, and plans with its flags', async () => {
    await c.core.createNamespacedConfigMap({ namespace: ns.b, body: { metadata: { name: 'imitation', labels: { 'kube-replicator.io/operator-settings': 'true' } }, data: { 'exclude-namespaces': '.*' } } });
    try {
      const { out, code } = replicator(['explain', 'secret', `${ns.a}/creds`]);
      expect(code).toBe(0);
      expect(out).toContain(`Secret ${ns.a}/creds: in sync`); // not excluded, as the imitation would have it
      expect(out).toMatch(new RegExp(`\\nsettings: \\d+ ConfigMaps labelled kube-replicator\\.io/operator-settings=true \\(.*${ns.b}/imitation.*\\); name the operator's with --operator-namespace: planned with this command's flags\\n$`));
      expect(explain(`${ns.a}/creds`).out).toContain(`\nsettings: the operator's, published in ConfigMap ${identity.namespace}/`);
    } finally {
      await c.core.deleteNamespacedConfigMap({ namespace: ns.b, name: 'imitation' });
    }
  });

  it('a tenant who may not read every namespace gets what its own reads show: its objects and their Events, no more', async () => {
    const user = uniqueName('explain-tenant');
    await grantNamespaceAdmin(c, ns.a, user);
    const file = join(controlPlaneInfo().dir, `${user}.kubeconfig`);
    writeFileSync(file, userKubeConfig(user).exportConfig(), { mode: 0o600 });
    const asTenant = (...args: string[]) => replicator(['explain', ...args], file);
    const replica = asTenant('secret', `${ns.a}/creds`);
    expect(replica.code).toBe(3);
    expect(replica.out).toMatch(/^not visible: explaining Secret \S+\/creds needs to list namespaces, replicationpolicies\.kube-replicator\.io, secrets, .* in every namespace, and your identity may not; nothing is guessed\n/);
    expect(replica.out).toContain(`Secret ${ns.a}/creds: a replica of ${ns.src}/creds by the annotation rule (untrusted), last written 20`);
    expect(replica.out).toMatch(/keys: password sha256:[0-9a-f]{12}\n/);
    // A refused pull: the Event the tenant may read, told alike whether the source is missing or has not consented
    // (the consent check is the source owner's business), as the operator's Events are (#11).
    const view = async (name: string, source: string) => {
      let out = '';
      await waitFor(`kube-replicator's Event on ${name}`, async () => (out = asTenant('secret', `${ns.a}/${name}`).out).includes('SourceNotAvailable'));
      return out.replaceAll(source, '<source>').replaceAll(name, '<name>').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
        .replace(/sha256:[0-9a-f]{12}/g, '<salted hash>'); // salted afresh for each run
    };
    const refused = await view('puller', `${ns.src}/private`);
    expect(refused).toContain(`Secret ${ns.a}/<name>: pulls from <source> (replicate-from), nothing copied yet; kube-replicator's latest Event on it: Warning SourceNotAvailable: source <source> does not exist or does not permit replication into ${ns.a}`);
    expect(refused).not.toMatch(/consent:|not permitted|does not set/); // what explain tells whoever may read the source
    expect(await view('puller-missing', `${ns.src}/missing-${run}`)).toBe(refused);
    // Where it may read nothing, nothing is said beyond that.
    const elsewhere = asTenant('secret', `${ns.b}/creds`);
    expect(elsewhere.out).toMatch(/^not visible: explaining Secret \S+\/creds needs to list .* nothing is guessed\n$/);
    expect(elsewhere.out).not.toContain(ns.platform);
    const j = JSON.parse(asTenant('namespace', ns.a, '-o', 'json').out) as OwnView;
    expect(j.visible).toBe(false);
    expect(j.notVisible).toEqual(expect.arrayContaining(['namespaces', 'secrets', 'replicationpolicies.kube-replicator.io']));
    expect(Object.fromEntries(j.namespaceView!.objects.map((o) => [o.target, o.role]))).toMatchObject({
      [`Secret ${ns.a}/creds`]: 'replica', [`Secret ${ns.a}/puller`]: 'pullTarget', [`Secret ${ns.a}/puller-missing`]: 'pullTarget',
    });
    expect(j.namespaceView!.objects.find((o) => o.target === `Secret ${ns.a}/puller`)!.events[0]).toMatchObject({ type: 'Warning', reason: 'SourceNotAvailable' });
  });

  it('writes nothing: a cluster-wide reader (get, list, watch) gets the whole answer, and the audit log has no write of it', async () => {
    const viewer = uniqueName('explain-viewer');
    const kubeconfig = await clusterRoleUserKubeconfig(viewer, [
      { apiGroups: [''], resources: ['namespaces', 'secrets', 'configmaps', 'serviceaccounts', 'events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['kube-replicator.io'], resources: ['replicationpolicies'], verbs: ['get', 'list', 'watch'] },
    ]);
    const offset = statSync(controlPlaneInfo().auditLog).size;
    const asViewer = (...args: string[]) => replicator(['explain', ...args, fromOperator], kubeconfig);
    expect(asViewer('secret', `${ns.src}/creds`)).toMatchObject({ code: 0, out: expect.stringContaining(`Secret ${ns.src}/creds: source of 1 rule(s)`) });
    expect(asViewer('namespace', ns.a)).toMatchObject({ code: 0, out: expect.stringContaining(`inSync   Secret ${ns.a}/creds`) });
    // The audit log records writes only (every verb but get, list, watch), refused ones too. Explain's access reviews
    // are creates that persist nothing: once they are in, anything else the viewer wrote would be too.
    let entries: AuditEntry[] = [];
    await waitFor('the viewer\'s access reviews in the audit log', async () => (entries = replicatorAuditEntries(controlPlaneInfo().auditLog, offset).filter((e) => e.user.username === viewer)).length > 0);
    expect(entries.filter((e) => e.objectRef?.resource !== 'selfsubjectaccessreviews')).toEqual([]);
  });

  it('no Secret value appears in anything printed', () => {
    expect(printed.length).toBeGreaterThan(10);
    const all = printed.join('\n');
    for (const v of secrets.all) {
      expect(all).not.toContain(v);
      expect(all).not.toContain(b64(v));
    }
  });
});
