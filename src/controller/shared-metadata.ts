// The metadata of every object of the replicated kinds is held in memory, and the replicas of one source repeat
// each other: the same labels, the same annotations (timestamps and source versions aside), the same namespace
// names and write times. Held once each, a replica costs little more than its name, uid and resourceVersion.
import type { ObjectMeta } from '../model/objects.ts';
import { lastAppliedAnnotation, provenance, volatileAnnotations } from '../rules/vocabulary.ts';

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
 * The last-applied annotation, which can hold a whole Secret, is never kept.
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
  const annotations = m.annotations && withoutKeys(m.annotations, replica ? [lastAppliedAnnotation, ...volatileAnnotations] : [lastAppliedAnnotation]);
  if (annotations) out.annotations = replica ? shareRecord(annotations) : annotations;
  if (m.ownerReferences !== undefined) out.ownerReferences = m.ownerReferences;
  if (m.finalizers !== undefined) out.finalizers = m.finalizers;
  return out;
}

function withoutKeys(a: Record<string, string>, keys: readonly string[]): Record<string, string> {
  if (!keys.some((k) => k in a)) return a;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (!keys.includes(k)) out[k] = v;
  return out;
}
