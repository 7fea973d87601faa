import { describe, expect, it } from '@jest/globals';
import { builtinKinds as K, type BuiltinKind as Kind } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { parseExcludePatterns, parseNamespacePatterns } from './patterns.ts';
import { parseLabelSelector } from './selector.ts';
import { namedTargets, namespaceAcceptsPush, rbacPushRefusal, ruleTargetsNamespace, sourceRefusal } from './targeting.ts';
import { defaultSettings, type NamespaceView, type PushRule, type Settings, type TargetNamespaces } from './types.ts';
import { namespaceReplicationLabel } from './vocabulary.ts';

const ns = (name: string, labels: Record<string, string> = {}, terminating = false): NamespaceView => ({ name, labels, terminating });

function selector(text: string) {
  const r = parseLabelSelector(text);
  if (!r.ok) throw new Error(r.error);
  return r.selector;
}

function rule(kind: Kind, targets: TargetNamespaces, over: Partial<PushRule> = {}): PushRule {
  return {
    id: `annotation:${kind}/src/obj`,
    origin: { type: 'annotation' },
    source: { kind, namespace: 'src', name: 'obj' },
    sourceCreated: '',
    priority: 0,
    targets,
    stripLabels: false,
    keepOwnerReferences: false,
    onConflict: 'Skip',
    ...over,
  };
}

const everywhere: TargetNamespaces = { patterns: parseNamespacePatterns('*') };
const kinds: Kind[] = ['Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'];

describe('namespaceAcceptsPush', () => {
  it.each<[string, NamespaceView, Settings, boolean]>([
    ['a plain namespace', ns('dst'), defaultSettings, true],
    ['a terminating namespace', ns('dst', {}, true), defaultSettings, false],
    ['a namespace labelled deny', ns('dst', { [namespaceReplicationLabel]: 'deny' }), defaultSettings, false],
    ['a namespace labelled allow', ns('dst', { [namespaceReplicationLabel]: 'allow' }), defaultSettings, true],
    ['a namespace labelled Deny (values are exact)', ns('dst', { [namespaceReplicationLabel]: 'Deny' }), defaultSettings, true],
    ['opt-in mode, unlabelled', ns('dst'), { ...defaultSettings, requireNamespaceOptIn: true }, false],
    ['opt-in mode, labelled allow', ns('dst', { [namespaceReplicationLabel]: 'allow' }), { ...defaultSettings, requireNamespaceOptIn: true }, true],
    ['opt-in mode, labelled something else', ns('dst', { [namespaceReplicationLabel]: 'true' }), { ...defaultSettings, requireNamespaceOptIn: true }, false],
    ['opt-in mode, labelled deny', ns('dst', { [namespaceReplicationLabel]: 'deny' }), { ...defaultSettings, requireNamespaceOptIn: true }, false],
    ['opt-in mode, allow but terminating', ns('dst', { [namespaceReplicationLabel]: 'allow' }, true), { ...defaultSettings, requireNamespaceOptIn: true }, false],
    ['excluded by --exclude-namespaces', ns('kube-system'), { ...defaultSettings, excludeNamespaces: parseExcludePatterns('kube-') }, false],
    ['excluded even when labelled allow', ns('kube-system', { [namespaceReplicationLabel]: 'allow' }), { ...defaultSettings, excludeNamespaces: parseExcludePatterns('kube-') }, false],
    ['not excluded by a pattern it does not contain', ns('dst'), { ...defaultSettings, excludeNamespaces: parseExcludePatterns('kube-') }, true],
  ])('%s → %s', (_name, view, settings, expected) => {
    expect(namespaceAcceptsPush(view, settings)).toBe(expected);
  });

  it('--exclude-namespaces patterns are unanchored (mittwald)', () => {
    const settings = { ...defaultSettings, excludeNamespaces: parseExcludePatterns('kube-,^openshift$') };
    expect(namespaceAcceptsPush(ns('my-kube-stuff'), settings)).toBe(false);
    expect(namespaceAcceptsPush(ns('openshift'), settings)).toBe(false);
    expect(namespaceAcceptsPush(ns('openshift-monitoring'), settings)).toBe(true);
  });
});

