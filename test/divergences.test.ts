// One test per row of DESIGN.md §4 (compatibility decisions) and of the README's "Differences from mittwald" not
// already covered by mittwald-suite.test.ts or mittwald-extra.test.ts, for every kind where the row applies. Each
// name says whether it asserts mittwald's behaviour (same) or our documented divergence.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  admin, b64, createNamespace, decoded, deleteNamespace, maybe, uniqueName, waitFor, waitForEvent,
} from './support/cluster.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';
import { allKinds, kindOps, type Kind, type Obj } from './support/kind-ops.ts';

const M = 'replicator.v1.mittwald.de/';
const REPLICA = 'kube-replicator.io/replica';
const SOURCE = 'kube-replicator.io/source';
const OPT_OUT = 'kube-replicator.io/replication';
const c = admin();
const prefix = uniqueName('dv');
const A = `${prefix}-a`; // the platform's source namespace: trusted (--trusted-source-namespaces), also for RBAC push
const B = `${prefix}-b`;
const B0 = `${prefix}-b0`; // matched by "<prefix>-b" unanchored (mittwald's deletion path), never by us
const C = `${prefix}-c`;
const U = `${prefix}-untrusted`; // a tenant's namespace: its annotations are untrusted
const D = `${prefix}-denied`; // opted out of pushes
const extra: string[] = [];

beforeAll(async () => {
  await Promise.all([
    createNamespace(c, A), createNamespace(c, B), createNamespace(c, B0), createNamespace(c, C, { [`dv-${prefix}`]: 'c' }),
    createNamespace(c, U), createNamespace(c, D, { [OPT_OUT]: 'deny' }),
  ]);
});

afterAll(async () => {
  await Promise.all([A, B, B0, C, U, D, ...extra].map((n) => deleteNamespace(c, n, false)));
});

