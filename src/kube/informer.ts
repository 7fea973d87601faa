// List + watch with a local cache, hardened against the failure modes of client-node's informer:
// jittered exponential backoff on every failure (no tight reconnect loops), restart on any error (never
// stops silently), 410 Gone → relist, bookmarks and a server-side timeout, and an inactivity watchdog.
import { ApiError, type KubeClient, type WatchEvent } from './client.ts';
import { dropManagedFields, type ObjectMeta } from '../model/objects.ts';
import { backoffMs } from '../model/backoff.ts';
import { acceptMetadata, acceptMetadataList } from './resources.ts';

export interface Listed<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T> {
  name: string;
  /** Collection path, e.g. `/api/v1/secrets`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Ask for PartialObjectMetadata instead of whole objects. */
  metadataOnly?: boolean;
  /** Trims what is kept in memory (e.g. managedFields). */
  slim?: (obj: T) => T;
  pageSize?: number;
  /** A stream without any event (bookmarks included) for this long is restarted. */
  inactivityMs?: number;
  /** A full relist this often (jittered), diffed against the cache: a missed event cannot last. */
  relistPeriodMs?: number;
  /** `key` is the cache's own key string for the object (share it rather than build another). */
  onEvent: (type: InformerEvent, obj: T, old: T | undefined, key: string) => void;
  onError?: (err: unknown, attempt: number) => void;
  onWatchRestart?: () => void;
  random?: () => number;
  /** The resource may not exist (a CRD not installed): a 404 counts as an empty, synced list, checked again later. */
  optional?: boolean;
  /** How often an absent optional resource is checked again (default 30 s, jittered). */
  absentRecheckMs?: number;
  /** An optional resource was found absent (false), or present again after being absent (true). */
  onPresence?: (present: boolean) => void;
}

interface HasMeta {
  metadata: ObjectMeta;
}

export const cacheKey = (m: ObjectMeta) => (m.namespace ? `${m.namespace}/${m.name}` : m.name);


export class Informer<T extends HasMeta> {
  readonly name: string;
  private readonly client: KubeClient;
  private readonly opts: InformerOptions<T>;
  private store = new Map<string, T>();
  private resourceVersion = '';
  private abort?: AbortController;
  private running = false;
  private loop?: Promise<void>;
  private syncedResolve!: () => void;
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;
  hasSynced = false;
  /** Epoch ms of the last sign of life from the server (list, event or bookmark). */
  lastActivity = 0;
  restarts = 0;