describe('ruleTargetsNamespace', () => {
  it('follows the rule\'s patterns (whole names)', () => {
    const r = rule('Secret', { patterns: parseNamespacePatterns('dst,app-[0-9]+') });
    expect(ruleTargetsNamespace(r, ns('dst'), defaultSettings)).toBe(true);
    expect(ruleTargetsNamespace(r, ns('app-12'), defaultSettings)).toBe(true);
    expect(ruleTargetsNamespace(r, ns('dst-2'), defaultSettings)).toBe(false);
    expect(ruleTargetsNamespace(r, ns('my-app-12'), defaultSettings)).toBe(false);
  });

  it('follows the rule\'s selector over namespace labels', () => {
    const r = rule('Secret', { selector: selector('env=prod') });
    expect(ruleTargetsNamespace(r, ns('a', { env: 'prod' }), defaultSettings)).toBe(true);
    expect(ruleTargetsNamespace(r, ns('b', { env: 'dev' }), defaultSettings)).toBe(false);
    expect(ruleTargetsNamespace(r, ns('c'), defaultSettings)).toBe(false);
  });

  it('targets the union of patterns and selector', () => {
    const r = rule('Secret', { patterns: parseNamespacePatterns('named'), selector: selector('env=prod') });
    expect(ruleTargetsNamespace(r, ns('named'), defaultSettings)).toBe(true);
    expect(ruleTargetsNamespace(r, ns('labelled', { env: 'prod' }), defaultSettings)).toBe(true);
    expect(ruleTargetsNamespace(r, ns('neither'), defaultSettings)).toBe(false);
  });

  it('targets nothing without patterns or selector', () => {
    expect(ruleTargetsNamespace(rule('Secret', {}), ns('dst'), defaultSettings)).toBe(false);
  });

  it.each(kinds)('never targets the source\'s own namespace (%s), not even with * or a matching selector', (kind) => {
    expect(ruleTargetsNamespace(rule(kind, everywhere), ns('src'), defaultSettings)).toBe(false);
    expect(ruleTargetsNamespace(rule(kind, { selector: selector('') }), ns('src'), defaultSettings)).toBe(false);
    expect(ruleTargetsNamespace(rule(kind, everywhere), ns('other'), defaultSettings)).toBe(true);
  });

  it.each(kinds)('applies --exclude-namespaces to %s (mittwald only did for Secrets and ConfigMaps)', (kind) => {
    const settings = { ...defaultSettings, excludeNamespaces: parseExcludePatterns('^kube-') };
    expect(ruleTargetsNamespace(rule(kind, everywhere), ns('kube-public'), settings)).toBe(false);
    expect(ruleTargetsNamespace(rule(kind, { patterns: parseNamespacePatterns('kube-public') }), ns('kube-public'), settings)).toBe(false);
    expect(ruleTargetsNamespace(rule(kind, everywhere), ns('app'), settings)).toBe(true);
  });

  it.each(kinds)('never pushes a %s into a namespace labelled deny, or a terminating one', (kind) => {
    expect(ruleTargetsNamespace(rule(kind, everywhere), ns('dst', { [namespaceReplicationLabel]: 'deny' }), defaultSettings)).toBe(false);
    expect(ruleTargetsNamespace(rule(kind, { patterns: parseNamespacePatterns('dst') }), ns('dst', {}, true), defaultSettings)).toBe(false);
  });

  it('in opt-in mode pushes only into namespaces labelled allow', () => {
    const settings = { ...defaultSettings, requireNamespaceOptIn: true };
    expect(ruleTargetsNamespace(rule('Secret', everywhere), ns('dst'), settings)).toBe(false);
    expect(ruleTargetsNamespace(rule('Secret', everywhere), ns('dst', { [namespaceReplicationLabel]: 'allow' }), settings)).toBe(true);
    // Opting in does not make a namespace a target: the rule must still want it.
    expect(ruleTargetsNamespace(rule('Secret', { patterns: parseNamespacePatterns('x') }), ns('dst', { [namespaceReplicationLabel]: 'allow' }), settings)).toBe(false);
  });

  it('honours the rule\'s own exclusions', () => {
    const r = rule('Secret', { patterns: parseNamespacePatterns('*'), exclude: parseNamespacePatterns('secret-.*') });
    expect(ruleTargetsNamespace(r, ns('secret-vault'), defaultSettings)).toBe(false);
    expect(ruleTargetsNamespace(r, ns('public'), defaultSettings)).toBe(true);
  });
});

describe('namedTargets: the namespaces a rule can reach, when it names them', () => {
  it('a list of plain names is exactly those names, and matches them as the RE2 program would', () => {
    const t: TargetNamespaces = { patterns: parseNamespacePatterns('team-a, team-b,Team-C') };
    expect([...namedTargets(t)!]).toEqual(['team-a', 'team-b', 'Team-C']);
    for (const name of ['team-a', 'team-b', 'Team-C']) expect(t.patterns!.matches(name)).toBe(true);
    for (const name of ['team-c', 'team-a2', 'xteam-a', 'team']) expect(t.patterns!.matches(name)).toBe(false);
  });

  it.each(['team-.*', 'team-a,team.b', 'team-[ab]', '*', '.*', 'a|b', '(?i)team-a'])('%s needs every namespace tested', (list) => {
    expect(namedTargets({ patterns: parseNamespacePatterns(list) })).toBeUndefined();
  });

  it('a selector needs every namespace tested; no patterns and no selector reach nothing', () => {
    expect(namedTargets({ patterns: parseNamespacePatterns('a'), selector: selector('env=prod') })).toBeUndefined();
    expect(namedTargets({ selector: selector('env=prod') })).toBeUndefined();
    expect([...namedTargets({})!]).toEqual([]);
  });

  it('invalid elements are left out, as the matcher leaves them out', () => {
    const t: TargetNamespaces = { patterns: parseNamespacePatterns(`ok,${'x'.repeat(2000)}`) };
    expect([...namedTargets(t)!]).toEqual(['ok']);
  });
});