async function namespace(suffix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${suffix}`;
  extra.push(name);
  return createNamespace(c, name, labels);
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const until = (what: string, check: () => Promise<boolean>) => waitFor(what, check);
const allow = (namespaces: string) => ({ [`${M}replication-allowed`]: 'true', [`${M}replication-allowed-namespaces`]: namespaces });

// ---- per-kind access, so one row can run over every kind --------------------------------------------

const ops = kindOps(c);

const hasData = (kind: Kind) => kind === 'Secret' || kind === 'ConfigMap';
const lower = (kind: Kind) => kind.toLowerCase();

function make(kind: Kind, namespace: string, name: string, value: string, annotations: Record<string, string> = {}, labels?: Record<string, string>) {
  return ops[kind].create(namespace, { metadata: { name, annotations, labels }, ...ops[kind].content(value) });
}

const valueIn = async (kind: Kind, namespace: string, name: string) => ops[kind].valueOf(await ops[kind].read(namespace, name));
const isReplica = (o: Obj | undefined) => o?.metadata?.labels?.[REPLICA] === 'true';
const gone = (kind: Kind, namespace: string, name: string) => until(`${kind} ${namespace}/${name} deleted`, async () => (await ops[kind].read(namespace, name)) === undefined);

/** What mittwald leaves on a push replica: its annotations (keys matching the data), none of our labels. */
function mittwaldReplicaAnnotations(kind: Kind): Record<string, string> {
  return {
    [`${M}replicated-at`]: '2024-01-01T00:00:00Z',
    [`${M}replicated-from-version`]: '4711',
    ...(hasData(kind) ? { [`${M}replicated-keys`]: 'value' } : {}),
  };
}

/** Creation timestamps have one-second resolution: waits until an object created now is strictly younger. */
async function afterCreationSecondOf(obj: Obj): Promise<void> {
  const created = new Date(obj.metadata!.creationTimestamp!).getTime();
  await waitFor('the next creationTimestamp second', () => Date.now() >= created + 1100, 5000);
}

const secret = (namespace: string, name: string) => maybe(c.core.readNamespacedSecret({ namespace, name }));
/** Waits for an Event `reason` on namespace/name whose message contains `text`. */
const eventWith = (namespace: string, name: string, reason: string, text: string) => waitFor(`Event ${reason} "${text}" on ${namespace}/${name}`, async () =>
  (await c.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items.find((e) => e.message?.includes(text)));
const configMap = (namespace: string, name: string) => maybe(c.core.readNamespacedConfigMap({ namespace, name }));

// ---- default flags, with A declared the platform's namespace ----------------------------------------------

describe('DESIGN.md §4 rows, default flags', () => {
  let operator: TestOperator;
  beforeAll(async () => {
    operator = await startTestOperator([`--trusted-rbac-namespaces=${A}`, `--trusted-source-namespaces=${A}`]);
  });
  afterAll(async () => {
    await operator?.stop();
  });

  describe('annotation names, comma split + trim, ns/name (same)', () => {
    it('trims spaces around replicate-to and replication-allowed-namespaces elements and pulls by <namespace>/<name>', async () => {
      await make('Secret', A, 'trim', 'trimmed', { [`${M}replicate-to`]: ` ${B} ,  ${C} ` });
      await until('replica in B', async () => (await valueIn('Secret', B, 'trim')) === 'trimmed');
      await until('replica in C', async () => (await valueIn('Secret', C, 'trim')) === 'trimmed');
      await make('ConfigMap', A, 'trim-pull-source', 'pulled', allow(` ${U} , ${B} `));
      await make('ConfigMap', B, 'trim-pull-target', 'own', { [`${M}replicate-from`]: `${A}/trim-pull-source` });
      await until('pull target filled', async () => (await valueIn('ConfigMap', B, 'trim-pull-target')) === 'pulled');
    });
  });

  describe('label selector grammar (same)', () => {
    it('replicate-to-matching accepts set-based selectors with the apimachinery meaning', async () => {
      const key = `sel-${prefix}`;
      const inX = await namespace('sel-x', { [key]: 'x' });
      const inY = await namespace('sel-y', { [key]: 'y' });
      const blocked = await namespace('sel-blocked', { [key]: 'x', [`blocked-${prefix}`]: 'yes' });
      const other = await namespace('sel-z', { [key]: 'z' });
      await make('ConfigMap', A, 'selector', 'v', { [`${M}replicate-to-matching`]: `${key} in (x, y),!blocked-${prefix}` });
      await until('replica in x', async () => (await valueIn('ConfigMap', inX, 'selector')) === 'v');
      await until('replica in y', async () => (await valueIn('ConfigMap', inY, 'selector')) === 'v');
      expect(await configMap(blocked, 'selector')).toBeUndefined();
      expect(await configMap(other, 'selector')).toBeUndefined();
    });
  });

  describe('pull consent for ConfigMaps (divergence: checked like every other kind)', () => {
    it('pulls a ConfigMap only into namespaces the source consents to', async () => {
      await make('ConfigMap', A, 'consent-src', 'shared', allow(B));
      await make('ConfigMap', A, 'consent-none', 'not shared');
      await make('ConfigMap', A, 'consent-false', 'not shared', { [`${M}replication-allowed`]: 'false', [`${M}replication-allowed-namespaces`]: U });
      await make('ConfigMap', B, 'consent-ok', 'own', { [`${M}replicate-from`]: `${A}/consent-src` });
      await make('ConfigMap', U, 'consent-wrong-ns', 'own', { [`${M}replicate-from`]: `${A}/consent-src` });
      await make('ConfigMap', U, 'consent-no-annotations', 'own', { [`${M}replicate-from`]: `${A}/consent-none` });
      await make('ConfigMap', U, 'consent-allowed-false', 'own', { [`${M}replicate-from`]: `${A}/consent-false` });
      await until('consented pull', async () => (await valueIn('ConfigMap', B, 'consent-ok')) === 'shared');
      for (const name of ['consent-wrong-ns', 'consent-no-annotations', 'consent-allowed-false']) {
        const ev = await waitForEvent(c, U, name, 'SourceNotAvailable');
        expect(ev.type).toBe('Warning');
        expect(await valueIn('ConfigMap', U, name)).toBe('own');
      }
      await waitForEvent(c, A, 'consent-src', 'ReplicationNotPermitted');
    });
  });

  describe('replicate-to edited or removed, namespace unlabelled (divergence #241: replicas no rule wants are removed)', () => {
    it.each(allKinds)('%s: dropping a namespace from replicate-to removes the replica there only', async (kind) => {
      const name = `drop-${lower(kind)}`;
      await make(kind, A, name, 'v', { [`${M}replicate-to`]: `${B},${C}` });
      await until('replica in B', async () => (await valueIn(kind, B, name)) === 'v');
      await until('replica in C', async () => (await valueIn(kind, C, name)) === 'v');
      await ops[kind].patch(A, name, { metadata: { annotations: { [`${M}replicate-to`]: B } } });
      await gone(kind, C, name);
      expect(await valueIn(kind, B, name)).toBe('v');
    });

    it.each(allKinds)('%s: a changed replicate-to-matching selector removes replicas in namespaces it no longer selects', async (kind) => {
      const name = `reselect-${lower(kind)}`;
      await make(kind, A, name, 'v', { [`${M}replicate-to-matching`]: `dv-${prefix}=c` });
      await until('replica in C', async () => (await valueIn(kind, C, name)) === 'v');
      await ops[kind].patch(A, name, { metadata: { annotations: { [`${M}replicate-to-matching`]: `dv-${prefix}=nothing` } } });
      await gone(kind, C, name);
    });

    it.each(allKinds)('%s: removing replicate-to and replicate-to-matching removes every replica', async (kind) => {
      const name = `unannotate-${lower(kind)}`;
      await make(kind, A, name, 'v', { [`${M}replicate-to`]: B, [`${M}replicate-to-matching`]: `dv-${prefix}=c` });
      await until('replica in B', async () => (await valueIn(kind, B, name)) === 'v');
      await until('replica in C', async () => (await valueIn(kind, C, name)) === 'v');
      await ops[kind].patch(A, name, { metadata: { annotations: { [`${M}replicate-to`]: null, [`${M}replicate-to-matching`]: null } } });
      await gone(kind, B, name);
      await gone(kind, C, name);
      expect(await valueIn(kind, A, name)).toBe('v');
    });
  });

  describe('replicas made by mittwald (divergence: recognised and managed)', () => {
    it.each(allKinds)('%s: a mittwald replica is taken over when a source targets it', async (kind) => {
      const name = `mw-take-${lower(kind)}`;
      const old = await make(kind, B, name, 'old', mittwaldReplicaAnnotations(kind));
      await make(kind, A, name, 'new', { [`${M}replicate-to`]: B });
      const taken = await waitFor('taken over', async () => {
        const o = await ops[kind].read(B, name);
        return isReplica(o) && ops[kind].valueOf(o) === 'new' ? o : undefined;
      });
      expect(taken.metadata!.uid).toBe(old.metadata!.uid);
      expect(taken.metadata!.annotations![SOURCE]).toBe(`${A}/${name}`);
      expect(taken.metadata!.annotations![`${M}replicated-from-version`]).not.toBe('4711');
      if (hasData(kind)) expect(taken.metadata!.annotations![`${M}replicated-keys`]).toBe('value');
    });

    it.each(['Secret', 'ConfigMap', 'ServiceAccount'] as const)('%s: an untrusted push takes a mittwald replica over only when mittwald provably copied it from that source', async (kind) => {
      const name = `mw-untrusted-${lower(kind)}`;
      const kept = await make(kind, B, name, 'old', mittwaldReplicaAnnotations(kind));
      await make(kind, U, name, 'new', { [`${M}replicate-to`]: B });
      const ev = await waitForEvent(c, U, name, 'LegacyReplicaKept');
      expect(ev.message).toContain('mittwald');
      await waitForEvent(c, B, name, 'LegacyReplicaKept');
      expect((await ops[kind].read(B, name))?.metadata!.resourceVersion).toBe(kept.metadata!.resourceVersion);
      // The source mittwald copied it from: the replica records the source's resourceVersion. The namespace opts out
      // until the legacy replica is in place, as if mittwald had made it before the switch.
      const proven = `mw-proven-${lower(kind)}`;
      const later = await namespace(`mw-proven-${lower(kind)}`, { [OPT_OUT]: 'deny' });
      const source = await make(kind, U, proven, 'current', { [`${M}replicate-to`]: later });
      await make(kind, later, proven, 'stale', { ...mittwaldReplicaAnnotations(kind), [`${M}replicated-from-version`]: source.metadata!.resourceVersion! });
      await c.core.patchNamespace({ name: later, body: { metadata: { labels: { [OPT_OUT]: null } } } }, mergePatch);
      await until('taken over by its proven source', async () => {
        const o = await ops[kind].read(later, proven);
        return isReplica(o) && ops[kind].valueOf(o) === 'current';
      });
    });

    it.each(allKinds)('%s: a mittwald replica that no rule wants is NOT deleted', async (kind) => {
      const name = `mw-keep-${lower(kind)}`;
      const old = await make(kind, B0, name, 'old', mittwaldReplicaAnnotations(kind));
      await make(kind, A, name, 'new', { [`${M}replicate-to`]: B });
      await until('our replica in B', async () => (await valueIn(kind, B, name)) === 'new');
      await ops[kind].remove(A, name);
      await gone(kind, B, name); // the cleanup ran; mittwald's unanchored "<prefix>-b" would also hit B0
      const kept = await ops[kind].read(B0, name);
      expect(kept?.metadata!.resourceVersion).toBe(old.metadata!.resourceVersion);
      expect(ops[kind].valueOf(kept)).toBe('old');
    });
  });

  describe('cleanup when the source is deleted (divergence: only provable replicas)', () => {
    it.each(['Secret', 'ConfigMap'] as const)('%s: an empty non-replica is never deleted, and a replica a user added keys to keeps them', async (kind) => {
      const name = `provable-${lower(kind)}`;
      const bystander = await ops[kind].create(B0, { metadata: { name } }); // no data, no annotation: mittwald deletes it
      await make(kind, A, name, 'v', { [`${M}replicate-to`]: `${B},${C}` });
      await until('replica in B', async () => (await valueIn(kind, B, name)) === 'v');
      await until('replica in C', async () => (await valueIn(kind, C, name)) === 'v');
      const own = kind === 'Secret' ? { data: { own: b64('mine') } } : { data: { own: 'mine' } };
      await ops[kind].patch(C, name, own);
      await ops[kind].remove(A, name);
      await gone(kind, B, name);
      const kept = await waitFor('C keeps only its own key', async () => {
        const o = await ops[kind].read(C, name);
        return o && !isReplica(o) ? o : undefined;
      });
      expect(kept.data).toEqual(own.data);
      expect(kept.metadata!.annotations?.[SOURCE]).toBeUndefined();
      expect(kept.metadata!.annotations?.[`${M}replicated-keys`]).toBeUndefined();
      expect((await ops[kind].read(B0, name))?.metadata!.resourceVersion).toBe(bystander.metadata!.resourceVersion);
    });
  });

  describe('hand-edited or deleted replica of a trusted rule (divergence: corrected at once)', () => {
    it.each(allKinds)('%s: a hand edit is reverted and a deleted replica recreated without a source change', async (kind) => {
      const name = `heal-${lower(kind)}`;
      const source = await make(kind, A, name, 'v', { [`${M}replicate-to`]: B });
      await until('replica', async () => (await valueIn(kind, B, name)) === 'v');
      await ops[kind].patch(B, name, ops[kind].content('edited-by-hand'));
      await until('edit reverted', async () => (await valueIn(kind, B, name)) === 'v');
      const before = (await ops[kind].read(B, name))!;
      await ops[kind].remove(B, name);
      await until('replica recreated', async () => {
        const o = await ops[kind].read(B, name);
        return Boolean(o && o.metadata!.uid !== before.metadata!.uid && ops[kind].valueOf(o) === 'v');
      });
      expect((await ops[kind].read(A, name))!.metadata!.resourceVersion).toBe(source.metadata!.resourceVersion);
    });
  });

  describe('hand-edited or deleted replica of an untrusted push (divergence: the namespace\'s owner wins)', () => {
    it.each(['Secret', 'ConfigMap', 'ServiceAccount'] as const)('%s: a hand edit is kept and the replica released (TargetClaimed); a deleted replica is recreated', async (kind) => {
      const name = `claim-${lower(kind)}`;
      await make(kind, U, name, 'v', { [`${M}replicate-to`]: B });
      await until('replica', async () => (await valueIn(kind, B, name)) === 'v');
      await ops[kind].patch(B, name, ops[kind].content('edited-by-hand'));
      const released = await waitFor('released', async () => {
        const o = await ops[kind].read(B, name);
        return o && !isReplica(o) ? o : undefined;
      });
      expect(ops[kind].valueOf(released)).toBe('edited-by-hand');
      expect(released.metadata!.annotations?.[SOURCE]).toBeUndefined();
      await waitForEvent(c, B, name, 'TargetClaimed');
      expect((await waitForEvent(c, U, name, 'TargetClaimed')).type).toBe('Warning');
      await ops[kind].remove(B, name);
      await until('replica recreated', async () => {
        const o = await ops[kind].read(B, name);
        return isReplica(o) && ops[kind].valueOf(o) === 'v';
      });
    });
  });

  describe('push into an existing non-replica (divergence: skipped and reported)', () => {
    it.each(['ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'] as const)('%s: the non-replica is left untouched, with TargetConflict Events', async (kind) => {
      const name = `conflict-${lower(kind)}`;
      const mine = await make(kind, B, name, 'mine', {}, { owner: 'me' });
      await make(kind, A, name, 'theirs', { [`${M}replicate-to`]: `${B},${C}` });
      const ev = await waitForEvent(c, A, name, 'TargetConflict');
      expect(ev.type).toBe('Warning');
      await waitForEvent(c, B, name, 'TargetConflict');
      await until('the other target still replicated', async () => (await valueIn(kind, C, name)) === 'theirs');
      const after = await ops[kind].read(B, name);
      expect(after?.metadata!.resourceVersion).toBe(mine.metadata!.resourceVersion);
      expect(ops[kind].valueOf(after)).toBe('mine');
      expect(after?.metadata!.labels).toEqual({ owner: 'me' });
    });
  });

  describe('service-account-token Secrets, Helm release Secrets, kube-root-ca.crt (divergence: never replicated)', () => {
    it('a service-account-token Secret is not pushed; the source gets SourceNotReplicable', async () => {
      await c.core.createNamespacedServiceAccount({ namespace: A, body: { metadata: { name: 'token-owner' } } });
      await c.core.createNamespacedSecret({
        namespace: A,
        body: {
          metadata: { name: 'sa-token', annotations: { 'kubernetes.io/service-account.name': 'token-owner', [`${M}replicate-to`]: B } },
          type: 'kubernetes.io/service-account-token',
        },
      });
      const ev = await waitForEvent(c, A, 'sa-token', 'SourceNotReplicable');
      expect(ev.message).toContain('token');
      expect(await secret(B, 'sa-token')).toBeUndefined();
    });

    it('a Helm release Secret is neither pushed nor pulled; SourceNotReplicable on the source and the pull target', async () => {
      const name = 'sh.helm.release.v1.demo.v1';
      await c.core.createNamespacedSecret({
        namespace: A,
        body: {
          metadata: { name, labels: { owner: 'helm', name: 'demo' }, annotations: { [`${M}replicate-to`]: B, ...allow(C) } },
          type: 'helm.sh/release.v1', data: { release: b64('H4sIAAAA') },
        },
      });
      await c.core.createNamespacedSecret({ namespace: C, body: { metadata: { name: 'helm-pull', annotations: { [`${M}replicate-from`]: `${A}/${name}` } } } });
      const ev = await waitForEvent(c, A, name, 'SourceNotReplicable');
      expect(ev.message).toContain('Helm');
      await waitForEvent(c, C, 'helm-pull', 'SourceNotReplicable');
      expect(await secret(B, name)).toBeUndefined();
      expect((await secret(C, 'helm-pull'))!.data).toBeUndefined();
    });

    it('kube-root-ca.crt with replicate-to is not pushed; the source gets SourceNotReplicable', async () => {
      const published = await waitFor('kube-root-ca.crt in B', () => configMap(B, 'kube-root-ca.crt'));
      await waitFor('kube-root-ca.crt in A', () => configMap(A, 'kube-root-ca.crt'));
      await c.core.patchNamespacedConfigMap({ namespace: A, name: 'kube-root-ca.crt', body: { metadata: { annotations: { [`${M}replicate-to`]: B } } } }, mergePatch);
      const ev = await waitForEvent(c, A, 'kube-root-ca.crt', 'SourceNotReplicable');
      expect(ev.message).toContain('kube-root-ca.crt');
      const inB = (await configMap(B, 'kube-root-ca.crt'))!;
      expect(inB.metadata!.resourceVersion).toBe(published.metadata!.resourceVersion);
      expect(isReplica(inB)).toBe(false);
    });
  });

  describe('RBAC push trust (security model: annotation push of Roles and RoleBindings only from trusted namespaces)', () => {
    it.each(['Role', 'RoleBinding'] as const)('%s: push from an untrusted namespace is refused with RbacPushNotTrusted', async (kind) => {
      const name = `untrusted-${lower(kind)}`;
      await make(kind, U, name, 'v', { [`${M}replicate-to`]: `${B},${C}` });
      const ev = await waitForEvent(c, U, name, 'RbacPushNotTrusted');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(U);
      expect(await ops[kind].read(B, name)).toBeUndefined();
      expect(await ops[kind].read(C, name)).toBeUndefined();
    });

    it('a ConfigMap from the same untrusted namespace is pushed (the control case)', async () => {
      await make('ConfigMap', U, 'untrusted-configmap', 'v', { [`${M}replicate-to`]: B });
      await until('replica', async () => (await valueIn('ConfigMap', B, 'untrusted-configmap')) === 'v');
    });
  });

  describe('namespace opt-out label kube-replicator.io/replication: deny', () => {
    it.each(allKinds)('%s: no replica in an opted-out namespace; opting out later removes the replica', async (kind) => {
      const name = `optout-${lower(kind)}`;
      const later = await namespace(`optout-${lower(kind)}`);
      await make(kind, A, name, 'v', { [`${M}replicate-to`]: `${B},${D},${later}` });
      await until('replica in B', async () => (await valueIn(kind, B, name)) === 'v');
      await until('replica in the namespace not yet opted out', async () => (await valueIn(kind, later, name)) === 'v');
      expect(await ops[kind].read(D, name)).toBeUndefined();
      await c.core.patchNamespace({ name: later, body: { metadata: { labels: { [OPT_OUT]: 'deny' } } } }, mergePatch);
      await gone(kind, later, name);
      expect(await valueIn(kind, B, name)).toBe('v');
    });
  });

  describe('invalid annotations are reported where the user looks', () => {
    it.each(allKinds)('%s: an invalid pattern in replicate-to gives InvalidAnnotation naming it, the valid part still replicates', async (kind) => {
      const name = `badpattern-${lower(kind)}`;
      await make(kind, A, name, 'v', { [`${M}replicate-to`]: `ns-[, ${B}` });
      await until('replica in B', async () => (await valueIn(kind, B, name)) === 'v');
      const ev = await waitForEvent(c, A, name, 'InvalidAnnotation');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain('ns-[');
      expect(ev.message).not.toContain(B);
    });

    it('an invalid replicate-to-matching selector gives InvalidAnnotation; a valid replicate-to beside it still replicates', async () => {
      await make('Secret', A, 'badselector', 'v', { [`${M}replicate-to-matching`]: 'tier in (a', [`${M}replicate-to`]: B });
      await until('replica in B', async () => (await valueIn('Secret', B, 'badselector')) === 'v');
      const ev = await waitForEvent(c, A, 'badselector', 'InvalidAnnotation');
      expect(ev.message).toContain('replicate-to-matching');
    });

    it.each(allKinds)('%s: an invalid replicate-from value gives InvalidAnnotation and the target is untouched', async (kind) => {
      const noSlash = `badfrom-${lower(kind)}`;
      const tooMany = `badfrom2-${lower(kind)}`;
      const t1 = await make(kind, B, noSlash, 'own', { [`${M}replicate-from`]: 'no-slash-here' });
      const t2 = await make(kind, B, tooMany, 'own', { [`${M}replicate-from`]: `${A}/x/y` });
      const e1 = await waitForEvent(c, B, noSlash, 'InvalidAnnotation');
      expect(e1.message).toContain('no-slash-here');
      const e2 = await waitForEvent(c, B, tooMany, 'InvalidAnnotation');
      expect(e2.message).toContain(`${A}/x/y`);
      expect((await ops[kind].read(B, noSlash))!.metadata!.resourceVersion).toBe(t1.metadata!.resourceVersion);
      expect((await ops[kind].read(B, tooMany))!.metadata!.resourceVersion).toBe(t2.metadata!.resourceVersion);
    });

    it('an empty replicate-from value gives InvalidAnnotation too', async () => {
      await make('Secret', B, 'badfrom-empty', 'own', { [`${M}replicate-from`]: '' });
      const e = await waitForEvent(c, B, 'badfrom-empty', 'InvalidAnnotation');
      expect(e.message).toContain('is not of the form <namespace>/<name>');
    });
  });

  describe('RoleBinding roleRef (immutable in the API)', () => {
    const ref = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
    const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }];
    const binding = (namespace: string, name: string) => maybe(c.rbac.readNamespacedRoleBinding({ namespace, name }));

    it('a Role and a RoleBinding to it, pushed together into a new namespace, both arrive (divergence: mittwald may give up on the binding)', async () => {
      const fresh = await namespace('rbac-pair');
      await c.rbac.createNamespacedRoleBinding({
        namespace: A,
        body: { metadata: { name: 'pair', annotations: { [`${M}replicate-to`]: `${prefix}-rbac-.*` } }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pair-role' }, subjects },
      });
      await c.rbac.createNamespacedRole({
        namespace: A,
        body: { metadata: { name: 'pair-role', annotations: { [`${M}replicate-to`]: `${prefix}-rbac-.*` } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
      });
      const replica = await waitFor('binding replica', () => binding(fresh, 'pair'));
      expect(replica.roleRef.name).toBe('pair-role');
      expect(isReplica(await maybe(c.rbac.readNamespacedRole({ namespace: fresh, name: 'pair-role' })))).toBe(true);
    });

    it('a mittwald replica with another roleRef is recreated with the source roleRef when taken over', async () => {
      const old = await c.rbac.createNamespacedRoleBinding({ namespace: B, body: { metadata: { name: 'roleref-mw', annotations: mittwaldReplicaAnnotations('RoleBinding') }, roleRef: ref('view'), subjects } });
      await c.rbac.createNamespacedRoleBinding({ namespace: A, body: { metadata: { name: 'roleref-mw', annotations: { [`${M}replicate-to`]: B } }, roleRef: ref('edit'), subjects } });
      const replaced = await waitFor('replica with edit', async () => ((await binding(B, 'roleref-mw'))?.roleRef.name === 'edit' ? binding(B, 'roleref-mw') : undefined));
      expect(replaced!.metadata!.uid).not.toBe(old.metadata!.uid);
      expect(isReplica(replaced)).toBe(true);
    });
  });

  describe('strip-labels (divergence: strips on a true value only; mittwald strips on any value)', () => {
    it.each(allKinds)('%s: "false" keeps the source labels, "true" strips them', async (kind) => {
      const labels = { team: 'blue' };
      await make(kind, A, `keep-labels-${lower(kind)}`, 'v', { [`${M}replicate-to`]: B, [`${M}strip-labels`]: 'false' }, labels);
      await make(kind, A, `strip-labels-${lower(kind)}`, 'v', { [`${M}replicate-to`]: B, [`${M}strip-labels`]: 'true' }, labels);
      const kept = await waitFor('replica (false)', () => ops[kind].read(B, `keep-labels-${lower(kind)}`));
      const stripped = await waitFor('replica (true)', () => ops[kind].read(B, `strip-labels-${lower(kind)}`));
      expect(kept.metadata!.labels).toMatchObject({ team: 'blue', [REPLICA]: 'true' });
      expect(stripped.metadata!.labels!.team).toBeUndefined();
      expect(stripped.metadata!.labels![REPLICA]).toBe('true');
    });
  });

  describe('pull source deleted (same as mittwald for kinds without keys: the replicated field is cleared, the target kept)', () => {
    it.each(['Role', 'RoleBinding', 'ServiceAccount'] as const)('%s: the pulled field is cleared and refilled when the source comes back', async (kind) => {
      const name = `pull-gone-${lower(kind)}`;
      await make(kind, A, name, 'pulled', allow(B));
      const target = await make(kind, B, `${name}-target`, 'own', { [`${M}replicate-from`]: `${A}/${name}` });
      await until('target filled', async () => (await valueIn(kind, B, `${name}-target`)) === 'pulled');
      await ops[kind].remove(A, name);
      await until('pulled field cleared', async () => (await valueIn(kind, B, `${name}-target`)) === undefined);
      const cleared = (await ops[kind].read(B, `${name}-target`))!;
      expect(cleared.metadata!.uid).toBe(target.metadata!.uid);
      expect(cleared.metadata!.annotations![`${M}replicate-from`]).toBe(`${A}/${name}`);
      await make(kind, A, name, 'back again', allow(B));
      await until('refilled', async () => (await valueIn(kind, B, `${name}-target`)) === 'back again');
    });
  });

  describe('ServiceAccount push (same as mittwald)', () => {
    it('copies only imagePullSecrets (not secrets, not automountServiceAccountToken)', async () => {
      await c.core.createNamespacedServiceAccount({
        namespace: A,
        body: {
          metadata: { name: 'sa-push', labels: { team: 'blue' }, annotations: { [`${M}replicate-to`]: B, 'example.com/note': 'not copied' } },
          imagePullSecrets: [{ name: 'registry-a' }, { name: 'registry-b' }],
          secrets: [{ name: 'some-token' }],
          automountServiceAccountToken: false,
        },
      });
      const replica = await waitFor('replica', () => maybe(c.core.readNamespacedServiceAccount({ namespace: B, name: 'sa-push' })));
      expect(replica.imagePullSecrets).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
      expect(replica.secrets ?? []).toEqual([]);
      expect(replica.automountServiceAccountToken).toBeUndefined();
      expect(replica.metadata!.labels).toMatchObject({ team: 'blue', [REPLICA]: 'true' });
      expect(replica.metadata!.annotations!['example.com/note']).toBeUndefined();
    });
  });

  // README "Differences from mittwald": the mittwald bugs found by running both side by side (#15), one test per row.
  describe('Differences from mittwald: mittwald bugs kube-replicator does not have (#15)', () => {
    let sentinels = 0;
    /**
     * Every watch event of `kind` sent so far has been handled: a push created now is replicated only after them (one
     * watch stream, in order), and their keys were enqueued before it. What must NOT happen can then be asserted.
     */
    async function settled(kind: Kind): Promise<void> {
      const name = `sentinel-${lower(kind)}-${++sentinels}`;
      await make(kind, A, name, 'v', { [`${M}replicate-to`]: B });
      await until(`sentinel ${name} replicated`, async () => (await valueIn(kind, B, name)) === 'v');
      await waitFor('queue drained', () => operator.op.controller.queueDepth === 0 && operator.op.controller.inFlight === 0);
    }
    const eventsOn = async (namespace: string, name: string) => (await c.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items
      .filter((e) => e.source?.component === 'kube-replicator').map((e) => `${e.reason}: ${e.message}`);

    it('a binaryData key removed from a pushed ConfigMap source: removed from the replicas, which are deleted with the source', async () => {
      await c.core.createNamespacedConfigMap({
        namespace: A,
        body: { metadata: { name: 'binary', annotations: { [`${M}replicate-to`]: B } }, data: { text: 't' }, binaryData: { bin1: b64('\u0000one'), bin2: b64('\u0001two') } },
      });
      const replica = await waitFor('replica', async () => {
        const cm = await configMap(B, 'binary');
        return cm?.binaryData?.bin2 ? cm : undefined;
      });
      expect(replica.data).toEqual({ text: 't' });
      expect(replica.binaryData).toEqual({ bin1: b64('\u0000one'), bin2: b64('\u0001two') });
      expect(replica.metadata!.annotations![`${M}replicated-keys`]).toBe('bin1,bin2,text');
      await c.core.patchNamespacedConfigMap({ namespace: A, name: 'binary', body: [{ op: 'remove', path: '/binaryData/bin1' }] }, jsonPatch);
      await until('bin1 removed from the replica', async () => (await configMap(B, 'binary'))?.binaryData?.bin1 === undefined);
      const after = (await configMap(B, 'binary'))!;
      expect(after.binaryData).toEqual({ bin2: b64('\u0001two') });
      expect(after.data).toEqual({ text: 't' });
      expect(after.metadata!.annotations![`${M}replicated-keys`]).toBe('bin2,text');
      expect(after.metadata!.uid).toBe(replica.metadata!.uid);
      // mittwald's replica would still hold bin1, so its keys would not match replicated-keys and it would stay.
      await ops.ConfigMap.remove(A, 'binary');
      await gone('ConfigMap', B, 'binary');
    });

    it('pull source deleted: replicated ConfigMap binaryData keys are removed too; the target keeps its own data and binaryData keys', async () => {
      const source = await c.core.createNamespacedConfigMap({
        namespace: A,
        body: { metadata: { name: 'pull-binary', annotations: allow(B) }, data: { text: 't' }, binaryData: { bin: b64('\u0000pulled') } },
      });
      const target = await c.core.createNamespacedConfigMap({
        namespace: B,
        body: {
          metadata: { name: 'pull-binary-target', annotations: { [`${M}replicate-from`]: `${A}/pull-binary` } },
          data: { own: 'mine' }, binaryData: { ownbin: b64('\u0001mine') },
        },
      });
      const filled = await waitFor('target filled', async () => {
        const cm = await configMap(B, 'pull-binary-target');
        return cm?.binaryData?.bin ? cm : undefined;
      });
      expect(filled.data).toEqual({ own: 'mine', text: 't' });
      expect(filled.binaryData).toEqual({ ownbin: b64('\u0001mine'), bin: b64('\u0000pulled') });
      expect(filled.metadata!.annotations![`${M}replicated-keys`]).toBe('bin,text');
      expect(filled.metadata!.annotations![`${M}replicated-from-version`]).toBe(source.metadata!.resourceVersion);
      await ops.ConfigMap.remove(A, 'pull-binary');
      const cleared = await waitFor('replicated keys removed', async () => {
        const cm = await configMap(B, 'pull-binary-target');
        return cm && cm.binaryData?.bin === undefined ? cm : undefined;
      });
      expect(cleared.metadata!.uid).toBe(target.metadata!.uid);
      expect(cleared.data).toEqual({ own: 'mine' });
      expect(cleared.binaryData).toEqual({ ownbin: b64('\u0001mine') });
      expect(cleared.metadata!.annotations).toEqual({ [`${M}replicate-from`]: `${A}/pull-binary` });
      // The same Event as for a source that stops consenting (or never existed): the puller is not told it was deleted.
      const ev = await waitForEvent(c, B, 'pull-binary-target', 'SourceNotAvailable');
      expect(ev.type).toBe('Warning');
      expect(ev.message).toContain(`source ${A}/pull-binary does not exist or does not permit replication into ${B}`);
      expect(ev.message).toContain('the replicated keys were removed');
    });

    it('pull source\'s consent withdrawn, or replicate-from re-pointed to a source that does not consent: the replicated keys go, as when the source is deleted', async () => {
      await c.core.createNamespacedSecret({ namespace: A, body: { metadata: { name: 'withdrawn', annotations: allow(B) }, data: { pulled: b64('shared') } } });
      await c.core.createNamespacedSecret({ namespace: A, body: { metadata: { name: 'never-shared' }, data: { other: b64('not shared') } } });
      const target = await c.core.createNamespacedSecret({ namespace: B, body: {
        metadata: { name: 'withdrawn-target', annotations: { [`${M}replicate-from`]: `${A}/withdrawn` } }, data: { own: b64('mine') },
      } });
      await until('target filled', async () => decoded((await secret(B, 'withdrawn-target'))?.data).pulled === 'shared');
      // mittwald keeps the copy: its pull fails on consent and writes nothing.
      await c.core.patchNamespacedSecret({ namespace: A, name: 'withdrawn', body: { metadata: { annotations: { [`${M}replication-allowed-namespaces`]: C } } } }, mergePatch);
      const cleared = await waitFor('the pulled key removed', async () => {
        const s = await secret(B, 'withdrawn-target');
        return s && decoded(s.data).pulled === undefined ? s : undefined;
      });
      expect(cleared.metadata!.uid).toBe(target.metadata!.uid);
      expect(decoded(cleared.data)).toEqual({ own: 'mine' });
      expect(cleared.metadata!.annotations).toEqual({ [`${M}replicate-from`]: `${A}/withdrawn` });
      const ev = await eventWith(B, 'withdrawn-target', 'SourceNotAvailable', 'the replicated keys were removed');
      expect(ev.type).toBe('Warning');
      await waitForEvent(c, A, 'withdrawn', 'ReplicationNotPermitted');

      // Consent given again: copied again. Then re-pointed to a source that never consented: the copy goes at once.
      await c.core.patchNamespacedSecret({ namespace: A, name: 'withdrawn', body: { metadata: { annotations: { [`${M}replication-allowed-namespaces`]: B } } } }, mergePatch);
      await until('target filled again', async () => decoded((await secret(B, 'withdrawn-target'))?.data).pulled === 'shared');
      await c.core.patchNamespacedSecret({ namespace: B, name: 'withdrawn-target', body: { metadata: { annotations: { [`${M}replicate-from`]: `${A}/never-shared` } } } }, mergePatch);
      const repointed = await waitFor('the old source\'s key removed', async () => {
        const s = await secret(B, 'withdrawn-target');
        return s && decoded(s.data).pulled === undefined ? s : undefined;
      });
      expect(decoded(repointed.data)).toEqual({ own: 'mine' });
      expect(repointed.metadata!.annotations).toEqual({ [`${M}replicate-from`]: `${A}/never-shared` });
      await eventWith(B, 'withdrawn-target', 'SourceNotAvailable', `source ${A}/never-shared does not exist or does not permit replication`);
    });

    it('replicate-from re-pointed to another source, or removed: only the source named now feeds the target; the old source\'s keys go', async () => {
      await make('ConfigMap', A, 'repoint-old', 'old', allow(B));
      await ops.ConfigMap.patch(A, 'repoint-old', { data: { old: 'o', shared: 'from old' } });
      await c.core.createNamespacedConfigMap({ namespace: A, body: { metadata: { name: 'repoint-new', annotations: allow(B) }, data: { new: 'n', shared: 'from new' } } });
      // A second target of each source: it shows that a source change has been handled.
      await make('ConfigMap', B, 'repoint-witness-old', 'own', { [`${M}replicate-from`]: `${A}/repoint-old` });
      await make('ConfigMap', B, 'repoint-witness-new', 'own', { [`${M}replicate-from`]: `${A}/repoint-new` });
      await c.core.createNamespacedConfigMap({ namespace: B, body: { metadata: { name: 'repoint', annotations: { [`${M}replicate-from`]: `${A}/repoint-old` } }, data: { own: 'mine' } } });
      await until('filled from the old source', async () => (await configMap(B, 'repoint'))?.data?.shared === 'from old');

      await ops.ConfigMap.patch(B, 'repoint', { metadata: { annotations: { [`${M}replicate-from`]: `${A}/repoint-new` } } });
      const repointed = await waitFor('filled from the new source', async () => {
        const cm = await configMap(B, 'repoint');
        return cm?.data?.shared === 'from new' ? cm : undefined;
      });
      expect(repointed.data).toEqual({ own: 'mine', new: 'n', shared: 'from new' });
      expect(repointed.metadata!.annotations![`${M}replicated-keys`]).toBe('new,shared');

      // The old source changes: mittwald would still copy it into the target.
      await ops.ConfigMap.patch(A, 'repoint-old', { data: { old: 'o2', shared: 'from old again' } });
      await until('the old source\'s change handled', async () => (await configMap(B, 'repoint-witness-old'))?.data?.shared === 'from old again');
      await settled('ConfigMap');
      const unchanged = (await configMap(B, 'repoint'))!;
      expect(unchanged.metadata!.resourceVersion).toBe(repointed.metadata!.resourceVersion);
      expect(unchanged.data).toEqual({ own: 'mine', new: 'n', shared: 'from new' });

      // replicate-from removed: the new source changes, and nothing feeds the target any more.
      const detached = await ops.ConfigMap.patch(B, 'repoint', { metadata: { annotations: { [`${M}replicate-from`]: null } } });
      await ops.ConfigMap.patch(A, 'repoint-new', { data: { new: 'n2', shared: 'from new again' } });
      await until('the new source\'s change handled', async () => (await configMap(B, 'repoint-witness-new'))?.data?.shared === 'from new again');
      await settled('ConfigMap');
      const kept = (await configMap(B, 'repoint'))!;
      expect(kept.metadata!.resourceVersion).toBe(detached.metadata!.resourceVersion);
      expect(kept.data).toEqual({ own: 'mine', new: 'n', shared: 'from new' });
    });

    it('a RoleBinding source whose roleRef changes (deleted and created again): the replica is recreated with the new roleRef and subjects', async () => {
      const ref = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
      const user = (name: string) => [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }];
      const binding = (namespace: string, name: string) => maybe(c.rbac.readNamespacedRoleBinding({ namespace, name }));
      const annotations = { [`${M}replicate-to`]: B };
      await c.rbac.createNamespacedRoleBinding({ namespace: A, body: { metadata: { name: 'roleref', annotations }, roleRef: ref('view'), subjects: user('bob') } });
      const first = await waitFor('replica with view', async () => {
        const b = await binding(B, 'roleref');
        return b?.roleRef.name === 'view' ? b : undefined;
      });
      expect(first.subjects).toEqual(user('bob'));
      await c.rbac.deleteNamespacedRoleBinding({ namespace: A, name: 'roleref' });
      const source = await c.rbac.createNamespacedRoleBinding({ namespace: A, body: { metadata: { name: 'roleref', annotations }, roleRef: ref('edit'), subjects: user('alice') } });
      const second = await waitFor('replica with edit', async () => {
        const b = await binding(B, 'roleref');
        return b?.roleRef.name === 'edit' ? b : undefined;
      });
      expect(second.metadata!.uid).not.toBe(first.metadata!.uid);
      expect(second.roleRef).toEqual(ref('edit'));
      expect(second.subjects).toEqual(user('alice'));
      expect(isReplica(second)).toBe(true);
      expect(second.metadata!.annotations![SOURCE]).toBe(`${A}/roleref`);
      expect(second.metadata!.annotations!['kube-replicator.io/source-uid']).toBe(source.metadata!.uid);
    });

    it('a replicate-to-matching source whose own namespace matches the selector: the source itself is never written', async () => {
      const key = `self-${prefix}`;
      const own = await namespace('self');
      const other = await namespace('self-other', { [key]: 'yes' });
      const source = await make('ConfigMap', own, 'self', 'v', { [`${M}replicate-to-matching`]: `${key}=yes` }, { team: 'blue' });
      await until('replica in the other namespace', async () => (await valueIn('ConfigMap', other, 'self')) === 'v');
      // Its own namespace comes to match after the source exists (mittwald's namespace path then writes the source).
      await c.core.patchNamespace({ name: own, body: { metadata: { labels: { [key]: 'yes' } } } }, mergePatch);
      // Namespace events arrive in order: a namespace labelled after it gets its replica only after that event.
      const later = await namespace('self-later', { [key]: 'yes' });
      await until('replica in the namespace labelled later', async () => (await valueIn('ConfigMap', later, 'self')) === 'v');
      await waitFor('queue drained', () => operator.op.controller.queueDepth === 0 && operator.op.controller.inFlight === 0);
      const after = (await configMap(own, 'self'))!;
      expect(after.metadata!.resourceVersion).toBe(source.metadata!.resourceVersion);
      expect(after.metadata!.annotations).toEqual({ [`${M}replicate-to-matching`]: `${key}=yes` });
      expect(after.metadata!.labels).toEqual({ team: 'blue' });
      expect(after.data).toEqual({ value: 'v' });
      // Not even looked at as a target: it would be an object in the way (TargetConflict).
      expect(await eventsOn(own, 'self')).toEqual([]);
    });

    it('two sources of one name push into one namespace, and one is deleted: the older keeps the target (RuleConflict on the younger); a deleted source hands it to the other', async () => {
      // Named so that the tie-break on rule ids would pick the younger sources: age decides first.
      const older = await namespace('same-z');
      const younger1 = await namespace('same-a');
      const younger2 = await namespace('same-b');
      const first = await make('ConfigMap', older, 'same', 'older', { [`${M}replicate-to`]: B });
      const replica = await waitFor('replica of the older source', async () => {
        const cm = await configMap(B, 'same');
        return cm?.data?.value === 'older' ? cm : undefined;
      });
      await afterCreationSecondOf(first);
      await make('ConfigMap', younger1, 'same', 'younger 1', { [`${M}replicate-to`]: B });
      const last = await make('ConfigMap', younger2, 'same', 'younger 2', { [`${M}replicate-to`]: B });
      for (const ns of [younger1, younger2]) {
        const ev = await waitForEvent(c, ns, 'same', 'RuleConflict');
        expect(ev.type).toBe('Warning');
        expect(ev.message).toContain(`${older}/same`);
      }
      // mittwald: the last writer wins.
      const kept = (await configMap(B, 'same'))!;
      expect(kept.metadata!.resourceVersion).toBe(replica.metadata!.resourceVersion);
      expect(kept.data).toEqual({ value: 'older' });
      expect(kept.metadata!.annotations![SOURCE]).toBe(`${older}/same`);

      // mittwald: deleting either source deletes the target.
      await ops.ConfigMap.remove(younger1, 'same');
      await settled('ConfigMap');
      expect((await configMap(B, 'same'))!.metadata!.resourceVersion).toBe(replica.metadata!.resourceVersion);
      await ops.ConfigMap.remove(older, 'same');
      const handed = await waitFor('replica of the remaining source', async () => {
        const cm = await configMap(B, 'same');
        return cm?.data?.value === 'younger 2' ? cm : undefined;
      });
      expect(handed.metadata!.uid).toBe(replica.metadata!.uid);
      expect(handed.data).toEqual({ value: 'younger 2' });
      expect(handed.metadata!.annotations![SOURCE]).toBe(`${younger2}/same`);
      expect(handed.metadata!.annotations!['kube-replicator.io/source-uid']).toBe(last.metadata!.uid);
      expect(handed.metadata!.labels!['kube-replicator.io/source-namespace']).toBe(younger2);
      await ops.ConfigMap.remove(younger2, 'same');
      await gone('ConfigMap', B, 'same');
    });

    it('replicate-from with spaces (" src/s "): trimmed, and pulled', async () => {
      await make('ConfigMap', A, 'spaced', 'pulled', allow(B));
      const values = { padded: `  ${A}/spaced `, 'around-slash': ` ${A} / spaced` };
      for (const [name, from] of Object.entries(values)) {
        await c.core.createNamespacedConfigMap({ namespace: B, body: { metadata: { name: `spaced-${name}`, annotations: { [`${M}replicate-from`]: from } }, data: { own: 'mine' } } });
      }
      for (const [name, from] of Object.entries(values)) {
        const filled = await waitFor(`spaced-${name} filled`, async () => {
          const cm = await configMap(B, `spaced-${name}`);
          return cm?.data?.value ? cm : undefined;
        });
        expect(filled.data).toEqual({ own: 'mine', value: 'pulled' });
        expect(filled.metadata!.annotations![`${M}replicate-from`]).toBe(from); // the user's annotation is left as written
        expect(filled.metadata!.annotations![`${M}replicated-keys`]).toBe('value');
      }
    });

    it('a source change that changes nothing a replica holds (an annotation, a label under strip-labels): no write to a push replica or a Role pull target; replicated-from-version is the version of the last content change', async () => {
      const created = await make('Secret', A, 'no-op-change', 'v1', { [`${M}replicate-to`]: B, [`${M}strip-labels`]: 'true' });
      const replica = await waitFor('replica', async () => {
        const s = await secret(B, 'no-op-change');
        return s && decoded(s.data).value === 'v1' ? s : undefined;
      });
      const hash = replica.metadata!.annotations!['kube-replicator.io/content-hash'];
      expect(replica.metadata!.annotations![`${M}replicated-from-version`]).toBe(created.metadata!.resourceVersion);
      expect(hash).toMatch(/^[0-9a-f]{16}$/);

      await ops.Secret.patch(A, 'no-op-change', { metadata: { labels: { team: 'blue' } } });
      const changed = await ops.Secret.patch(A, 'no-op-change', { metadata: { annotations: { 'example.com/note': 'not replicated' } } });
      await settled('Secret');
      const after = (await secret(B, 'no-op-change'))!;
      expect(after.metadata!.resourceVersion).toBe(replica.metadata!.resourceVersion);
      // mittwald would have written the source's new resourceVersion here.
      expect(after.metadata!.annotations![`${M}replicated-from-version`]).toBe(created.metadata!.resourceVersion);
      expect(after.metadata!.annotations![`${M}replicated-from-version`]).not.toBe(changed.metadata!.resourceVersion);
      expect(after.metadata!.annotations!['kube-replicator.io/content-hash']).toBe(hash);

      const content = await ops.Secret.patch(A, 'no-op-change', { data: { value: b64('v2') } });
      const updated = await waitFor('content change replicated', async () => {
        const s = await secret(B, 'no-op-change');
        return s && decoded(s.data).value === 'v2' ? s : undefined;
      });
      expect(updated.metadata!.annotations![`${M}replicated-from-version`]).toBe(content.metadata!.resourceVersion);
      expect(updated.metadata!.annotations!['kube-replicator.io/content-hash']).not.toBe(hash);
      expect(updated.metadata!.labels!.team).toBeUndefined();
      expect(updated.metadata!.annotations!['example.com/note']).toBeUndefined();

      // A Role pull target (mittwald writes those on every new source version, like push replicas).
      const role = await make('Role', A, 'no-op-pull', 'r', allow(B));
      await make('Role', B, 'no-op-pull-target', 'own', { [`${M}replicate-from`]: `${A}/no-op-pull` });
      const pulled = await waitFor('Role pulled', async () => {
        const r = await ops.Role.read(B, 'no-op-pull-target');
        return ops.Role.valueOf(r) === 'r' ? r : undefined;
      });
      expect(pulled.metadata!.annotations![`${M}replicated-from-version`]).toBe(role.metadata!.resourceVersion);
      await ops.Role.patch(A, 'no-op-pull', { metadata: { annotations: { 'example.com/note': 'not replicated' }, labels: { team: 'blue' } } });
      await settled('Role');
      const still = (await ops.Role.read(B, 'no-op-pull-target'))!;
      expect(still.metadata!.resourceVersion).toBe(pulled.metadata!.resourceVersion);
      expect(still.metadata!.annotations![`${M}replicated-from-version`]).toBe(role.metadata!.resourceVersion);
    });
  });

});

// ---- a second operator: adoption, mittwald's flags, startup -------------------------------------------

describe('DESIGN.md §4 rows, with --adopt-existing --allow-all --sync-by-content', () => {
  const flags = [`--trusted-rbac-namespaces=${A}`, '--adopt-existing', '--allow-all', '--sync-by-content'];
  let operator: TestOperator;
  beforeAll(async () => {
    operator = await startTestOperator(flags);
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it.each(allKinds)('%s: push into an existing non-replica takes it over when adoption is enabled (as mittwald does)', async (kind) => {
    const name = `adopt-${lower(kind)}`;
    const mine = await make(kind, B, name, 'mine', {}, { owner: 'me' });
    if (hasData(kind)) await ops[kind].patch(B, name, { data: { own: kind === 'Secret' ? b64('kept') : 'kept' } });
    await make(kind, A, name, 'theirs', { [`${M}replicate-to`]: B }, { from: 'source' });
    const adopted = await waitFor('adopted', async () => {
      const o = await ops[kind].read(B, name);
      return isReplica(o) && ops[kind].valueOf(o) === 'theirs' ? o : undefined;
    });
    expect(adopted.metadata!.uid).toBe(mine.metadata!.uid);
    expect(adopted.metadata!.annotations![SOURCE]).toBe(`${A}/${name}`);
    expect(adopted.metadata!.labels).toMatchObject({ from: 'source' });
    if (hasData(kind)) expect(Object.keys(adopted.data!).sort()).toEqual(['own', 'value']);
  });

  it('--allow-all pulls without the source\'s consent (same as mittwald)', async () => {
    await make('Secret', A, 'allow-all-src', 'open');
    await make('Secret', U, 'allow-all-target', 'own', { [`${M}replicate-from`]: `${A}/allow-all-src` });
    await until('pulled', async () => (await valueIn('Secret', U, 'allow-all-target')) === 'open');
  });

  it('/healthz and /readyz answer 200 (same as mittwald)', async () => {
    expect((await fetch(`${operator.statusUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${operator.statusUrl}/readyz`)).status).toBe(200);
  });

  it('startup waits for caches: repairs what changed while it was down (new source, deleted replica, deleted source), no errors, no writes to replicas in sync (divergence: mittwald logs AlreadyExists until a resync)', async () => {
    const kinds = allKinds;
    for (const kind of kinds) {
      await make(kind, A, `startup-${lower(kind)}`, 'v', { [`${M}replicate-to`]: `${B},${C}` });
      await make(kind, A, `startup-gone-${lower(kind)}`, 'g', { [`${M}replicate-to`]: B });
    }
    for (const kind of kinds) {
      await until(`${kind} replica in B`, async () => (await valueIn(kind, B, `startup-${lower(kind)}`)) === 'v');
      await until(`${kind} replica in C`, async () => (await valueIn(kind, C, `startup-${lower(kind)}`)) === 'v');
      await until(`${kind} replica of the source deleted later`, async () => (await valueIn(kind, B, `startup-gone-${lower(kind)}`)) === 'g');
    }
    const inSync = new Map<Kind, string>();
    for (const kind of kinds) inSync.set(kind, (await ops[kind].read(B, `startup-${lower(kind)}`))!.metadata!.resourceVersion!);

    await operator.stop();
    // While no operator runs: a new source, a replica deleted by hand, a source deleted (cleanup left to do).
    for (const kind of kinds) {
      await make(kind, A, `startup-new-${lower(kind)}`, 'n', { [`${M}replicate-to`]: B });
      await ops[kind].remove(C, `startup-${lower(kind)}`);
      await ops[kind].remove(A, `startup-gone-${lower(kind)}`);
    }
    operator = await startTestOperator(flags);

    for (const kind of kinds) {
      await until(`${kind} new replica`, async () => (await valueIn(kind, B, `startup-new-${lower(kind)}`)) === 'n');
      await until(`${kind} deleted replica restored`, async () => (await valueIn(kind, C, `startup-${lower(kind)}`)) === 'v');
      await gone(kind, B, `startup-gone-${lower(kind)}`);
    }
    await waitFor('queue drained', () => operator.op.controller.queueDepth === 0 && operator.op.controller.inFlight === 0);
    for (const kind of kinds) {
      expect((await ops[kind].read(B, `startup-${lower(kind)}`))!.metadata!.resourceVersion).toBe(inSync.get(kind));
    }
    const errors = operator.logs.filter((l) => (JSON.parse(l) as { level: string }).level === 'error');
    expect(errors).toEqual([]);
    expect(operator.logs.filter((l) => /AlreadyExists|already exists/i.test(l))).toEqual([]);
  });
});

// ---- a third operator: per-kind switches ------------------------------------------------------------

describe('DESIGN.md §4 flags row: --replicate-configmaps=false --resync-period=1m (same meaning as mittwald)', () => {
  let operator: TestOperator;
  beforeAll(async () => {
    operator = await startTestOperator(['--replicate-configmaps=false', '--resync-period=1m']);
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it('a disabled kind is neither pushed nor pulled; other kinds still are', async () => {
    await make('ConfigMap', A, 'kind-off', 'v', { [`${M}replicate-to`]: B, ...allow(B) });
    await make('ConfigMap', B, 'kind-off-pull', 'own', { [`${M}replicate-from`]: `${A}/kind-off` });
    await make('Secret', A, 'kind-off', 'v', { [`${M}replicate-to`]: B });
    await until('Secret replica', async () => (await valueIn('Secret', B, 'kind-off')) === 'v');
    await waitFor('queue drained', () => operator.op.controller.queueDepth === 0 && operator.op.controller.inFlight === 0);
    expect(operator.op.controller.replicaCounts().map(([k]) => k)).not.toContain('ConfigMap');
    expect(await configMap(B, 'kind-off')).toBeUndefined();
    expect(await valueIn('ConfigMap', B, 'kind-off-pull')).toBe('own');
  });
});
