// Packaging: the Helm chart (charts/kube-replicator) and the kustomize manifests (config/) lint, render, agree
// with each other, install into the real control plane, and grant the operator exactly enough: the operator
// process, running as the chart's ServiceAccount with the chart's arguments, replicates, and its RBAC writer
// replicates only what rbacWriter.grantable allows.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { chart, helm, helmOk, parseObjects, render, repoRoot, withoutSymlinkNotes, type Obj, type Rule } from './support/helm.ts';
import { flagSpecs } from '../src/cli/flags.ts';
import { imageNodeFlags } from '../bench/image-node-flags.ts';
import { kubectl, OperatorProcess } from '../e2e/support/process.ts';
import {
  admin, b64, controlPlaneInfo, createNamespace, decoded, deleteNamespace, maybe, serviceAccountKubeConfig, uniqueName, waitFor, waitForEvent,
} from './support/cluster.ts';

const root = repoRoot;
const M = 'replicator.v1.mittwald.de/';

const kustomize = (dir: string) => parseObjects(kubectl(['kustomize', join(root, dir)]));
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const must = (objs: Obj[], kind: string, name: string): Obj => {
  const o = find(objs, kind, name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objs.map(key).join(', ')}`);
  return o;
};
const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
const container = (objs: Obj[], name = 'kube-replicator') => must(objs, 'Deployment', name).spec.template.spec.containers[0];
const rulesOf = (objs: Obj[]) => objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => (o.rules ?? []).map((r) => ({ role: key(o), ...r })));
const allowsResource = (rules: Rule[], group: string, resource: string) => rules.some((r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource));

/** Labels and annotations say who rendered the object (Helm or kustomize); everything else must agree. */
function substance(o: Obj): Obj {
  const copy = structuredClone(o);
  delete copy.metadata.labels;
  delete copy.metadata.annotations;
  if (copy.spec?.template?.metadata) delete copy.spec.template.metadata.labels;
  return copy;
}

function expectSameObjects(fromKustomize: Obj[], fromHelm: Obj[]): void {
  // The kustomize base also creates its namespace (Helm leaves that to --create-namespace).
  const kustomized = fromKustomize.filter((o) => !(o.kind === 'Namespace' && o.metadata.name === 'kube-replicator'));
  expect(fromKustomize.length - kustomized.length).toBe(1);
  expect(kustomized.map(key).sort()).toEqual(fromHelm.map(key).sort());
  for (const h of fromHelm) {
    const k = must(kustomized, h.kind, h.metadata.name);
    expect({ object: key(k), ...substance(k) }).toEqual({ object: key(h), ...substance(h) });
  }
}

describe('image', () => {
  it('the Dockerfile\'s ENTRYPOINT runs Node with the flags the bench measures', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['node', ...imageNodeFlags, 'dist/main.js']);
  });
});

describe('Helm chart', () => {
  it('passes helm lint --strict, with default values and with every kind disabled', () => {
    const r = helm(['lint', '--strict', chart]);
    expect(withoutSymlinkNotes(r.stderr)).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    const off = helm(['lint', '--strict', chart, '--set', 'replicate.secrets=false,replicate.configMaps=false,replicate.roles=false,replicate.roleBindings=false,replicate.serviceAccounts=false']);
    expect(off.status).toBe(0);
  });

  it('renders the operator, its RBAC, the RBAC writer, the Lease role, a Service and a PodDisruptionBudget', () => {
    const objs = render();
    expect(objs.map(key).sort()).toEqual([
      'ClusterRole/kube-replicator', 'ClusterRole/kube-replicator-grantable', 'ClusterRole/kube-replicator-rbac-manage',
      'ClusterRoleBinding/kube-replicator', 'ClusterRoleBinding/kube-replicator-grantable', 'ClusterRoleBinding/kube-replicator-rbac-manage',
      'ConfigMap/kube-replicator/kube-replicator-protect-replicas', 'CustomResourceDefinition/replicationpolicies.kube-replicator.io', 'Deployment/kube-replicator/kube-replicator', 'PodDisruptionBudget/kube-replicator/kube-replicator',
      'Role/kube-replicator/kube-replicator-leader-election', 'Role/kube-replicator/kube-replicator-settings',
      'RoleBinding/kube-replicator/kube-replicator-leader-election', 'RoleBinding/kube-replicator/kube-replicator-settings',
      'Service/kube-replicator/kube-replicator-metrics',
      'ServiceAccount/kube-replicator/kube-replicator', 'ServiceAccount/kube-replicator/kube-replicator-rbac-writer',
      'ValidatingAdmissionPolicy/kube-replicator-protect-replicas', 'ValidatingAdmissionPolicyBinding/kube-replicator-protect-replicas',
    ]);
    const deploy = must(objs, 'Deployment', 'kube-replicator');
    expect(deploy.spec.replicas).toBe(2);
    const pod = deploy.spec.template.spec;
    expect(pod.serviceAccountName).toBe('kube-replicator');
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    const c = container(objs);
    expect(c.image).toBe(`ghcr.io/kube-replicator/kube-replicator:${(readFileSync(join(chart, 'Chart.yaml'), 'utf8').match(/^appVersion: (.+)$/m) ?? [])[1]}`);
    expect(c.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(c.ports).toEqual([{ name: 'http-status', containerPort: 9102, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-status' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http-status' });
    expect(c.args).toEqual(expect.arrayContaining(['run', '--rbac-writer=kube-replicator-rbac-writer', '--leader-elect', '--settings-configmap=kube-replicator-settings']));
    // Publishing its settings lets it create ConfigMaps in its namespace, and change or read only the one it names.
    expect(must(objs, 'Role', 'kube-replicator-settings').rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['kube-replicator-settings'], verbs: ['get', 'update', 'patch'] },
    ]);
    // Namespaces are the operator's own, not spelled out: a kustomize overlay moving it needs no patch.
    expect(c.args.filter((a: string) => a.includes('kube-replicator/') || a.startsWith('--leader-election-namespace'))).toEqual([]);
    expect(c.args.some((a: string) => a.startsWith('--replicate-'))).toBe(false);
    // The operator may impersonate its writer, and nobody else.
    const impersonate = must(objs, 'ClusterRole', 'kube-replicator').rules!.filter((r) => r.verbs.includes('impersonate'));
    expect(impersonate).toEqual([{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'], resourceNames: ['kube-replicator-rbac-writer'] }]);
    expect(must(objs, 'ClusterRole', 'kube-replicator-grantable').aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { 'kube-replicator.io/grantable-for': 'kube-replicator' } }] });
    expect(must(objs, 'Role', 'kube-replicator-leader-election').rules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }]);
  });

  it('every operator flag is settable from values', () => {
    const c = container(render([
      'resyncPeriod=1h', 'logLevel=debug', 'logFormat=plain', 'allowAll=true', 'excludeNamespaces={kube-.*,legacy}', 'adoptExisting=true',
      'trustedRbacNamespaces={platform,ops-.*}', 'trustedSourceNamespaces={platform}', 'protectedNamespaces={kube-system,infra-.*}',
      'neverReplicateSecretTypes={kubernetes.io/service-account-token,bootstrap.kubernetes.io/token,helm.sh/release.v1,example.com/licence}', 'requireNamespaceOptIn=true', 'permissive=true', 'concurrency=16', 'watchInactivity=2m', 'cacheSyncTimeout=90s', 'patternMemoryBudget=96Mi',
      'leaderElection.leaseDuration=30s', 'leaderElection.renewDeadline=20s', 'leaderElection.retryPeriod=4s', 'extraArgs={--sync-by-content}',
      'extraKinds={networking.k8s.io/v1/NetworkPolicy,v1/LimitRange}',
    ], { release: 'r1', namespace: 'ops' }), 'r1-kube-replicator');
    expect(c.args).toEqual([
      'run', '--resync-period=1h', '--log-level=debug', '--log-format=plain', '--concurrency=16', '--watch-inactivity=2m', '--cache-sync-timeout=90s', '--pattern-memory-budget=96Mi',
      '--settings-configmap=r1-kube-replicator-settings', '--extra-kinds=networking.k8s.io/v1/NetworkPolicy,v1/LimitRange', '--rbac-writer=r1-kube-replicator-rbac-writer', '--allow-all', '--exclude-namespaces=kube-.*,legacy', '--adopt-existing',
      '--trusted-rbac-namespaces=platform,ops-.*', '--trusted-source-namespaces=platform', '--protected-namespaces=kube-system,infra-.*',
      '--never-replicate-secret-types=kubernetes.io/service-account-token,bootstrap.kubernetes.io/token,helm.sh/release.v1,example.com/licence',
      '--require-namespace-opt-in', '--permissive',
      '--leader-elect', '--leader-election-id=r1-kube-replicator',
      '--leader-election-lease-duration=30s', '--leader-election-renew-deadline=20s', '--leader-election-retry-period=4s',
      '--sync-by-content',
    ]);
    const disabled = container(render(['replicas=1', 'leaderElection.enabled=false', 'replicate.secrets=false', 'replicate.configMaps=false',
      'replicate.roles=false', 'replicate.roleBindings=false', 'replicate.serviceAccounts=false']));
    expect(disabled.args.filter((a: string) => a.startsWith('--leader-elect'))).toEqual([]);
    // Every rendered flag is one the operator defines, and every flag the operator defines is rendered from a value,
    // except those that make no sense in a Pod (or are no-ops, reachable through extraArgs).
    const rendered = new Set([...c.args, ...disabled.args].filter((a: string) => a.startsWith('--')).map((a: string) => a.slice(2).split('=')[0]!));
    const known = flagSpecs.map((f) => f.name);
    expect([...rendered].filter((n) => !known.includes(n))).toEqual([]);
    // (--leader-election-namespace: a Pod's own namespace is the default, and the release's.)
    // (-n/--namespace and -o/--output belong to the migrate and explain commands.)
    const notInPods = ['kubeconfig', 'context', 'status-addr', 'sync-by-content', 'f', 'filename', 'leader-election-namespace', 'n', 'namespace', 'o', 'output', 'operator-namespace'];
    expect(known.filter((n) => !rendered.has(n) && !notInPods.includes(n))).toEqual([]);
  });

  it('without roles and roleBindings: no RBAC rules for them, no impersonation, no RBAC writer', () => {
    const objs = render(['replicate.roles=false', 'replicate.roleBindings=false']);
    const rules = must(objs, 'ClusterRole', 'kube-replicator').rules!;
    expect(allowsResource(rules, 'rbac.authorization.k8s.io', 'roles')).toBe(false);
    expect(allowsResource(rules, 'rbac.authorization.k8s.io', 'rolebindings')).toBe(false);
    expect(rules.some((r) => r.verbs.includes('impersonate'))).toBe(false);
    expect(allowsResource(rules, '', 'secrets')).toBe(true);
    expect(objs.filter((o) => o.metadata.name.includes('rbac-writer') || o.metadata.name.includes('grantable') || o.metadata.name.includes('rbac-manage')).map(key)).toEqual([]);
    const args = container(objs).args as string[];
    expect(args).toEqual(expect.arrayContaining(['--replicate-roles=false', '--replicate-role-bindings=false']));
    expect(args.some((a) => a.startsWith('--rbac-writer'))).toBe(false);
  });

  it.each([
    ['secrets', 'secrets', '--replicate-secrets=false', ''],
    ['configMaps', 'configmaps', '--replicate-configmaps=false', ''],
    ['serviceAccounts', 'serviceaccounts', '--replicate-service-accounts=false', ''],
    ['roles', 'roles', '--replicate-roles=false', 'rbac.authorization.k8s.io'],
    ['roleBindings', 'rolebindings', '--replicate-role-bindings=false', 'rbac.authorization.k8s.io'],
  ])('replicate.%s=false drops the %s rules and passes %s', (value, resource, flag, group) => {
    const on = render();
    const off = render([`replicate.${value}=false`]);
    const manage = (rules: Rule[]) => rules.filter((r) => !r.verbs.includes('impersonate'));
    expect(allowsResource(manage(must(on, 'ClusterRole', 'kube-replicator').rules!), group, resource)).toBe(true);
    expect(allowsResource(manage(must(off, 'ClusterRole', 'kube-replicator').rules!), group, resource)).toBe(false);
    expect(container(off).args).toContain(flag);
    expect(container(on).args).not.toContain(flag);
    if (group) {
      // The other RBAC kind still needs the writer, but the writer no longer manages this one.
      expect(allowsResource(must(off, 'ClusterRole', 'kube-replicator-rbac-manage').rules!, group, resource)).toBe(false);
    }
  });

  it('no rendered rule grants escalate, bind or a wildcard', () => {
    const variants = [
      [], ['replicate.roles=false', 'replicate.roleBindings=false'], ['replicate.roleBindings=false'],
      ['--set-json=rbacWriter.grantable=[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]'],
    ];
    let count = 0;
    for (const v of variants) {
      for (const r of rulesOf(render(v))) {
        count++;
        expect({ role: r.role, verbs: r.verbs.filter((x) => ['escalate', 'bind', '*'].includes(x)) }).toEqual({ role: r.role, verbs: [] });
        expect({ role: r.role, wildcard: [...(r.resources ?? []), ...(r.apiGroups ?? [])].filter((x) => x === '*') }).toEqual({ role: r.role, wildcard: [] });
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  it('rbacWriter.grantable renders a ClusterRole that the grantable ClusterRole aggregates', () => {
    const objs = render(['--set-json=rbacWriter.grantable=[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]']);
    const values = must(objs, 'ClusterRole', 'kube-replicator-grantable-values');
    expect(values.metadata.labels!['kube-replicator.io/grantable-for']).toBe('kube-replicator');
    expect(values.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]);
    expect(find(render(), 'ClusterRole', 'kube-replicator-grantable-values')).toBeUndefined();
    // Per release: a second release's grantable rules never aggregate into this one's.
    const other = render(['--set-json=rbacWriter.grantable=[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]'], { release: 'other' });
    expect(must(other, 'ClusterRole', 'other-kube-replicator-grantable-values').metadata.labels!['kube-replicator.io/grantable-for']).toBe('other-kube-replicator');
    expect(must(other, 'ClusterRole', 'other-kube-replicator-grantable').aggregationRule!.clusterRoleSelectors).toEqual([{ matchLabels: { 'kube-replicator.io/grantable-for': 'other-kube-replicator' } }]);
  });

  it('values.schema.json rejects bad values, and helm refuses to render them', () => {
    for (const bad of ['concurrency=abc', 'concurrency=0', 'logFormat=xml', 'resyncPeriod=soon', 'replicate.secrets=maybe', 'notAValue=1', 'excludeNamespaces={a\\,b}', 'leaderElection.retryPeriod=fast', 'updateStrategy.type=Foo',
      // Typos inside Kubernetes objects the chart passes through.
      'securityContext.readOnlyRootFileSystem=true', 'podSecurityContext.runAsNonroot=true', 'securityContext.capabilities.dorp={ALL}',
      'tolerations[0].efect=NoSchedule', 'affinity.nodeAfinity.x=1', 'updateStrategy.rollingUpdate.maxSurg=1']) {
      const r = helm(['template', 'kube-replicator', chart, '--set', bad]);
      expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
    }
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const values = parseAllDocuments(readFileSync(join(chart, 'values.yaml'), 'utf8'))[0]!.toJS() as Record<string, unknown>;
    // Every value has a schema entry (the schema forbids unknown top-level keys).
    expect(Object.keys(values).filter((k) => !(k in schema.properties))).toEqual([]);
  });

  describe('admissionPolicy', () => {
    const vapKinds = ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'];
    /** The policy, its binding and its parameter ConfigMap. */
    const admission = (objs: Obj[]) => objs.filter((o) => vapKinds.includes(o.kind) || (o.kind === 'ConfigMap' && o.metadata.name.endsWith('-protect-replicas')));
    const policy = (objs: Obj[], name = 'kube-replicator-protect-replicas') => must(objs, 'ValidatingAdmissionPolicy', name);
    /** The resources the policy matches, as group/resource. */
    const matched = (p: Obj) => (p.spec.matchConstraints.resourceRules as { apiGroups: string[]; resources: string[] }[])
      .flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}`)).sort();
    /** The usernames the first matchCondition lets through. */
    /**
     * The usernames the first matchCondition lets through, as the API server computes them: the policy reads the
     * ServiceAccount names and further users from its parameter ConfigMap, in that ConfigMap's namespace.
     */
    const exempt = (objs: Obj[], name = 'kube-replicator-protect-replicas') => {
      const p = policy(objs, name);
      expect(p.spec.paramKind).toEqual({ apiVersion: 'v1', kind: 'ConfigMap' });
      const ref = must(objs, 'ValidatingAdmissionPolicyBinding', name).spec.paramRef;
      expect(ref).toEqual({ name, namespace: expect.any(String), parameterNotFoundAction: 'Allow' });
      const params = must(objs, 'ConfigMap', ref.name);
      expect(params.metadata.namespace).toBe(ref.namespace);
      const data = (params as unknown as { data: Record<string, string> }).data;
      return [...data.serviceAccounts!.split(',').map((n) => `system:serviceaccount:${ref.namespace}:${n}`), ...data.users!.split('\n').filter(Boolean)];
    };

    it('renders by default: Fail, Deny, every replicated kind, only the operator\'s ServiceAccounts exempt', () => {
      const objs = render();
      const p = policy(objs);
      expect(p.apiVersion).toBe('admissionregistration.k8s.io/v1');
      expect(p.spec.failurePolicy).toBe('Fail');
      expect(matched(p)).toEqual(['/configmaps', '/secrets', '/serviceaccounts', 'rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/roles']);
      for (const r of p.spec.matchConstraints.resourceRules) expect(r.operations).toEqual(['CREATE', 'UPDATE', 'DELETE']);
      expect(p.spec.matchConditions.map((m: { name: string }) => m.name)).toEqual(['not-kube-replicator', 'carries-kube-replicator-metadata']);
      expect(exempt(objs)).toEqual(['system:serviceaccount:kube-replicator:kube-replicator', 'system:serviceaccount:kube-replicator:kube-replicator-rbac-writer']);
      // Both validations name what to do instead, with messageExpression.
      expect(p.spec.validations).toHaveLength(2);
      for (const v of p.spec.validations) expect(v).toEqual(expect.objectContaining({ messageExpression: expect.any(String), message: expect.any(String), reason: 'Forbidden' }));
      expect(p.spec.validations[0].messageExpression).toContain("'kube-replicator.io/source'");
      const binding = must(objs, 'ValidatingAdmissionPolicyBinding', 'kube-replicator-protect-replicas');
      expect(binding.spec).toEqual({ policyName: 'kube-replicator-protect-replicas', validationActions: ['Deny'], paramRef: { name: 'kube-replicator-protect-replicas', namespace: 'kube-replicator', parameterNotFoundAction: 'Allow' } });
      expect(binding.metadata.labels).toEqual(p.metadata.labels);
      expect(p.metadata.labels!['app.kubernetes.io/instance']).toBe('kube-replicator');
    });

    it('admissionPolicy.enabled=false renders neither the policy nor its binding', () => {
      expect(admission(render(['admissionPolicy.enabled=false']))).toEqual([]);
      // Everything else is unchanged.
      const all = render();
      expect(render(['admissionPolicy.enabled=false']).map(key)).toEqual(all.filter((o) => !admission(all).includes(o)).map(key));
    });

    it.each([
      ['secrets', '/secrets'], ['configMaps', '/configmaps'], ['serviceAccounts', '/serviceaccounts'],
      ['roles', 'rbac.authorization.k8s.io/roles'], ['roleBindings', 'rbac.authorization.k8s.io/rolebindings'],
    ])('replicate.%s=false: the policy no longer matches %s', (value, resource) => {
      const p = policy(render([`replicate.${value}=false`]));
      expect(matched(p)).not.toContain(resource);
      expect(matched(p)).toHaveLength(4);
    });

    it('matches only the enabled kinds: no RBAC kinds means no RBAC rule and no writer; no kind means no policy', () => {
      const noRbac = render(['replicate.roles=false', 'replicate.roleBindings=false']);
      expect(matched(policy(noRbac))).toEqual(['/configmaps', '/secrets', '/serviceaccounts']);
      expect(exempt(noRbac)).toEqual(['system:serviceaccount:kube-replicator:kube-replicator']);
      const rbacOnly = policy(render(['replicate.secrets=false', 'replicate.configMaps=false', 'replicate.serviceAccounts=false']));
      expect(matched(rbacOnly)).toEqual(['rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/roles']);
      const none = render(['replicate.secrets=false', 'replicate.configMaps=false', 'replicate.roles=false', 'replicate.roleBindings=false', 'replicate.serviceAccounts=false']);
      expect(admission(none)).toEqual([]);
    });

    it('is per release: names carry the fullname, and the exempt identities are that release\'s; extraAllowedUsers adds to them', () => {
      const other = render(['--set-json=admissionPolicy.extraAllowedUsers=["system:serviceaccount:kube-replicator:kube-replicator"]'], { release: 'other', namespace: 'ops' });
      expect(admission(other).map(key).sort()).toEqual(['ConfigMap/ops/other-kube-replicator-protect-replicas', 'ValidatingAdmissionPolicy/other-kube-replicator-protect-replicas', 'ValidatingAdmissionPolicyBinding/other-kube-replicator-protect-replicas']);
      expect(must(other, 'ValidatingAdmissionPolicyBinding', 'other-kube-replicator-protect-replicas').spec.policyName).toBe('other-kube-replicator-protect-replicas');
      expect(exempt(other, 'other-kube-replicator-protect-replicas')).toEqual([
        'system:serviceaccount:ops:other-kube-replicator', 'system:serviceaccount:ops:other-kube-replicator-rbac-writer', 'system:serviceaccount:kube-replicator:kube-replicator',
      ]);
      // fullnameOverride is honoured too.
      expect(admission(render(['fullnameOverride=repl'])).map(key).sort()).toEqual(['ConfigMap/kube-replicator/repl-protect-replicas', 'ValidatingAdmissionPolicy/repl-protect-replicas', 'ValidatingAdmissionPolicyBinding/repl-protect-replicas']);
    });

    it('helm lint --strict passes with the policy disabled and with extra users; the schema rejects bad values', () => {
      expect(helm(['lint', '--strict', chart, '--set', 'admissionPolicy.enabled=false']).status).toBe(0);
      expect(helm(['lint', '--strict', chart, '--set-json', 'admissionPolicy.extraAllowedUsers=["system:serviceaccount:a:b"]']).status).toBe(0);
      for (const bad of [['--set', 'admissionPolicy.enabled=maybe'], ['--set', 'admissionPolicy.other=1'], ['--set-json', 'admissionPolicy.extraAllowedUsers=["a\\"b"]'], ['--set-json', 'admissionPolicy.extraAllowedUsers=[""]']]) {
        const r = helm(['template', 'kube-replicator', chart, ...bad]);
        expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
        expect(r.stderr).toContain("values don't meet the specifications of the schema");
      }
    });
  });

  it('replicas=1 renders no PodDisruptionBudget; the ServiceMonitor is opt-in', () => {
    expect(find(render(['replicas=1']), 'PodDisruptionBudget', 'kube-replicator')).toBeUndefined();
    expect(find(render(), 'ServiceMonitor', 'kube-replicator')).toBeUndefined();
    // Rendered only where the ServiceMonitor CRD is served: enabling it on a cluster without it must not fail the release.
    expect(find(render(['metrics.serviceMonitor.enabled=true']), 'ServiceMonitor', 'kube-replicator')).toBeUndefined();
    const sm = must(render(['metrics.serviceMonitor.enabled=true', '--api-versions=monitoring.coreos.com/v1/ServiceMonitor']), 'ServiceMonitor', 'kube-replicator');
    expect(sm.spec.endpoints).toEqual([{ port: 'http-status', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    expect(helm(['template', 'kube-replicator', chart, '--api-versions=monitoring.coreos.com/v1/ServiceMonitor', '--set', 'metrics.serviceMonitor.enabled=true,metrics.service.enabled=false']).status).toBe(1);
  });

  it('a 63-character fullnameOverride still gives every object a valid name (the Service a DNS label)', () => {
    const long = 'r'.repeat(63);
    const objs = render([`fullnameOverride=${long}`]);
    const service = objs.find((o) => o.kind === 'Service')!;
    expect(service.metadata.name).toBe(`${'r'.repeat(55)}-metrics`);
    for (const o of objs) expect(o.metadata.name.length).toBeLessThanOrEqual(o.kind === 'Service' ? 63 : 253);
  });

  describe('knobs', () => {
    it('deploymentAnnotations and deploymentLabels go on the Deployment, not on its Pods', () => {
      const d = must(render(['deploymentAnnotations.team=platform', 'deploymentLabels.tier=ops']), 'Deployment', 'kube-replicator');
      expect(d.metadata.annotations).toEqual({ team: 'platform' });
      expect(d.metadata.labels).toMatchObject({ tier: 'ops', 'app.kubernetes.io/name': 'kube-replicator' });
      expect(d.spec.template.metadata.labels.tier).toBeUndefined();
      expect(must(render(), 'Deployment', 'kube-replicator').metadata.annotations).toBeUndefined();
    });

    it('extraEnv, extraVolumes and extraVolumeMounts reach the Pod, next to the /tmp scratch volume', () => {
      const objs = render([
        '--set-json=extraEnv=[{"name":"HTTPS_PROXY","value":"http://proxy:3128"},{"name":"FROM_SECRET","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}]',
        '--set-json=extraVolumes=[{"name":"ca","configMap":{"name":"corp-ca"}}]',
        '--set-json=extraVolumeMounts=[{"name":"ca","mountPath":"/etc/corp-ca","readOnly":true}]',
      ]);
      const c = container(objs);
      expect(c.env).toEqual([{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }, { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]);
      expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }, { name: 'ca', mountPath: '/etc/corp-ca', readOnly: true }]);
      expect(must(objs, 'Deployment', 'kube-replicator').spec.template.spec.volumes).toEqual([
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, { name: 'ca', configMap: { name: 'corp-ca' } },
      ]);
      expect(container(render()).env).toBeUndefined();
    });

    it('probe timings are merged over the defaults; the paths stay fixed', () => {
      const c = container(render(['livenessProbe.periodSeconds=30', 'readinessProbe.failureThreshold=10']));
      expect(c.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http-status' }, initialDelaySeconds: 10, periodSeconds: 30, timeoutSeconds: 2, failureThreshold: 6 });
      expect(c.readinessProbe).toEqual({ httpGet: { path: '/readyz', port: 'http-status' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 10 });
    });

    it('image.digest pins the image by digest and wins over the tag', () => {
      const digest = `sha256:${'ab'.repeat(32)}`;
      expect(container(render([`image.digest=${digest}`, 'image.tag=9.9.9'])).image).toBe(`ghcr.io/kube-replicator/kube-replicator@${digest}`);
      expect(container(render(['image.tag=9.9.9'])).image).toBe('ghcr.io/kube-replicator/kube-replicator:9.9.9');
    });

    it('serviceAccount.create=false uses serviceAccount.name everywhere the operator\'s identity appears, and needs it', () => {
      const objs = render(['serviceAccount.create=false', 'serviceAccount.name=ops-identity']);
      expect(find(objs, 'ServiceAccount', 'kube-replicator')).toBeUndefined();
      expect(find(objs, 'ServiceAccount', 'kube-replicator-rbac-writer')).toBeDefined();
      expect(must(objs, 'Deployment', 'kube-replicator').spec.template.spec.serviceAccountName).toBe('ops-identity');
      for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
        for (const s of (b as unknown as { subjects: { name: string }[] }).subjects) expect(s.name).not.toBe('kube-replicator');
      }
      expect(must(objs, 'ClusterRoleBinding', 'kube-replicator').subjects).toEqual([{ kind: 'ServiceAccount', name: 'ops-identity', namespace: 'kube-replicator' }]);
      expect((must(objs, 'ConfigMap', 'kube-replicator-protect-replicas') as unknown as { data: Record<string, string> }).data.serviceAccounts).toBe('ops-identity,kube-replicator-rbac-writer');
      // A name with create=true names the created one.
      expect(must(render(['serviceAccount.name=named']), 'ServiceAccount', 'named')).toBeDefined();
      const r = helm(['template', 'kube-replicator', chart, '--set', 'serviceAccount.create=false']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('serviceAccount.create=false needs serviceAccount.name');
    });

    it('podDisruptionBudget.maxUnavailable replaces minAvailable (a PDB takes one of them)', () => {
      expect(must(render(), 'PodDisruptionBudget', 'kube-replicator').spec).toMatchObject({ minAvailable: 1 });
      const pdb = must(render(['podDisruptionBudget.maxUnavailable=50%']), 'PodDisruptionBudget', 'kube-replicator');
      expect(pdb.spec.maxUnavailable).toBe('50%');
      expect(pdb.spec.minAvailable).toBeUndefined();
      expect(must(render(['podDisruptionBudget.maxUnavailable=1']), 'PodDisruptionBudget', 'kube-replicator').spec.maxUnavailable).toBe(1);
    });

    it('ServiceMonitor relabelings and metricRelabelings are passed through', () => {
      const sm = must(render(['metrics.serviceMonitor.enabled=true', '--api-versions=monitoring.coreos.com/v1/ServiceMonitor',
        '--set-json=metrics.serviceMonitor.relabelings=[{"targetLabel":"cluster","replacement":"prod"}]',
        '--set-json=metrics.serviceMonitor.metricRelabelings=[{"sourceLabels":["__name__"],"regex":"nodejs_.*","action":"drop"}]']), 'ServiceMonitor', 'kube-replicator');
      expect(sm.spec.endpoints[0].relabelings).toEqual([{ targetLabel: 'cluster', replacement: 'prod' }]);
      expect(sm.spec.endpoints[0].metricRelabelings).toEqual([{ sourceLabels: ['__name__'], regex: 'nodejs_.*', action: 'drop' }]);
    });

    it('crds.install renders the CRD as a template, kept on uninstall unless crds.keep=false', () => {
      const crd = must(render(), 'CustomResourceDefinition', 'replicationpolicies.kube-replicator.io');
      expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect(crd.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'kube-replicator', 'app.kubernetes.io/managed-by': 'Helm' });
      expect(crd.spec).toEqual((parseAllDocuments(readFileSync(join(root, 'crds', 'replicationpolicies.yaml'), 'utf8'))[0]!.toJS() as Obj).spec);
      expect(must(render(['crds.keep=false']), 'CustomResourceDefinition', 'replicationpolicies.kube-replicator.io').metadata.annotations).toBeUndefined();
      expect(find(render(['crds.install=false']), 'CustomResourceDefinition', 'replicationpolicies.kube-replicator.io')).toBeUndefined();
    });

    it('refuses values carried over from mittwald\'s chart: its image repository and its v2.x tags', () => {
      for (const [bad, says] of [['image.repository=quay.io/mittwald/kubernetes-replicator', "is mittwald/kubernetes-replicator's image"], ['image.tag=v2.12.4', 'is a mittwald/kubernetes-replicator version']]) {
        const r = helm(['template', 'kube-replicator', chart, '--set', bad]);
        expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
        expect(r.stderr).toContain(says);
        expect(r.stderr).toContain('--reset-values');
      }
      for (const bad of [`image.digest=sha256:${'x'.repeat(64)}`, 'image.digest=latest',
        'livenessProbe.periodSeconds=0', 'livenessProbe.path=/x', 'serviceAccount.name=Not_A_Name', 'podDisruptionBudget.maxUnavailable=half',
        'crds.install=maybe', 'crds.other=1']) {
        const r = helm(['template', 'kube-replicator', chart, '--set', bad]);
        expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
        expect(r.stderr).toContain("values don't meet the specifications of the schema");
      }
      for (const bad of ['--set-json=extraEnv=[{"nme":"A"}]', '--set-json=extraVolumeMounts=[{"name":"a"}]', '--set-json=extraVolumes=[{"configMap":{"name":"x"}}]']) {
        const r = helm(['template', 'kube-replicator', chart, bad]);
        expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
      }
    });
  });

  it('refuses two replicas without leader election (two writers), and accepts one', () => {
    const r = helm(['template', 'kube-replicator', chart, '--set', 'replicas=2,leaderElection.enabled=false']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('replicas > 1 needs leaderElection.enabled');
    expect(helm(['template', 'kube-replicator', chart, '--set', 'replicas=1,leaderElection.enabled=false']).status).toBe(0);
  });

  it('the CRD exists once: the chart links to crds/ (files/crds/, rendered by a template), and config/base includes crds/', () => {
    const crdFiles = readdirSync(join(root, 'crds')).filter((f) => f !== 'kustomization.yaml').sort();
    expect(crdFiles.length).toBeGreaterThan(0);
    expect(readdirSync(join(chart, 'files', 'crds')).sort()).toEqual(crdFiles);
    for (const f of crdFiles) expect(realpathSync(join(chart, 'files', 'crds', f))).toBe(realpathSync(join(root, 'crds', f)));
    // Not a crds/ folder: Helm would install it once and never upgrade it (nor install it on an in-place migration).
    expect(existsSync(join(chart, 'crds'))).toBe(false);
    const kustomization = parse(readFileSync(join(root, 'crds', 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(crdFiles);
    expect(existsSync(join(root, 'config', 'base', 'crds'))).toBe(false);
  });
});

describe('kustomize', () => {
  const c = admin();
  let createdNamespace = false;
  afterAll(async () => {
    if (createdNamespace) await deleteNamespace(c, 'kube-replicator', false);
  });

  it.each(['config/base', 'config/overlays/annotations-only'])('%s builds and the API server accepts every object (server-side dry run, strict field validation)', async (dir) => {
    // Namespaced objects can only be dry-run into a namespace that exists.
    if (!(await maybe(c.core.readNamespace({ name: 'kube-replicator' })))) {
      await createNamespace(c, 'kube-replicator');
      createdNamespace = true;
    }
    const objs = kustomize(dir);
    const out = kubectl(['apply', '--dry-run=server', '--validate=strict', '-k', join(root, dir)]);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(objs.length);
    for (const l of lines) expect(l).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
  });

  it('config/base is the chart with default values (release and namespace kube-replicator)', () => {
    const base = kustomize('config/base');
    const chartObjs = render();
    expectSameObjects(base, chartObjs);
    // The parts the brief names, spelled out so a failure reads clearly.
    expect(must(base, 'ClusterRole', 'kube-replicator').rules).toEqual(must(chartObjs, 'ClusterRole', 'kube-replicator').rules);
    expect(container(base).args).toEqual(container(chartObjs).args);
    expect(container(base).securityContext).toEqual(container(chartObjs).securityContext);
    expect(must(base, 'Namespace', 'kube-replicator')).toBeDefined();
  });

  it('an overlay that only changes `namespace` moves every binding subject, the Lease and the RBAC writer with it (kubectl auth can-i)', async () => {
    const ns = uniqueName('ovl');
    const dir = join(controlPlaneInfo().dir, `overlay-${ns}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'kustomization.yaml'), `namespace: ${ns}\nresources:\n  - ${relative(dir, join(root, 'config', 'base'))}\n`); // kustomize refuses absolute paths
    const objs = parseObjects(kubectl(['kustomize', dir]));
    for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
      for (const sub of (b as unknown as { subjects: { namespace: string }[] }).subjects) expect({ binding: key(b), namespace: sub.namespace }).toEqual({ binding: key(b), namespace: ns });
    }
    // The admission policy lets through the ServiceAccounts of the new namespace: it reads them from its ConfigMap there.
    const binding = must(objs, 'ValidatingAdmissionPolicyBinding', 'kube-replicator-protect-replicas');
    expect(binding.spec.paramRef).toEqual({ name: 'kube-replicator-protect-replicas', namespace: ns, parameterNotFoundAction: 'Allow' });
    expect(must(objs, 'ConfigMap', 'kube-replicator-protect-replicas').metadata.namespace).toBe(ns);
    expect(JSON.stringify(objs)).not.toContain('system:serviceaccount:kube-replicator:');
    // No argument names the old namespace: the operator finds its Lease and writer in its own.
    expect(container(objs).args.filter((a: string) => a.includes('kube-replicator/'))).toEqual([]);
    expect(container(objs).args).toContain('--rbac-writer=kube-replicator-rbac-writer');
    // Applied for real (RBAC only: the admission policy would be in force cluster-wide), then asked as the moved identities.
    const rbac = objs.filter((o) => ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac });
    kubectl(['apply', '-f', '-'], list);
    try {
      const canI = (as: string, ...args: string[]) => {
        try {
          return kubectl(['auth', 'can-i', ...args, `--as=system:serviceaccount:${ns}:${as}`]).trim();
        } catch (e) {
          return String((e as { stdout?: string }).stdout ?? e).trim(); // exit status 1 means "no"
        }
      };
      expect(canI('kube-replicator', 'list', 'secrets', '-A')).toBe('yes');
      expect(canI('kube-replicator', 'update', 'configmaps', '-n', 'default')).toBe('yes');
      expect(canI('kube-replicator', 'impersonate', 'serviceaccounts/kube-replicator-rbac-writer', '-n', ns)).toBe('yes');
      expect(canI('kube-replicator', 'update', 'leases.coordination.k8s.io', '-n', ns)).toBe('yes');
      expect(canI('kube-replicator-rbac-writer', 'create', 'roles.rbac.authorization.k8s.io', '-n', 'default')).toBe('yes');
      // The base's own namespace grants the moved identity nothing.
      expect(canI('kube-replicator', 'update', 'leases.coordination.k8s.io', '-n', 'kube-replicator')).toBe('no');
    } finally {
      kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], list);
    }
  });

  it('config/overlays/annotations-only is the chart with replicate.roles=false,replicate.roleBindings=false', () => {
    const overlay = kustomize('config/overlays/annotations-only');
    expectSameObjects(overlay, render(['replicate.roles=false', 'replicate.roleBindings=false']));
    expect(container(overlay).args).toEqual(expect.arrayContaining(['--replicate-roles=false', '--replicate-role-bindings=false']));
    expect(overlay.filter((o) => o.metadata.name.includes('rbac-writer'))).toEqual([]);
  });
});

describe('helm install into the control plane, and the operator with the chart\'s permissions', () => {
  const c = admin();
  const authz = c.kc.makeApiClient(k8s.AuthorizationV1Api);
  const run = uniqueName('pkg');
  const ns = `${run}-system`;
  const src = `${run}-src`;
  const dst = `${run}-dst`;
  const release = run;
  const fullname = `${release}-kube-replicator`;
  const writer = `${fullname}-rbac-writer`;
  let operator: OperatorProcess | undefined;
  let installed = false;
  let installNotes = '';

  beforeAll(async () => {
    for (const n of [ns, src, dst]) await createNamespace(c, n);
    // The shared control plane's CRD was installed by the test setup, not by a release: the chart leaves it alone.
    installNotes = helmOk(['install', release, chart, '--namespace', ns, '--kubeconfig', controlPlaneInfo().kubeconfig,
      '--set', 'image.tag=test', '--set-json', `trustedRbacNamespaces=["${src}"]`,
      '--set-json', 'rbacWriter.grantable=[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list"]}]']);
    installed = true;
  });

  afterAll(async () => {
    await operator?.kill('SIGTERM');
    if (installed) helm(['uninstall', release, '--namespace', ns, '--kubeconfig', controlPlaneInfo().kubeconfig]);
    await Promise.all([ns, src, dst].map((n) => deleteNamespace(c, n, false)));
  });

  it('creates the ServiceAccounts, ClusterRoles, bindings, Lease Role, Deployment and admission policy', async () => {
    const sa = await c.core.readNamespacedServiceAccount({ namespace: ns, name: fullname });
    expect(sa.metadata!.name).toBe(fullname);
    expect((await c.core.readNamespacedServiceAccount({ namespace: ns, name: writer })).automountServiceAccountToken).toBe(false);
    const role = await c.rbac.readClusterRole({ name: fullname });
    expect(role.rules!.find((r) => r.verbs.includes('impersonate'))).toEqual({ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'], resourceNames: [writer] });
    const binding = await c.rbac.readClusterRoleBinding({ name: fullname });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: fullname, namespace: ns }]);
    for (const name of [`${fullname}-grantable`, `${fullname}-rbac-manage`]) {
      expect((await c.rbac.readClusterRoleBinding({ name })).subjects).toEqual([{ kind: 'ServiceAccount', name: writer, namespace: ns }]);
    }
    expect((await c.rbac.readNamespacedRole({ namespace: ns, name: `${fullname}-leader-election` })).rules![0]!.resources).toEqual(['leases']);
    const apps = c.kc.makeApiClient(k8s.AppsV1Api);
    const deploy = await apps.readNamespacedDeployment({ namespace: ns, name: fullname });
    expect(deploy.spec!.template.spec!.containers[0]!.image).toBe('ghcr.io/kube-replicator/kube-replicator:test');
    expect(deploy.spec!.template.spec!.serviceAccountName).toBe(fullname);
    // The admission policy, exempting this release's operator (test/admission-policy.test.ts checks what it refuses).
    const admission = c.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    const vap = await admission.readValidatingAdmissionPolicy({ name: `${fullname}-protect-replicas` });
    expect(vap.spec!.paramKind).toEqual({ apiVersion: 'v1', kind: 'ConfigMap' });
    expect((await admission.readValidatingAdmissionPolicyBinding({ name: `${fullname}-protect-replicas` })).spec).toMatchObject({
      policyName: `${fullname}-protect-replicas`, validationActions: ['Deny'], paramRef: { name: `${fullname}-protect-replicas`, namespace: ns, parameterNotFoundAction: 'Allow' },
    });
    const params = await c.core.readNamespacedConfigMap({ namespace: ns, name: `${fullname}-protect-replicas` });
    expect(params.data).toEqual({ serviceAccounts: `${fullname},${writer}`, users: '' });
    // kube-controller-manager aggregates rbacWriter.grantable into what the writer holds.
    await waitFor('the grantable ClusterRole to be aggregated', async () => {
      const agg = await c.rbac.readClusterRole({ name: `${fullname}-grantable` });
      return agg.rules?.some((r) => r.resources?.includes('configmaps') && r.verbs.includes('get'));
    });
  });

  it('leaves a CRD applied outside the release alone, and says so (taking it over would fail the install)', async () => {
    expect(installNotes).toContain('The ReplicationPolicy CRD was already installed outside this release');
    const ext = c.kc.makeApiClient(k8s.ApiextensionsV1Api);
    const crd = await ext.readCustomResourceDefinition({ name: 'replicationpolicies.kube-replicator.io' });
    expect(crd.metadata!.annotations?.['meta.helm.sh/release-name']).toBeUndefined();
  });

  it('the chart\'s ServiceAccount may do what the operator needs, and may not escalate, bind or impersonate anyone else', async () => {
    const can = async (attrs: k8s.V1ResourceAttributes) => (await authz.createSubjectAccessReview({ body: {
      spec: { user: `system:serviceaccount:${ns}:${fullname}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`], resourceAttributes: attrs },
    } })).status!.allowed;
    expect(await can({ verb: 'watch', resource: 'secrets' })).toBe(true);
    expect(await can({ verb: 'update', resource: 'configmaps', namespace: dst })).toBe(true);
    expect(await can({ verb: 'patch', group: 'kube-replicator.io', resource: 'replicationpolicies', subresource: 'status' })).toBe(true);
    expect(await can({ verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: ns })).toBe(true);
    expect(await can({ verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: dst })).toBe(false);
    expect(await can({ verb: 'impersonate', resource: 'serviceaccounts', namespace: ns, name: writer })).toBe(true);
    expect(await can({ verb: 'impersonate', resource: 'serviceaccounts', namespace: ns, name: fullname })).toBe(false);
    expect(await can({ verb: 'impersonate', resource: 'users', name: 'admin' })).toBe(false);
    expect(await can({ verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: dst })).toBe(false);
    expect(await can({ verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' })).toBe(false);
    expect(await can({ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' })).toBe(false);
    expect(await can({ verb: 'list', resource: 'pods' })).toBe(false);
  });

  it('the operator as the chart\'s ServiceAccount, with the chart\'s arguments, replicates a Secret and a ConfigMap', async () => {
    const apps = c.kc.makeApiClient(k8s.AppsV1Api);
    const deploy = await apps.readNamespacedDeployment({ namespace: ns, name: fullname });
    const rendered = deploy.spec!.template.spec!.containers[0]!.args!;
    expect(rendered[0]).toBe('run');
    expect(rendered).toEqual(expect.arrayContaining([`--rbac-writer=${writer}`, '--leader-elect']));
    const args = rendered.slice(1);
    const kc = await serviceAccountKubeConfig(ns, fullname);
    const file = join(controlPlaneInfo().dir, `${fullname}.kubeconfig`);
    writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
    operator = new OperatorProcess('packaging', args, file);
    operator.env = { POD_NAMESPACE: ns }; // as in its Pod: the writer and the Lease are in the operator's own namespace
    await operator.start();

    await c.core.createNamespacedSecret({ namespace: src, body: { metadata: { name: 'shared-secret', annotations: { [`${M}replicate-to`]: dst } }, data: { token: b64('s3cr3t') } } });
    await c.core.createNamespacedConfigMap({ namespace: src, body: { metadata: { name: 'shared-config', annotations: { [`${M}replicate-to`]: dst } }, data: { mode: 'strict' } } });
    const secret = await waitFor('the Secret replica', () => maybe(c.core.readNamespacedSecret({ namespace: dst, name: 'shared-secret' })));
    expect(decoded(secret.data)).toEqual({ token: 's3cr3t' });
    expect(secret.metadata!.labels!['kube-replicator.io/replica']).toBe('true');
    const cm = await waitFor('the ConfigMap replica', () => maybe(c.core.readNamespacedConfigMap({ namespace: dst, name: 'shared-config' })));
    expect(cm.data).toEqual({ mode: 'strict' });
    // It leads through the Lease the chart's Role lets it hold.
    const lease = await c.kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: ns, name: fullname });
    expect(lease.spec!.holderIdentity).toMatch(/_\d+$/);
    // The leader publishes its settings for explain in the ConfigMap the chart's Role lets it write.
    const published = await waitFor('the published settings', () => maybe(c.core.readNamespacedConfigMap({ namespace: ns, name: `${fullname}-settings` })));
    expect(published.data?.['protected-namespaces']).toMatch(new RegExp(`,${ns}$`));
    // Nothing the operator needs was refused by RBAC (other 403s, e.g. Events into a namespace that another test
    // file left terminating, are not about the chart's permissions).
    expect(operator.logs()).not.toMatch(/ cannot (?:get|list|watch|create|update|patch|delete|impersonate) resource/);
  });

  it('replicates a Role that rbacWriter.grantable allows, from the trusted namespace', async () => {
    expect(operator?.proc?.exitCode).toBeNull();
    await c.rbac.createNamespacedRole({ namespace: src, body: {
      metadata: { name: 'config-reader', annotations: { [`${M}replicate-to`]: dst } },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    } });
    const replica = await waitFor('the Role replica', () => maybe(c.rbac.readNamespacedRole({ namespace: dst, name: 'config-reader' })));
    expect(replica.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]);
  });

  it('refuses a Role granting Secrets, which the writer does not hold (EscalationRefused)', async () => {
    expect(operator?.proc?.exitCode).toBeNull();
    await c.rbac.createNamespacedRole({ namespace: src, body: {
      metadata: { name: 'secret-reader', annotations: { [`${M}replicate-to`]: dst } },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    } });
    const ev = await waitForEvent(c, src, 'secret-reader', 'EscalationRefused');
    expect(ev.message).toContain(`${ns}/${writer}`);
    expect(await maybe(c.rbac.readNamespacedRole({ namespace: dst, name: 'secret-reader' }))).toBeUndefined();
  });
});
