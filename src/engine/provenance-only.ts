// Whether a planned write changes nothing but who holds the replica: kube-replicator's provenance and the
// replicators' bookkeeping (mittwald's, Reflector's). `plan` reports such a write as a take-over, not a change, so
// that moving replicas from annotations to policies (`migrate`) plans no change of what any replica holds.
import { contentFields, type KindSpec } from '../model/kinds.ts';
import type { KubeObject } from '../model/objects.ts';
import { canonical } from '../model/canonical.ts';
import type { Write } from './plan.ts';
import { annotations as A, ourPrefix, reflector as R } from '../rules/vocabulary.ts';

const bookkeeping = new Set<string>([A.replicatedAt, A.replicatedFromVersion, A.replicatedKeys, R.autoReflects, R.reflectedVersion, R.reflectedAt]);
const isBookkeeping = (key: string) => key.startsWith(ourPrefix) || bookkeeping.has(key);

/** What a replica holds, as the engine compares it (the kind's content fields), and its metadata without provenance. */
function held(spec: KindSpec, o: KubeObject): unknown {
  const keep = (m: Record<string, string> | undefined) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !isBookkeeping(k)));
  return { content: contentFields(spec, o), labels: keep(o.metadata.labels), annotations: keep(o.metadata.annotations), ownerReferences: o.metadata.ownerReferences ?? [] };
}

/** RFC 7386, as the API server applies a JSON merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** True when `write` on `live` changes only provenance and bookkeeping (a take-over); false for any other write. */
export function changesOnlyProvenance(spec: KindSpec, write: Write, live: KubeObject | undefined): boolean {
  if (!live) return false;
  // A merge patch of our replica always sets its content fields: judge what it leaves behind.
  const after = write.type === 'patch' ? applyMergePatch(live, write.patch) as KubeObject : write.type === 'update' ? write.object : undefined;
  return after !== undefined && canonical(held(spec, after)) === canonical(held(spec, live));
}
