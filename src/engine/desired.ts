// The desired state of one target object, computed from its source and what is there now.
import { contentFields, copiedFields, type KindSpec } from '../model/kinds.ts';
import { fieldOf, setField, type KubeObject } from '../model/objects.ts';
import { sha256Hex } from '../model/sha256.ts';
import type { PushRule, Tier } from '../rules/types.ts';
import { ruleLabel } from '../rules/rule-id.ts';
import { annotations as A, lastAppliedAnnotation, mittwaldPrefix, ourPrefix, provenance as P, reflector as R, reflectorPrefix, volatileAnnotations } from '../rules/vocabulary.ts';
import { replicatedKeys } from './ownership.ts';
import { canonical } from '../model/canonical.ts';

const clone = <T>(v: T): T => structuredClone(v);


const hashes = new WeakMap<KubeObject, string>();

/**
 * A short digest of replicated content (never the content itself: it may be a Secret). Remembered per object:
 * a source fanned out to thousands of namespaces is hashed once per version, not once per target.
 */
export function contentHash(spec: KindSpec, obj: KubeObject): string {
  let h = hashes.get(obj);
  if (h === undefined) hashes.set(obj, (h = sha256Hex(canonical(contentFields(spec, obj))).slice(0, 16)));
  return h;
}

interface MergedData {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  keys: string[];
}

/**
 * mittwald's key merge: source keys overwrite, keys replicated earlier but gone from the source are removed
 * (from data and binaryData alike), keys the target had itself are kept.
 */
export function mergeData(live: KubeObject | undefined, source: KubeObject): MergedData {
  // Secrets have no binaryData: both maps are merged alike for every kind with data.
  const data = { ...(live?.data ?? {}) };
  const binaryData = { ...(live?.binaryData ?? {}) };
  const sourceKeys = new Set([...Object.keys(source.data ?? {}), ...Object.keys(source.binaryData ?? {})]);
  for (const k of live ? replicatedKeys(live) : []) {
    if (!sourceKeys.has(k)) {
      delete data[k];
      delete binaryData[k];
    }
  }
  for (const [k, v] of Object.entries(source.data ?? {})) { data[k] = v; delete binaryData[k]; }
  for (const [k, v] of Object.entries(source.binaryData ?? {})) { binaryData[k] = v; delete data[k]; }
  return {
    data: Object.keys(data).length ? data : undefined,
    binaryData: Object.keys(binaryData).length ? binaryData : undefined,
    keys: [...sourceKeys].sort(),
  };
}

function replicationAnnotations(spec: KindSpec, source: KubeObject, keys: string[] | undefined, now: string): Record<string, string> {
  const out: Record<string, string> = {
    [A.replicatedAt]: now,
    [A.replicatedFromVersion]: source.metadata.resourceVersion ?? '',
  };
  if (spec.dataMaps) out[A.replicatedKeys] = (keys ?? []).join(',');
  return out;
}

/** The push replica `rule` wants in `namespace`, starting from the live object when there is one. */
export function desiredPushReplica(spec: KindSpec, rule: PushRule, sourceObj: KubeObject, namespace: string, live: KubeObject | undefined, now: string, tier: Tier): KubeObject {
  let source = sourceObj;
  const base: KubeObject = live ? clone(live) : { metadata: { name: source.metadata.name, namespace } };
  base.apiVersion = spec.apiVersion;
  base.kind = spec.kind;
  const m = base.metadata;
  const carry = rule.carry;
  const sourceLabels = Object.entries(source.metadata.labels ?? {}).filter(([k]) => !carry?.labels || carry.labels(k));
  if (carry?.keys) source = onlyKeys(source, carry.keys);
  m.labels = {
    ...(rule.stripLabels ? {} : Object.fromEntries(sourceLabels)),
    [P.replicaLabel]: 'true',
    [P.sourceNamespaceLabel]: rule.source.namespace,
  };
  if (rule.keepOwnerReferences) m.ownerReferences = clone(source.metadata.ownerReferences ?? []);
  if (m.ownerReferences?.length === 0) delete m.ownerReferences;
  const keys = copyContent(spec, base, live, source, 'push');
  const provenance: Record<string, string> = {
    [P.source]: `${rule.source.namespace}/${rule.source.name}`,
    [P.sourceUid]: source.metadata.uid ?? '',
    [P.rule]: ruleLabel(rule.origin),
    [P.tier]: tier,
    [P.contentHash]: contentHash(spec, source),
  };
  if (rule.origin.type === 'policy') provenance[P.policyUid] = rule.origin.uid;
  if (rule.deletionPolicy === 'Orphan') provenance[P.deletionPolicy] = 'Orphan';
  const kept = { ...(m.annotations ?? {}) };
  if (rule.origin.type !== 'policy') delete kept[P.policyUid];
  if (rule.deletionPolicy !== 'Orphan') delete kept[P.deletionPolicy];
  // A Reflector mirror taken over is ours from now on: its bookkeeping would only mislead (and `reflects` pull).
  for (const k of [R.reflects, R.autoReflects, R.reflectedVersion, R.reflectedAt]) delete kept[k];
  const carried = carry?.annotations
    ? Object.fromEntries(Object.entries(source.metadata.annotations ?? {}).filter(([k]) => carry.annotations!(k) && !isBookkeeping(k)))
    : {};
  m.annotations = { ...kept, ...carried, ...provenance, ...replicationAnnotations(spec, source, keys, now) };
  return base;
}

