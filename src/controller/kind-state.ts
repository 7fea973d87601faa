// What the operator knows about one kind. Memory follows the number of objects replicated, not their content:
// - every object's metadata (one metadata-only watch: names, labels, annotations, versions), and of them an
//   index of our replicas (by our replica label); a replica's content is fetched only when it must be written or
//   someone else changed it, and not kept;
// - sources and pull targets in full, fetched on demand and kept while their resourceVersion holds.
import type { Kind, KindSpec } from '../model/kinds.ts';
import type { KindCaches } from './event-keys.ts';
import { dropManagedFields, type KubeObject } from '../model/objects.ts';
import type { KubeClient } from '../kube/client.ts';
import { readObject } from '../kube/reads.ts';
import { cacheKey, Informer, type InformerEvent } from '../kube/informer.ts';
import { collectionPath } from '../kube/resources.ts';
import { fieldManager } from '../kube/writer.ts';
import { lastAppliedAnnotation, provenance } from '../rules/vocabulary.ts';
import { compactMetadata, internString, shareRecord } from './shared-metadata.ts';

/** The latest write time (RFC 3339, seconds) of our field manager and of anyone else, from managedFields. */
export interface Writers {
  ours?: string;
  others?: string;
}

const writersByObject = new WeakMap<object, Writers>();

/** Who wrote a cached object; undefined when it came without managedFields. */
export const writersOf = (obj: { metadata: object }): Writers | undefined => writersByObject.get(obj.metadata);

/** Who wrote last, from managedFields (shared: replicas written in the same second have the same answer). */
function writersFrom(metadata: KubeObject['metadata']): Writers | undefined {
  const entries = (metadata as { managedFields?: { manager?: string; time?: string; subresource?: string }[] }).managedFields;
  if (!Array.isArray(entries)) return undefined;
  const w: Writers = {};
  for (const e of entries) {
    if (e.subresource || !e.time) continue;
    const side = e.manager === fieldManager ? 'ours' : 'others';
    if (!w[side] || e.time > w[side]) w[side] = internString(e.time);
  }
  return shareRecord(w);
}

function recordWriters(from: KubeObject['metadata'], on: object): void {
  const w = writersFrom(from);
  if (w) writersByObject.set(on, w);
}

/** What the metadata cache keeps of an object: its compact metadata (see compactMetadata) and who wrote it. */
export function metadataOnly(obj: { metadata: KubeObject['metadata'] }): KubeObject {
  const metadata = compactMetadata(obj.metadata);
  recordWriters(obj.metadata, metadata);
  return { metadata };
}

/**
 * Drops what we never need and must not hold: the last-applied annotation can carry a whole Secret, and
 * managedFields are large; of them only who wrote last is kept (see writersOf).
 */
export function slimObject<T extends { metadata: KubeObject['metadata'] }>(obj: T): T {
  recordWriters(obj.metadata, obj.metadata);
  const a = obj.metadata.annotations;
  if (a && lastAppliedAnnotation in a) {
    const { [lastAppliedAnnotation]: _dropped, ...rest } = a;
    obj.metadata.annotations = rest;
  }
  dropManagedFields(obj.metadata);
  return obj;
}

export interface KindStateHandlers {
  onObject: (kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined) => void;
  onReplica: (kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined) => void;
  onError: (informer: string, err: unknown, attempt: number) => void;
  onWatchRestart: (informer: string) => void;
}

export class KindState {
  readonly kind: Kind;
  readonly spec: KindSpec;
  readonly meta: Informer<KubeObject>;
  /** Our replicas (by label), the same objects as in the metadata cache. */
  readonly replicas = new Map<string, KubeObject>();
  private readonly client: KubeClient;
  private readonly content = new Map<string, KubeObject>();
  private readonly fetching = new Map<string, Promise<KubeObject | undefined>>();

