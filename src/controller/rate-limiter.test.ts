import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows a burst, then one per refill period, per key', () => {
    let t = 0;
    const l = new RateLimiter({ burst: 3, refillMs: 1000, now: () => t });
    expect([1, 2, 3, 4].map(() => l.allow('a'))).toEqual([true, true, true, false]);
    expect(l.allow('b')).toBe(true); // another key has its own bucket
    t = 999;
    expect(l.allow('a')).toBe(false);
    t = 1000;
    expect(l.allow('a')).toBe(true);
    expect(l.allow('a')).toBe(false);
    t = 100_000; // refills up to the burst, no more
    expect([1, 2, 3, 4].map(() => l.allow('a'))).toEqual([true, true, true, false]);
  });

  it('forgets the least recently used keys beyond its bound (a forgotten key starts full again)', () => {
    const l = new RateLimiter({ burst: 1, refillMs: 1e9, maxKeys: 2, now: () => 0 });
    expect(l.allow('a')).toBe(true);
    expect(l.allow('a')).toBe(false);
    l.allow('b');
    l.allow('c'); // 'a' is forgotten
    expect(l.allow('a')).toBe(true);
  });
});
