// Waiting for the caches to sync, with a deadline: a failure that retrying will not fix (bad credentials, a missing
// permission, an unreachable API server, TLS) ends the process with one error that says which, instead of a Pod that
// stays unready forever.
import type { Logger } from '../log.ts';
import { explainStartupFailure, StartupError } from '../kube/startup-error.ts';
import { describe } from './reconciler.ts';

export class CacheSync {
  private readonly failures = new Map<string, unknown>();
  private synced = false;
  private readonly server: string;
  private readonly log: Logger;
  private readonly timeoutMs: number;

  constructor(server: string, log: Logger, timeoutMs: number) {
    this.server = server;
    this.log = log;
    this.timeoutMs = timeoutMs;
  }

  /** A watch or list failed: an error (with what to fix) while caches sync, a warning once they have. */
  failed(informer: string, err: unknown, attempt: number): void {
    if (this.synced) {
      this.log.warn('watch failed; retrying with backoff', { informer, attempt, error: describe(err) });
      return;
    }
    // Each informer's failure is said once at error level (again only when the reason changes); retries are debug.
    const why = explainStartupFailure(err, this.server);
    const before = this.failures.get(informer);
    this.failures.set(informer, err);
    const repeated = before !== undefined && explainStartupFailure(before, this.server) === why;
    this.log[repeated ? 'debug' : 'error'](`cannot list ${informer}: ${why}; retrying`, { informer, attempt });
  }

  /** Resolves once `synced` does; a StartupError naming each failure if that takes longer than the timeout. */
  async wait(synced: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = [...this.failures].map(([informer, err]) => `${informer}: ${explainStartupFailure(err, this.server)}`);
        reject(new StartupError(`caches did not sync within ${this.timeoutMs / 1000} s (--cache-sync-timeout)${why.length ? `: ${why.join('; ')}` : ''}`));
      }, this.timeoutMs);
    });
    try {
      await Promise.race([synced, deadline]);
      this.synced = true;
    } finally {
      clearTimeout(timer);
    }
  }
}