  constructor(client: KubeClient, spec: KindSpec, h: KindStateHandlers, inactivityMs?: number) {
    this.client = client;
    this.spec = spec;
    const kind = (this.kind = spec.kind);
    const path = collectionPath(spec);
    this.meta = new Informer<KubeObject>(client, {
      name: `${kind}/metadata`, path, metadataOnly: true, slim: metadataOnly, inactivityMs,
      onEvent: (t, o, old, key) => {
        if (t === 'delete') this.content.delete(key);
        h.onObject(kind, t, o, old);
        // Replica events as a label-selected watch would give them: an object that loses our label is deleted
        // from the replicas (reported with its new version, so that our own release is recognised as ours).
        const was = isReplica(old);
        const is = t !== 'delete' && isReplica(o);
        if (is) this.replicas.set(key, o);
        else this.replicas.delete(key);
        if (was || is) h.onReplica(kind, is ? (was ? 'update' : 'add') : 'delete', o, was ? old : undefined);
      },
      onError: (e, n) => h.onError(`${kind}/metadata`, e, n),
      onWatchRestart: () => h.onWatchRestart(`${kind}/metadata`),
    });
  }

  start(): void {
    this.meta.start();
  }

  async stop(): Promise<void> {
    await this.meta.stop();
  }

  get synced(): Promise<void> {
    return this.meta.synced;
  }

  get hasSynced(): boolean {
    return this.meta.hasSynced;
  }

  metadata(namespace: string, name: string): KubeObject | undefined {
    return this.meta.get(`${namespace}/${name}`);
  }

  /** Whether full() would answer without a request (or the object is gone). */
  hasContent(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    const m = this.meta.get(key);
    if (!m) return true;
    return this.content.get(key)?.metadata.resourceVersion === m.metadata.resourceVersion;
  }

  /** Our replica's metadata (its content is not held). */
  replicaMetadata(namespace: string, name: string): KubeObject | undefined {
    return this.replicas.get(`${namespace}/${name}`);
  }

  /** The whole object as of the latest metadata we saw: from our content cache, or a GET. */
  async full(namespace: string, name: string): Promise<KubeObject | undefined> {
    const key = `${namespace}/${name}`;
    const m = this.meta.get(key);
    if (!m) return undefined;
    const cached = this.content.get(key);
    if (cached && cached.metadata.resourceVersion === m.metadata.resourceVersion) return cached;
    let pending = this.fetching.get(key);
    if (!pending) {
      pending = this.fetch(key, namespace, name).finally(() => this.fetching.delete(key));
      this.fetching.set(key, pending);
    }
    return pending;
  }

  private async fetch(key: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    const read = await readObject(this.client, this.spec, { kind: this.kind, namespace, name });
    // A replica's content is needed for one write only; sources and pull targets are read again and again.
    if (!read || isReplica(read)) {
      this.content.delete(key);
      return read && slimObject(read);
    }
    const obj = slimObject(read);
    this.content.set(key, obj);
    return obj;
  }

  /**
   * Records the result of our own write so the next reconcile does not act on a stale cache. Of a replica, `obj`
   * may be its metadata only (see Writer): its content is not kept.
   */
  assume(obj: KubeObject): void {
    const key = cacheKey(obj.metadata);
    // The watches hold metadata only: so does what we put in their caches (copied before managedFields go).
    const metadata = metadataOnly(obj);
    const replica = isReplica(obj);
    if (replica) this.content.delete(key);
    else if (this.content.has(key)) this.content.set(key, slimObject(obj));
    this.meta.assume(metadata);
    if (replica) this.replicas.set(key, metadata);
    else this.replicas.delete(key);
  }

  assumeDeleted(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.content.delete(key);
    this.meta.forget(key);
    this.replicas.delete(key);
  }

  /** Drops the cached content of an object that no longer takes part in replication. */
  forgetContent(namespace: string, name: string): void {
    this.content.delete(`${namespace}/${name}`);
  }
}

/** The caches of every kind, as the event mapping reads them. */
export function kindCaches(states: ReadonlyMap<Kind, KindState>): KindCaches {
  const state = (kind: string) => states.get(kind);
  return {
    kinds: () => [...states.keys()],
    spec: (kind) => state(kind)?.spec,
    objects: (kind) => state(kind)?.meta.values() ?? [],
    replicas: (kind) => state(kind)?.replicas.values() ?? [],
    hasReplica: (kind, ns, name) => state(kind)?.replicaMetadata(ns, name) !== undefined,
    hasContent: (kind, ns, name) => state(kind)?.hasContent(ns, name) ?? true,
    forgetContent: (kind, ns, name) => state(kind)?.forgetContent(ns, name),
  };
}

const isReplica = (o: KubeObject | undefined) => o?.metadata.labels?.[provenance.replicaLabel] === 'true';