describe('sourceRefusal', () => {
  const src = (over: Partial<KubeObject> = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject =>
    ({ metadata: { name: 'obj', namespace: 'src', ...meta }, ...over });

  it.each<[string, Kind, KubeObject]>([
    ['a service-account-token Secret', 'Secret', src({ type: 'kubernetes.io/service-account-token' })],
    ['a bootstrap token Secret', 'Secret', src({ type: 'bootstrap.kubernetes.io/token' })],
    ['a Helm release Secret by type', 'Secret', src({ type: 'helm.sh/release.v1' })],
    ['a Helm release Secret by name and owner label', 'Secret', src({ type: 'Opaque' }, { name: 'sh.helm.release.v1.app.v3', labels: { owner: 'helm' } })],
    ['the kube-root-ca.crt ConfigMap', 'ConfigMap', src({}, { name: 'kube-root-ca.crt' })],
  ])('refuses %s', (_name, kind, source) => {
    const r = sourceRefusal(K[kind], source, defaultSettings);
    expect(r).toEqual({ reason: 'SourceNotReplicable', message: expect.any(String) });
    expect(r!.message.length).toBeGreaterThan(10);
  });

  it('refuses every type in the setting, naming the flag, and only those', () => {
    const settings = { neverReplicateSecretTypes: ['example.com/credential'] };
    expect(sourceRefusal(K.Secret, src({ type: 'example.com/credential' }), settings)?.message).toContain('--never-replicate-secret-types');
    // --permissive may drop the built-ins: then they replicate like any Secret.
    expect(sourceRefusal(K.Secret, src({ type: 'bootstrap.kubernetes.io/token' }), settings)).toBeUndefined();
    expect(sourceRefusal(K.Secret, src({ type: 'Opaque' }, { name: 'sh.helm.release.v1.app.v3', labels: { owner: 'helm' } }), settings)).toBeUndefined();
  });

  it.each<[string, Kind, KubeObject]>([
    ['an Opaque Secret', 'Secret', src({ type: 'Opaque' })],
    ['a Secret without type', 'Secret', src()],
    ['a TLS Secret', 'Secret', src({ type: 'kubernetes.io/tls' })],
    ['a dockerconfigjson Secret', 'Secret', src({ type: 'kubernetes.io/dockerconfigjson' })],
    ['a Secret named like a Helm release without the owner label', 'Secret', src({}, { name: 'sh.helm.release.v1.app.v3' })],
    ['a Secret labelled owner=helm with another name', 'Secret', src({}, { name: 'my-secret', labels: { owner: 'helm' } })],
    ['a Secret named kube-root-ca.crt', 'Secret', src({}, { name: 'kube-root-ca.crt' })],
    ['a ConfigMap of type-like name', 'ConfigMap', src({ type: 'kubernetes.io/service-account-token' })],
    ['a ConfigMap named kube-root-ca', 'ConfigMap', src({}, { name: 'kube-root-ca' })],
    ['a Role', 'Role', src()],
    ['a RoleBinding', 'RoleBinding', src()],
    ['a ServiceAccount', 'ServiceAccount', src()],
  ])('accepts %s', (_name, kind, source) => {
    expect(sourceRefusal(K[kind], source, defaultSettings)).toBeUndefined();
  });
});

describe('rbacPushRefusal', () => {
  const trusted = (list: string): Settings => ({ ...defaultSettings, trustedRbacNamespaces: parseNamespacePatterns(list) });

  it.each(['Role', 'RoleBinding'] as const)('refuses an annotation push of a %s from an untrusted namespace', (kind) => {
    for (const settings of [defaultSettings, trusted('platform'), trusted('sr'), trusted('src-.*')]) {
      const r = rbacPushRefusal(K[kind], rule(kind, everywhere), settings);
      expect(r).toEqual({ reason: 'RbacPushNotTrusted', message: expect.stringContaining('src is not one') });
    }
  });

  it.each(['Role', 'RoleBinding'] as const)('allows an annotation push of a %s from a trusted namespace', (kind) => {
    for (const settings of [trusted('src'), trusted('platform, src'), trusted('s.c'), trusted('*')]) {
      expect(rbacPushRefusal(K[kind], rule(kind, everywhere), settings)).toBeUndefined();
    }
  });

  it('does not restrict policy rules (the admin wrote them)', () => {
    expect(rbacPushRefusal(K.Role, rule('Role', everywhere, { origin: { type: 'policy', name: 'p', uid: 'u' } }), defaultSettings)).toBeUndefined();
  });

  it.each(['Secret', 'ConfigMap', 'ServiceAccount'] as const)('does not apply to %s', (kind) => {
    expect(rbacPushRefusal(K[kind], rule(kind, everywhere), defaultSettings)).toBeUndefined();
  });
});
