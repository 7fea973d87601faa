// Who made an object: the answer decides whether the engine may update or delete it.
import type { KubeObject } from '../model/objects.ts';
import { annotations as A, provenance as P } from '../rules/vocabulary.ts';

export type Ownership =
  | { type: 'absent' }
  /** Made by kube-replicator: carries our label and source annotation. */
  | { type: 'ours'; source: string; rule: string }
  /** Made by mittwald/kubernetes-replicator (push replica): taken over when a rule wants it. */
  | { type: 'mittwald' }
  /** A user's object that pulls from a source (`replicate-from`): we only ever touch its replicated keys. */
  | { type: 'pullTarget' }
  /** Anything else: never overwritten or deleted unless the admin allowed adoption. */
  | { type: 'foreign' };

/**
 * `writtenByUs`: whether our field manager ever wrote the object. Our provenance on an object we never wrote was
 * copied there by someone else: it proves nothing, and such an object is treated as anyone else's.
 */
export function classify(live: KubeObject | undefined, writtenByUs = true): Ownership {
  if (!live) return { type: 'absent' };
  const a = live.metadata.annotations ?? {};
  if (A.replicateFrom in a) return { type: 'pullTarget' };
  if (live.metadata.labels?.[P.replicaLabel] === 'true' && a[P.source] && writtenByUs) {
    return { type: 'ours', source: a[P.source], rule: a[P.rule] ?? 'annotation' };
  }
  if (A.replicatedFromVersion in a && !hasOwnKeys(live)) return { type: 'mittwald' };
  return { type: 'foreign' };
}

/** Data keys of a Secret/ConfigMap (data and binaryData together), sorted as mittwald writes them. */
export function dataKeys(obj: KubeObject): string[] {
  return [...Object.keys(obj.data ?? {}), ...Object.keys(obj.binaryData ?? {})].sort();
}

export function replicatedKeys(obj: KubeObject): string[] {
  const v = obj.metadata.annotations?.[A.replicatedKeys];
  return v ? v.split(',').filter(Boolean) : [];
}

/** True when a Secret/ConfigMap holds keys that were not replicated into it: data someone else owns. */
export function hasOwnKeys(obj: KubeObject): boolean {
  const replicated = new Set(replicatedKeys(obj));
  return dataKeys(obj).some((k) => !replicated.has(k));
}
