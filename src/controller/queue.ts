// A keyed work queue in the style of client-go's: a key waits at most once, is never handled by two
// workers at once, failures come back after capped exponential backoff, and groups (source namespaces)
// are served round-robin so that one tenant flooding the queue cannot starve the others.

import { backoffMs } from '../model/backoff.ts';

export interface QueueOptions {
  concurrency: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  /** Observes each handled key: how long it waited and how long it took. */
  onDone?: (key: string, waitedMs: number, tookMs: number, ok: boolean) => void;
}

/**
 * `done`: forget the key until it is added again; `retry`: again after backoff (a failure: the delay doubles);
 * `{ requeueAfterMs }`: again after that delay, not counted as a failure (waiting on something else).
 */
export type HandlerResult = 'done' | 'retry' | { requeueAfterMs: number };
export type Handler = (key: string) => Promise<HandlerResult>;

export class WorkQueue {
  /**
   * group → keys waiting in it, in arrival order (an array read from `head`: taking the first key of a Set again and
   * again is linear in the keys taken before, until V8 compacts it); the Map's order is the round-robin order.
   */
  private readonly groups = new Map<string, { keys: string[]; head: number }>();
  private readonly waiting = new Map<string, { group: string; since: number }>();
  private readonly active = new Set<string>();
  /** Keys added again while a worker held them: they run once more afterwards. */
  private readonly dirty = new Map<string, string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly opts: Required<Omit<QueueOptions, 'onDone'>> & Pick<QueueOptions, 'onDone'>;
  private wake?: () => void;
  private running = false;
  private workers: Promise<void>[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(opts: QueueOptions) {
    this.opts = { baseDelayMs: 200, maxDelayMs: 120_000, random: Math.random, ...opts };
  }

  get depth(): number {
    return this.waiting.size;
  }

  get inFlight(): number {
    return this.active.size;
  }

  add(key: string, group = ''): void {
    if (this.active.has(key)) {
      this.dirty.set(key, group);
      return;
    }
    if (this.waiting.has(key)) return;
    const timer = this.timers.get(key);
    if (timer) { // added sooner than its delayed retry: the retry is no longer needed
      clearTimeout(timer);
      this.timers.delete(key);
    }
    this.waiting.set(key, { group, since: Date.now() });
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { keys: [], head: 0 }));
    g.keys.push(key);
    this.wake?.();
  }

  /** Adds `key` after `ms`, unless it is added sooner. */
  addAfter(key: string, ms: number, group = ''): void {
    if (this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, group);
    }, ms);
    t.unref();
    this.timers.set(key, t);
  }

  /** Adds `key` again after a delay that doubles with each consecutive failure. */
  retry(key: string, group = ''): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const ms = Math.min(this.opts.maxDelayMs, Math.round(backoffMs(n, this.opts.random(), this.opts.baseDelayMs, this.opts.maxDelayMs)));
    this.addAfter(key, ms, group);
    return ms;
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  private next(): { key: string; group: string; since: number } | undefined {
    for (const [group, g] of this.groups) {
      const key = g.keys[g.head++]!;
      this.groups.delete(group);
      if (g.head < g.keys.length) {
        if (g.head >= 1024 && g.head * 2 >= g.keys.length) {
          g.keys = g.keys.slice(g.head);
          g.head = 0;
        }
        this.groups.set(group, g); // to the back of the round
      }
      const entry = this.waiting.get(key)!;
      this.waiting.delete(key);
      return { key, group, since: entry.since };
    }
    return undefined;
  }

  start(handler: Handler): void {
    if (this.running) return;
    this.running = true;
    this.workers = Array.from({ length: this.opts.concurrency }, () => this.work(handler));
  }

  private async work(handler: Handler): Promise<void> {
    while (this.running) {
      const item = this.next();
      if (!item) {
        this.notifyIdle();
        await new Promise<void>((r) => {
          const prev = this.wake;
          this.wake = () => { this.wake = undefined; prev?.(); r(); };
        });
        continue;
      }
      const { key, group, since } = item;
      this.active.add(key);
      const started = Date.now();
      let ok = false;
      try {
        const result = await handler(key);
        ok = result !== 'retry';
        if (ok) this.failures.delete(key);
        else this.retry(key, group);
        if (typeof result === 'object') this.addAfter(key, result.requeueAfterMs, group);
      } catch {
        this.retry(key, group); // the handler reports its own errors; the queue only retries
      } finally {
        this.active.delete(key);
        this.opts.onDone?.(key, started - since, Date.now() - started, ok);
        const again = this.dirty.get(key);
        if (again !== undefined) {
          this.dirty.delete(key);
          this.add(key, again);
        }
      }
    }
  }

  private notifyIdle(): void {
    if (this.waiting.size === 0 && this.active.size === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when nothing waits and nothing runs (delayed retries do not count). */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops taking new keys and waits for the keys in flight to finish. */
  async shutdown(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    while (this.wake) this.wake();
    await Promise.all(this.workers);
  }
}