/** Replicator bookkeeping (ours, mittwald's, Reflector's) and the last-applied annotation are never carried. */
function isBookkeeping(key: string): boolean {
  return key.startsWith(mittwaldPrefix) || key.startsWith(reflectorPrefix) || key.startsWith(ourPrefix) || key === lastAppliedAnnotation;
}

/** The source restricted to some data keys (a policy's `keys`). */
function onlyKeys(source: KubeObject, keys: ReadonlySet<string>): KubeObject {
  const pick = (d: Record<string, string> | undefined) => d && Object.fromEntries(Object.entries(d).filter(([k]) => keys.has(k)));
  return { ...source, data: pick(source.data), binaryData: pick(source.binaryData) };
}

/** A replica left behind on purpose (its policy was deleted with `deletionPolicy: Orphan`): ours no more. */
export function orphanedReplica(live: KubeObject): KubeObject {
  const out = clone(live);
  const labels = { ...out.metadata.labels };
  delete labels[P.replicaLabel];
  delete labels[P.sourceNamespaceLabel];
  out.metadata.labels = labels;
  out.metadata.annotations = Object.fromEntries(Object.entries(out.metadata.annotations ?? {}).filter(([k]) => !isBookkeeping(k)));
  return out;
}

/**
 * Copies what `spec` replicates from `source` onto `out` (data maps merged with `live`); returns the replicated keys.
 * A push also sets the push-only fields (a Secret's type, a RoleBinding's roleRef); a pull leaves the target's own.
 */
function copyContent(spec: KindSpec, out: KubeObject, live: KubeObject | undefined, source: KubeObject, mode: 'push' | 'pull'): string[] | undefined {
  const absent = new Map(spec.fields === 'specOrRest' ? [] : spec.fields.map((f) => [f.name, f.absent]));
  for (const name of copiedFields(spec, source, mode)) setField(out, name, clone(fieldOf(source, name) ?? absent.get(name)));
  if (!spec.dataMaps) return undefined;
  const merged = mergeData(live, source);
  for (const m of ['data', 'binaryData'] as const) setField(out, m, merged[m]);
  return merged.keys;
}

/** The pull target after copying from `source` (mittwald's pull: only the replicated fields change). */
export function desiredPullTarget(spec: KindSpec, live: KubeObject, source: KubeObject, now: string): KubeObject {
  const out = clone(live);
  const keys = copyContent(spec, out, live, source, 'pull');
  out.metadata.annotations = { ...(out.metadata.annotations ?? {}), ...replicationAnnotations(spec, source, keys, now) };
  return out;
}

/**
 * The pull target once its source is gone or no longer consents (the two look alike to the puller): only what was
 * replicated is removed (mittwald removes the whole `data`, including the target's own keys, and only when the source
 * is deleted). Undefined when nothing was ever replicated into it. Fields without a
 * `cleared` value (a roleRef, a kind allowed by --extra-kinds, whose empty form may not be valid) stay as they are.
 */
export function clearedPullTarget(spec: KindSpec, live: KubeObject): KubeObject | undefined {
  const a = live.metadata.annotations ?? {};
  if (!(A.replicatedFromVersion in a) && !(A.replicatedKeys in a)) return undefined;
  const out = clone(live);
  if (spec.dataMaps) {
    for (const k of replicatedKeys(live)) {
      if (out.data) delete out.data[k];
      if (out.binaryData) delete out.binaryData[k];
    }
  }
  for (const f of spec.fields === 'specOrRest' ? [] : spec.fields) if (f.cleared !== undefined) setField(out, f.name, clone(f.cleared));
  const annotations = { ...out.metadata.annotations };
  for (const k of [A.replicatedKeys, A.replicatedFromVersion, A.replicatedAt]) delete annotations[k];
  out.metadata.annotations = annotations;
  return out;
}

/** A replica that no rule wants any more, but which holds keys of its own: keep it, minus what we put there. */
export function strippedReplica(spec: KindSpec, live: KubeObject): KubeObject {
  const out = clearedPullTarget(spec, live) ?? clone(live);
  const labels = { ...out.metadata.labels };
  delete labels[P.replicaLabel];
  delete labels[P.sourceNamespaceLabel];
  out.metadata.labels = labels;
  const annotations = { ...out.metadata.annotations };
  for (const k of Object.values(P)) delete annotations[k];
  out.metadata.annotations = annotations;
  return out;
}

