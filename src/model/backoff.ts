// One backoff for everything that waits after a failure (watches, the work queue): capped exponential, ±20 % jitter
// so that many waiters that failed together do not retry together.

/** `baseMs` after the first failure, doubling with each one after it, up to `maxMs`, times a jitter of ±20 %. */
export function backoffMs(failures: number, random: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1)) * (0.8 + random * 0.4);
}