  constructor(client: KubeClient, opts: InformerOptions<T>) {
    this.client = client;
    // An option given as undefined keeps its default (a spread would let it override the default with undefined:
    // an inactivity watchdog of 0 ms aborted every watch of `plan` and `explain`, whose controllers set none).
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as InformerOptions<T>;
    this.opts = { pageSize: 500, inactivityMs: 5 * 60_000, relistPeriodMs: 60 * 60_000, ...given };
    this.name = opts.name;
    this.synced = new Promise((r) => (this.syncedResolve = r));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  values(): IterableIterator<T> {
    return this.store.values();
  }

  get size(): number {
    return this.store.size;
  }

  /** Records our own write ahead of its watch event; the event, when it comes, replaces it. */
  assume(obj: T): void {
    this.store.set(cacheKey(obj.metadata), obj);
  }

  forget(key: string): void {
    this.store.delete(key);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort?.abort(new Error('informer stopped'));
    await this.loop;
  }

  private lastList = 0;
  /** An optional resource answered 404 at the latest list. */
  private absent = false;

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.abort = new AbortController();
      try {
        if (Date.now() - this.lastList > this.opts.relistPeriodMs! * (0.9 + this.rand() * 0.2)) this.resourceVersion = '';
        if (!this.resourceVersion && !(await this.relistOrAbsent(this.abort.signal))) {
          await this.pause((this.opts.absentRecheckMs ?? 30_000) * (0.8 + this.rand() * 0.4));
          continue;
        }
        failures = 0;
        if (!this.running) break;
        await this.watchOnce(this.abort.signal);
        // A normal end (server timeout) resumes from the last resourceVersion after a short, jittered pause.
        await this.pause(100 + this.rand() * 400);
      } catch (err) {
        if (!this.running) break;
        if (err instanceof ApiError && err.status === 410) {
          this.resourceVersion = ''; // too old: relist and diff
        } else {
          failures++;
          this.opts.onError?.(err, failures);
        }
        this.restarts++;
        this.opts.onWatchRestart?.();
        await this.pause(watchBackoffMs(failures, this.rand()));
      }
    }
  }

  private rand(): number {
    return (this.opts.random ?? Math.random)();
  }

  private pause(ms: number): Promise<void> {
    if (!this.running || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.abort?.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
  }

  /** The custom slim first: it may read managedFields (e.g. who wrote the object) before they are dropped. */
  private slim(obj: T): T {
    const out = this.opts.slim ? this.opts.slim(obj) : obj;
    dropManagedFields(out.metadata);
    return out;
  }

  /** Relists; false when an optional resource does not exist (its cache is then empty). */
  private async relistOrAbsent(signal: AbortSignal): Promise<boolean> {
    try {
      await this.relist(signal);
      if (this.absent) this.opts.onPresence?.(true);
      this.absent = false;
      return true;
    } catch (e) {
      if (!(this.opts.optional && e instanceof ApiError && e.status === 404)) throw e;
      if (!this.absent) this.opts.onPresence?.(false);
      this.absent = true;
      for (const [k, prev] of this.store) {
        this.store.delete(k);
        this.opts.onEvent('delete', prev, prev, k);
      }
      this.lastActivity = Date.now();
      if (!this.hasSynced) {
        this.hasSynced = true;
        this.syncedResolve();
      }
      return false;
    }
  }

  /** Lists every page, then replaces the cache, emitting add/update/delete for the differences. */
  private async relist(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv: string;
    do {
      const page: Listed<T> = await this.client.request('GET', this.opts.path, {
        query: { ...this.query(), limit: this.opts.pageSize, continue: cont },
        accept: this.opts.metadataOnly ? acceptMetadataList : undefined,
        signal,
      });
      for (const item of page.items ?? []) {
        const obj = this.slim(item);
        fresh.set(cacheKey(obj.metadata), obj);
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? '';
    } while (cont);
    this.lastActivity = Date.now();
    this.lastList = this.lastActivity;
    // The fresh list becomes the cache (one map of every object at a time, not two).
    const old = this.store;
    this.store = fresh;
    for (const [k, obj] of fresh) {
      const prev = old.get(k);
      if (!prev) this.opts.onEvent('add', obj, undefined, k);
      else if (prev.metadata.resourceVersion !== obj.metadata.resourceVersion) this.opts.onEvent('update', obj, prev, k);
    }
    for (const [k, prev] of old) if (!fresh.has(k)) this.opts.onEvent('delete', prev, prev, k);
    this.resourceVersion = rv;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.syncedResolve();
    }
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const timeoutSeconds = 240 + Math.floor(this.rand() * 120);
    await this.client.watch<T | { code?: number; message?: string }>(this.opts.path, {
      ...this.query(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds,
    }, (e) => this.apply(e as WatchEvent<T>), {
      accept: this.opts.metadataOnly ? acceptMetadata : undefined, signal, inactivityMs: this.opts.inactivityMs!,
    });
  }

  private apply(e: WatchEvent<T>): void {
    this.lastActivity = Date.now();
    if (e.type === 'ERROR') {
      const status = e.object as unknown as { code?: number; reason?: string; message?: string };
      throw new ApiError(status.code ?? 500, status.reason ?? '', status.message ?? 'watch error');
    }
    const obj = e.object;
    const rv = obj.metadata?.resourceVersion;
    if (e.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = cacheKey(obj.metadata);
    const prev = this.store.get(key);
    if (e.type !== 'DELETED' && prev && rv && prev.metadata.resourceVersion === rv) {
      // Cached at this very version already (our own write, assumed when it returned): nothing new to slim or store.
      this.opts.onEvent('update', prev, prev, key);
      this.resourceVersion = rv;
      return;
    }
    const slim = this.slim(obj);
    if (e.type === 'DELETED') {
      this.store.delete(key);
      this.opts.onEvent('delete', slim, prev, key);
    } else {
      this.store.set(key, slim);
      this.opts.onEvent(prev ? 'update' : 'add', slim, prev, key);
    }
    if (rv) this.resourceVersion = rv;
  }
}

/** A failed watch waits 0.5 s, 1 s, 2 s … 30 s (±20 %). */
const watchBackoffMs = (failures: number, random: number): number => backoffMs(failures, random, 500, 30_000);
