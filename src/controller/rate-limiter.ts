// Token buckets by key. Used for Events that one namespace's objects cause in another namespace: a tenant must
// not be able to make the operator flood someone else's namespace with Events.
export interface RateLimiterOptions {
  /** Events allowed at once. */
  burst: number;
  /** One more is allowed after this long. */
  refillMs: number;
  /** Keys remembered at most (the least recently used are forgotten). */
  maxKeys?: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly opts: Required<RateLimiterOptions>;

  constructor(opts: RateLimiterOptions) {
    this.opts = { maxKeys: 10_000, now: Date.now, ...opts };
  }

  /** Takes one token for `key`; false when its bucket is empty. */
  allow(key: string): boolean {
    const now = this.opts.now();
    const b = this.buckets.get(key) ?? { tokens: this.opts.burst, at: now };
    b.tokens = Math.min(this.opts.burst, b.tokens + (now - b.at) / this.opts.refillMs);
    b.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > this.opts.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
