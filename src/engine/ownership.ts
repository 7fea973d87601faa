// Who made an object: the answer decides whether the engine may update or delete it.
import type { KubeObject } from '../model/objects.ts';
import { isReflectorAutoMirror, reflectorKinds } from '../rules/reflector-rules.ts';
import { annotations as A, provenance as P, reflector as R } from '../rules/vocabulary.ts';

export type Ownership =
  | { type: 'absent' }
  /** Made by kube-replicator: carries our label and source annotation. */
  | { type: 'ours'; source: string; rule: string }
  /**
   * A push replica another replicator made: mittwald/kubernetes-replicator (`replicated-from-version`) or Reflector's
   * auto-reflection (`auto-reflects: True`). Taken over when a rule wants it and it provably came from that rule's
   * source (plan.ts); `version` is the source resourceVersion it records.
   */
  | { type: 'legacy'; by: LegacyReplicator; version?: string }
  /** A user's object that pulls from a source (`replicate-from`, `reflects`): we only ever touch its replicated keys. */
  | { type: 'pullTarget' }
  /** Anything else: never overwritten or deleted unless the admin allowed adoption. */
  | { type: 'foreign' };

export type LegacyReplicator = 'mittwald' | 'reflector';

/**
 * `writtenByUs`: whether our field manager ever wrote the object. Our provenance on an object we never wrote was
 * copied there by someone else: it proves nothing, and such an object is treated as anyone else's.
 * `kind`: the object's kind; Reflector's annotations count only on the kinds Reflector handles (absent: they count).
 */
export function classify(live: KubeObject | undefined, writtenByUs = true, kind?: string): Ownership {
  if (!live) return { type: 'absent' };
  const a = live.metadata.annotations ?? {};
  const reflector = kind === undefined || reflectorKinds.has(kind);
  if (A.replicateFrom in a || (reflector && R.reflects in a && !isReflectorAutoMirror(live))) return { type: 'pullTarget' };
  if (live.metadata.labels?.[P.replicaLabel] === 'true' && a[P.source] && writtenByUs) {
    return { type: 'ours', source: a[P.source], rule: a[P.rule] ?? 'annotation' };
  }
  if (A.replicatedFromVersion in a && !hasOwnKeys(live)) return { type: 'legacy', by: 'mittwald', version: a[A.replicatedFromVersion] };
  if (reflector && isReflectorAutoMirror(live)) return { type: 'legacy', by: 'reflector', version: a[R.reflectedVersion] };
  return { type: 'foreign' };
}

/** Data keys of a Secret/ConfigMap (data and binaryData together), sorted as mittwald writes them. */
export function dataKeys(obj: KubeObject): string[] {
  return [...Object.keys(obj.data ?? {}), ...Object.keys(obj.binaryData ?? {})].sort();
}

/**
 * The keys a replicator put into `obj`: those mittwald's `replicated-keys` lists, or, on a mirror Reflector wrote
 * (`reflected-version` set) and we have not yet, all of them: Reflector replaces the whole data.
 */
export function replicatedKeys(obj: KubeObject): string[] {
  const a = obj.metadata.annotations ?? {};
  const v = a[A.replicatedKeys];
  if (v === undefined && a[R.reflectedVersion]) return dataKeys(obj);
  return v ? v.split(',').filter(Boolean) : [];
}

/** True when a Secret/ConfigMap holds keys that were not replicated into it: data someone else owns. */
export function hasOwnKeys(obj: KubeObject): boolean {
  const replicated = new Set(replicatedKeys(obj));
  return dataKeys(obj).some((k) => !replicated.has(k));
}
