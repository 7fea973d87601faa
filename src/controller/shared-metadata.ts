// The metadata of every object of the replicated kinds is held in memory, and the replicas of one source repeat
// each other: the same labels, the same annotations (timestamps and source versions aside), the same namespace
// names and write times. Held once each, a replica costs little more than its name, uid and resourceVersion.
import type { ObjectMeta } from '../model/objects.ts';
import { lastAppliedAnnotation, provenance, replicatorPrefixes, volatileAnnotations } from '../rules/vocabulary.ts';

const STRING_POOL_MAX = 100_000;
const strings = new Map<string, string>();

/** One copy of a repeated short string (namespace names, write times). */
export function internString(s: string): string {
  const had = strings.get(s);
  if (had !== undefined) return had;
  // A bound, not a policy: a string not found is simply kept as it came.
  if (strings.size >= STRING_POOL_MAX) strings.clear();
  strings.set(s, s);
  return s;
}

const records = new Map<string, WeakRef<object>>();
const unheld = new FinalizationRegistry<string>((key) => {
  if (records.get(key)?.deref() === undefined) records.delete(key);
});

/** One frozen copy of a record with this content, kept for as long as some object holds it. */
export function shareRecord<T extends object>(record: T): Readonly<T> {
  const key = JSON.stringify(record);
  const had = records.get(key)?.deref();
  if (had) return had as T;
  const frozen = Object.freeze(record);
  records.set(key, new WeakRef(frozen));
  unheld.register(frozen, key);
  return frozen;
}

/**
 * The metadata the operator keeps of a cached object, in one shape. Of our replicas, the labels and annotations are
 * shared between replicas (frozen), and the annotations that change with every write (`replicated-at`, the source's
 * version) are not kept: no decision made on a replica's metadata alone reads them (see plan's liveIsMetadata).
 * Of other objects only the annotations of the replicator vocabularies are kept (rules, consent, mittwald's
 * provenance): whatever else plans them reads their whole object. The last-applied annotation is never kept.
 */
export function compactMetadata(m: ObjectMeta): ObjectMeta {
  const replica = m.labels?.[provenance.replicaLabel] === 'true';
  const out: ObjectMeta = { name: m.name };
  if (m.namespace !== undefined) out.namespace = internString(m.namespace);
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) out.generation = m.generation;
  if (m.creationTimestamp !== undefined) out.creationTimestamp = internString(m.creationTimestamp);
  if (m.deletionTimestamp !== undefined) out.deletionTimestamp = m.deletionTimestamp;
  if (m.labels) out.labels = replica ? shareRecord({ ...m.labels }) : m.labels;
  if (m.annotations) {
    const kept = replica ? withoutKeys(m.annotations, [lastAppliedAnnotation, ...volatileAnnotations]) : replicatorAnnotations(m.annotations);
    if (kept) out.annotations = replica ? shareRecord(kept) : kept;
  }
  if (m.ownerReferences !== undefined) out.ownerReferences = m.ownerReferences;
  if (m.finalizers !== undefined) out.finalizers = m.finalizers;
  return out;
}

/** Of another object, only what a replicator reads: its other annotations (often large, never shared) are not kept. */
function replicatorAnnotations(a: Record<string, string>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k in a) {
    if (replicatorPrefixes.some((p) => k.startsWith(p))) (out ??= {})[k] = a[k]!;
  }
  return out;
}

function withoutKeys(a: Record<string, string>, keys: readonly string[]): Record<string, string> {
  if (!keys.some((k) => k in a)) return a;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (!keys.includes(k)) out[k] = v;
  return out;
}
