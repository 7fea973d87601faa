import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { WorkQueue, type Handler, type QueueOptions } from './queue.ts';

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** Lets every pending promise continuation run (one macrotask turn); not a delay. */
const settle = () => new Promise<void>((r) => setImmediate(r));

const queues: WorkQueue[] = [];
function makeQueue(opts: Partial<QueueOptions> = {}): WorkQueue {
  const q = new WorkQueue({ concurrency: 1, baseDelayMs: 1, maxDelayMs: 50, random: () => 0.5, ...opts });
  queues.push(q);
  return q;
}

afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(queues.splice(0).map((q) => q.shutdown()));
});

/** A handler that records the keys it sees and answers 'done'. */
function recorder(): { seen: string[]; handler: Handler } {
  const seen: string[] = [];
  return { seen, handler: async (key) => { seen.push(key); return 'done'; } };
}

describe('WorkQueue: basics', () => {
  it('handles every added key once', async () => {
    const q = makeQueue({ concurrency: 3 });
    const { seen, handler } = recorder();
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    q.start(handler);
    await q.idle();
    expect([...seen].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('dedupes a key that is already waiting, whatever group it is added to', async () => {
    const q = makeQueue();
    q.add('a', 'g1');
    q.add('a', 'g1');
    q.add('a', 'g2');
    q.add('b');
    expect(q.depth).toBe(2);
    const { seen, handler } = recorder();
    q.start(handler);
    await q.idle();
    expect(seen).toEqual(['a', 'b']);
    expect(q.depth).toBe(0);
  });

  it('handles keys added after start, waking idle workers', async () => {
    const q = makeQueue({ concurrency: 2 });
    const { seen, handler } = recorder();
    q.start(handler);
    await q.idle();
    q.add('late');
    await q.idle();
    expect(seen).toEqual(['late']);
  });

  it('start() twice does not start a second set of workers', async () => {
    const q = makeQueue({ concurrency: 1 });
    let running = 0;
    let max = 0;
    const handler: Handler = async () => {
      running++;
      max = Math.max(max, running);
      await settle();
      running--;
      return 'done';
    };
    for (let i = 0; i < 5; i++) q.add(`k${i}`);
    q.start(handler);
    q.start(handler);
    await q.idle();
    expect(max).toBe(1);
  });

  it('runs up to `concurrency` keys in parallel, never more', async () => {
    const q = makeQueue({ concurrency: 3 });
    const threeRunning = deferred();
    const release = deferred();
    let running = 0;
    let max = 0;
    q.start(async () => {
      running++;
      max = Math.max(max, running);
      if (running === 3) threeRunning.resolve();
      await release.promise;
      running--;
      return 'done';
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await threeRunning.promise;
    expect(q.inFlight).toBe(3);
    expect(q.depth).toBe(7);
    release.resolve();
    await q.idle();
    expect(max).toBe(3);
    expect(q.inFlight).toBe(0);
  });

  it('reports each handled key to onDone', async () => {
    const done: [string, number, number, boolean][] = [];
    const q = makeQueue({ baseDelayMs: 60_000, onDone: (k, waited, took, ok) => done.push([k, waited, took, ok]) });
    q.add('good');
    q.add('bad');
    q.start(async (k) => (k === 'good' ? 'done' : 'retry'));
    await q.idle();
    expect(done.map(([k, , , ok]) => [k, ok])).toEqual([['good', true], ['bad', false]]);
    for (const [, waited, took] of done) {
      expect(waited).toBeGreaterThanOrEqual(0);
      expect(took).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('WorkQueue: requeue after a delay', () => {
  it('runs the key again after the delay, without counting a failure', async () => {
    const q = makeQueue({ baseDelayMs: 60_000 });
    const runs: number[] = [];
    const second = deferred();
    q.add('k');
    q.start(async () => {
      runs.push(performance.now());
      if (runs.length === 1) return { requeueAfterMs: 20 };
      second.resolve();
      return 'done';
    });
    await second.promise;
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(15);
    expect(q.failuresOf('k')).toBe(0);
  });
});

describe('WorkQueue: one worker per key', () => {
  it('never runs a key on two workers, and runs it once more when re-added while active', async () => {
    const q = makeQueue({ concurrency: 4 });
    const started = deferred();
    const release = deferred();
    const calls: Record<string, number> = {};
    let activeA = 0;
    let maxActiveA = 0;
    q.start(async (key) => {
      calls[key] = (calls[key] ?? 0) + 1;
      if (key === 'a') {
        activeA++;
        maxActiveA = Math.max(maxActiveA, activeA);
        if (calls.a === 1) {
          started.resolve();
          await release.promise;
        }
        activeA--;
      }
      return 'done';
    });
    q.add('a');
    await started.promise;
    // Three more adds while 'a' is held; free workers must not pick it up.
    q.add('a');
    q.add('a', 'other-group');
    q.add('a');
    q.add('b');
    await settle();
    expect(calls.a).toBe(1);
    expect(q.depth).toBe(0); // the re-add is parked, not waiting
    expect(q.inFlight).toBe(1);
    release.resolve();
    await q.idle();
    expect(calls).toEqual({ a: 2, b: 1 });
    expect(maxActiveA).toBe(1);
  });

  it('runs a key that was not re-added only once', async () => {
    const q = makeQueue({ concurrency: 2 });
    const { seen, handler } = recorder();
    q.add('a');
    q.start(handler);
    await q.idle();
    await settle();
    expect(seen).toEqual(['a']);
  });

  it('idle() does not resolve between the run and the re-run of a re-added key', async () => {
    const q = makeQueue();
    const started = deferred();
    const release = deferred();
    let calls = 0;
    q.start(async () => {
      calls++;
      if (calls === 1) { started.resolve(); await release.promise; }
      return 'done';
    });
    q.add('a');
    await started.promise;
    q.add('a');
    const idle = q.idle();
    release.resolve();
    await idle;
    expect(calls).toBe(2);
  });
});

describe('WorkQueue: retries and backoff', () => {
  it('doubles the delay with each consecutive failure, up to the cap', () => {
    const q = makeQueue({ baseDelayMs: 10, maxDelayMs: 100, random: () => 0.5 });
    const delays = Array.from({ length: 7 }, () => q.retry('k'));
    expect(delays).toEqual([10, 20, 40, 80, 100, 100, 100]);
    expect(q.failuresOf('k')).toBe(7);
    expect(q.failuresOf('other')).toBe(0);
  });

  it('counts failures per key', () => {
    const q = makeQueue({ baseDelayMs: 10, maxDelayMs: 1000 });
    q.retry('a');
    q.retry('a');
    expect(q.retry('b')).toBe(10);
    expect(q.retry('a')).toBe(40);
  });

  it.each<[number, number[]]>([
    [0, [8, 16, 32, 64, 80, 80]],
    [0.25, [9, 18, 36, 72, 90, 90]],
    [0.5, [10, 20, 40, 80, 100, 100]],
    [0.999999, [12, 24, 48, 96, 100, 100]], // jitter never goes past maxDelayMs
  ])('jitters each delay by ±20%% around the capped base (random=%s)', (r, expected) => {
    const q = makeQueue({ baseDelayMs: 10, maxDelayMs: 100, random: () => r });
    expect(Array.from({ length: 6 }, () => q.retry('k'))).toEqual(expected);
  });

  it('uses the defaults (200 ms, doubling) when not configured', () => {
    const q = new WorkQueue({ concurrency: 1, random: () => 0.5 });
    queues.push(q);
    expect([q.retry('k'), q.retry('k'), q.retry('k')]).toEqual([200, 400, 800]);
    for (let i = 0; i < 20; i++) q.retry('k');
    expect(q.retry('k')).toBe(120_000);
  });

  it('re-adds a failed key exactly after its backoff delay', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const q = makeQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    expect(q.retry('k')).toBe(100);
    jest.advanceTimersByTime(99);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(1);
    expect(q.depth).toBe(1);
    expect(q.retry('k')).toBe(200); // already waiting: the timer's add is a no-op
    jest.advanceTimersByTime(200);
    expect(q.depth).toBe(1);
  });

  it('retries a key whose handler answers retry or throws, and forgets its failures once it succeeds', async () => {
    const q = makeQueue({ baseDelayMs: 1, maxDelayMs: 4 });
    const finished = deferred();
    const failuresSeen: number[] = [];
    let calls = 0;
    q.start(async (key) => {
      failuresSeen.push(q.failuresOf(key));
      calls++;
      if (calls === 1) return 'retry';
      if (calls === 2) throw new Error('boom');
      finished.resolve();
      return 'done';
    });
    q.add('k');
    await finished.promise;
    await q.idle();
    expect(failuresSeen).toEqual([0, 1, 2]);
    expect(q.failuresOf('k')).toBe(0);
  });

  it('idle() does not wait for delayed retries', async () => {
    const q = makeQueue({ baseDelayMs: 60_000, maxDelayMs: 60_000 });
    let calls = 0;
    q.start(async () => { calls++; return 'retry'; });
    q.add('k');
    await q.idle();
    expect(calls).toBe(1);
    expect(q.failuresOf('k')).toBe(1);
    expect(q.depth).toBe(0);
  });
});

describe('WorkQueue: addAfter', () => {
  it('adds the key after the delay, once, even when scheduled twice', () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const q = makeQueue();
    q.addAfter('k', 100, 'g');
    q.addAfter('k', 10, 'g'); // already scheduled: the first schedule stands
    jest.advanceTimersByTime(10);
    expect(q.depth).toBe(0);
    jest.advanceTimersByTime(90);
    expect(q.depth).toBe(1);
    // The timer is gone: a new schedule works again.
    q.addAfter('j', 5);
    jest.advanceTimersByTime(5);
    expect(q.depth).toBe(2);
  });
});

describe('WorkQueue: round-robin fairness across groups', () => {
  it('a group with 1000 keys delays a single key of another group by at most one round', async () => {
    const q = makeQueue();
    const { seen, handler } = recorder();
    for (let i = 0; i < 1000; i++) q.add(`big/${i}`, 'big');
    q.add('small/0', 'small');
    q.start(handler);
    await q.idle();
    expect(seen).toHaveLength(1001);
    expect(seen.indexOf('small/0')).toBeLessThanOrEqual(1);
  });

  it('serves a key added while a flood is being worked off within one round', async () => {
    const q = makeQueue();
    const seen: string[] = [];
    let addedAt = -1;
    q.start(async (key) => {
      seen.push(key);
      if (seen.length === 10) {
        q.add('small/0', 'small');
        addedAt = seen.length;
      }
      return 'done';
    });
    for (let i = 0; i < 1000; i++) q.add(`big/${i}`, 'big');
    await q.idle();
    expect(addedAt).toBe(10);
    // Keys of other groups handled between the add and the small key: at most one per other group.
    expect(seen.indexOf('small/0') - addedAt).toBeLessThanOrEqual(1);
  });

  it('alternates between groups and keeps each group in arrival order', async () => {
    const q = makeQueue();
    const { seen, handler } = recorder();
    for (let i = 0; i < 50; i++) q.add(`a/${i}`, 'a');
    for (let i = 0; i < 50; i++) q.add(`b/${i}`, 'b');
    for (let i = 0; i < 3; i++) q.add(`c/${i}`, 'c');
    q.start(handler);
    await q.idle();
    expect(seen.slice(0, 9)).toEqual(['a/0', 'b/0', 'c/0', 'a/1', 'b/1', 'c/1', 'a/2', 'b/2', 'c/2']);
    // After c runs dry, a and b keep alternating.
    expect(seen.slice(9, 13)).toEqual(['a/3', 'b/3', 'a/4', 'b/4']);
    for (const g of ['a', 'b']) {
      const mine = seen.filter((k) => k.startsWith(`${g}/`));
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => `${g}/${i}`));
    }
  });

  it('keeps arrival order in a group of thousands that grows while it is worked off (its taken keys are dropped as it goes)', async () => {
    const q = makeQueue();
    const seen: string[] = [];
    let added = 3000;
    for (let i = 0; i < added; i++) q.add(`big/${i}`, 'big');
    q.start(async (key) => {
      seen.push(key);
      if (added < 6000) q.add(`big/${added++}`, 'big');
      return 'done';
    });
    await q.idle();
    expect(seen).toEqual(Array.from({ length: 6000 }, (_, i) => `big/${i}`));
    expect(q.depth).toBe(0);
  });

  it('with many flooding groups, a single key waits at most one key per other group', async () => {
    const q = makeQueue();
    const { seen, handler } = recorder();
    for (const g of ['g1', 'g2', 'g3']) for (let i = 0; i < 1000; i++) q.add(`${g}/${i}`, g);
    q.add('lone', 'lone');
    q.start(handler);
    await q.idle();
    expect(seen.indexOf('lone')).toBeLessThanOrEqual(3);
  });
});

describe('WorkQueue: idle()', () => {
  it('resolves at once when nothing waits and nothing runs', async () => {
    const q = makeQueue();
    await expect(q.idle()).resolves.toBeUndefined();
  });

  it('waits for every waiting and running key', async () => {
    const q = makeQueue({ concurrency: 2 });
    const release = deferred();
    const finished: string[] = [];
    q.start(async (k) => {
      if (k === 'slow') await release.promise;
      finished.push(k);
      return 'done';
    });
    q.add('slow');
    q.add('fast');
    let idle = false;
    const p = q.idle().then(() => { idle = true; });
    await settle();
    expect(finished).toEqual(['fast']);
    expect(idle).toBe(false);
    release.resolve();
    await p;
    expect(finished).toEqual(['fast', 'slow']);
  });

  it('resolves every waiter', async () => {
    const q = makeQueue();
    const { handler } = recorder();
    q.add('a');
    const waiters = [q.idle(), q.idle(), q.idle()];
    q.start(handler);
    await expect(Promise.all(waiters)).resolves.toHaveLength(3);
  });
});

describe('WorkQueue: shutdown()', () => {
  it('resolves when the queue was never started', async () => {
    const q = makeQueue();
    q.add('a');
    await expect(q.shutdown()).resolves.toBeUndefined();
  });

  it('waits for keys in flight, and takes no new ones', async () => {
    const q = makeQueue();
    const started = deferred();
    const release = deferred();
    const seen: string[] = [];
    q.start(async (k) => {
      seen.push(k);
      if (k === 'k0') { started.resolve(); await release.promise; }
      return 'done';
    });
    for (let i = 0; i < 5; i++) q.add(`k${i}`);
    await started.promise;
    let stopped = false;
    const s = q.shutdown().then(() => { stopped = true; });
    await settle();
    expect(stopped).toBe(false);
    release.resolve();
    await s;
    expect(seen).toEqual(['k0']);
    q.add('after');
    await settle();
    expect(seen).toEqual(['k0']);
  });

  it('stops idle workers', async () => {
    const q = makeQueue({ concurrency: 4 });
    const { handler } = recorder();
    q.start(handler);
    await q.idle();
    await expect(q.shutdown()).resolves.toBeUndefined();
  });

  it('cancels delayed adds', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const q = makeQueue();
    q.addAfter('later', 100);
    q.retry('failed');
    await q.shutdown();
    jest.advanceTimersByTime(10_000);
    expect(q.depth).toBe(0);
  });
});