/** The metadata a replica's correctness depends on (timestamps and source versions do not count). */
function comparableMetadata(obj: KubeObject): Record<string, unknown> {
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  for (const k of volatileAnnotations) delete annotations[k];
  return { labels: obj.metadata.labels ?? {}, annotations, ownerReferences: obj.metadata.ownerReferences ?? [] };
}

function comparable(spec: KindSpec, obj: KubeObject): string {
  return canonical({ ...comparableMetadata(obj), content: contentFields(spec, obj) });
}

/** Whether two objects of a kind carry the same replicated content (metadata aside). */
export function sameContent(spec: KindSpec, a: KubeObject, b: KubeObject): boolean {
  return canonical(contentFields(spec, a)) === canonical(contentFields(spec, b));
}

/** Whether writing `desired` would change anything that matters (timestamps and source versions do not). */
export function differs(spec: KindSpec, desired: KubeObject, live: KubeObject): boolean {
  return comparable(spec, desired) !== comparable(spec, live);
}

/**
 * Whether a replica known by its metadata only is what `desired` would write: its metadata matches, including the
 * content hash of the source it was written from. Valid only while nobody else has written the replica since our
 * write (its content is then what we wrote, and writing the same source again changes nothing).
 */
export function sameMetadata(desired: KubeObject, live: KubeObject): boolean {
  return canonical(comparableMetadata(desired)) === canonical(comparableMetadata(live));
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type MergePatch = { [k: string]: JsonValue };

/** A JSON merge patch that turns the map `before` into `after` (a key that goes is set to null). */
function mapPatch(before: Record<string, string> | undefined, after: Record<string, string> | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of Object.keys(before ?? {})) if (!(after && k in after)) out[k] = null;
  for (const [k, v] of Object.entries(after ?? {})) if (before?.[k] !== v) out[k] = v;
  return out;
}

/**
 * The write that brings our replica, known by its cached metadata only, to `desired`, as a JSON merge patch guarded
 * by the replica's resourceVersion: one request instead of a GET and a PUT. It is what the PUT of the whole object
 * would change: labels and annotations as in `desired`; each replicated field set; of the data, the source's keys
 * set and the keys replicated before but gone from the source removed, the replica's own keys left as they are
 * (mittwald's merge, see mergeData). A field the API server will not change in place (a Secret's type, a roleRef,
 * an immutable object's data) makes it refuse the patch (422): the caller then writes from the whole object.
 */
export function replicaPatch(spec: KindSpec, desired: KubeObject, live: KubeObject): MergePatch {
  const metadata: MergePatch = {
    resourceVersion: live.metadata.resourceVersion ?? null,
    labels: mapPatch(live.metadata.labels, desired.metadata.labels),
    annotations: mapPatch(live.metadata.annotations, desired.metadata.annotations),
  };
  if (canonical(desired.metadata.ownerReferences ?? []) !== canonical(live.metadata.ownerReferences ?? [])) {
    metadata.ownerReferences = (desired.metadata.ownerReferences ?? null) as JsonValue;
  }
  const patch: MergePatch = { metadata, ...(contentFields(spec, desired) as MergePatch) };
  if (spec.dataMaps) {
    const keep = new Set([...Object.keys(desired.data ?? {}), ...Object.keys(desired.binaryData ?? {})]);
    const gone = replicatedKeys(live).filter((k) => !keep.has(k));
    const keyPatch = (set: Record<string, string> | undefined, moved: Record<string, string> | undefined) => {
      const out: Record<string, string | null> = { ...set };
      for (const k of [...gone, ...Object.keys(moved ?? {})]) out[k] = null;
      return Object.keys(out).length ? out : undefined;
    };
    delete patch.data;
    delete patch.binaryData;
    const data = keyPatch(desired.data, desired.binaryData);
    if (data) patch.data = data;
    // Secrets have no binaryData.
    const binaryData = spec.dataMaps.includes('binaryData') && keyPatch(desired.binaryData, desired.data);
    if (binaryData) patch.binaryData = binaryData;
  }
  return patch;
}

/** Fields the API server will not change in place: a difference means delete and create again. */
export function needsRecreate(spec: KindSpec, desired: KubeObject, live: KubeObject): boolean {
  const value = (o: KubeObject, name: string, absent: unknown) => canonical(fieldOf(o, name) ?? absent);
  const fixed = spec.fields === 'specOrRest' ? [] : spec.fields.filter((f) => f.recreate);
  if (fixed.some((f) => value(desired, f.name, f.absent) !== value(live, f.name, f.absent))) return true;
  // An immutable Secret/ConfigMap only needs a new object when its content must change (metadata stays updatable);
  // recreating one that is already right would recreate it again on every reconcile.
  if (spec.dataMaps && live.immutable === true) return !sameContent(spec, desired, live);
  return false;
}
