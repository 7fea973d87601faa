// Sources whose content must be fetched before their targets are worth a worker: fetched here (round-robin by source
// namespace, like the work queue), then their targets are enqueued. Otherwise every worker that picks one of a new
// source's targets would wait on the same GET instead of writing.
import { parseRefKey, type ObjectRef } from '../model/objects.ts';
import { WorkQueue } from './queue.ts';

export class FetchAhead {
  private readonly queue: WorkQueue;
  private readonly fetch: (source: ObjectRef) => Promise<unknown>;
  private readonly fetched: (sourceKey: string) => void;

  /** `fetched` runs after each fetch, whether it succeeded or not (the targets' reconciles report a failure). */
  constructor(concurrency: number, fetch: (source: ObjectRef) => Promise<unknown>, fetched: (sourceKey: string) => void) {
    this.queue = new WorkQueue({ concurrency });
    this.fetch = fetch;
    this.fetched = fetched;
  }

  add(sourceKey: string, group: string): void {
    this.queue.add(sourceKey, group);
  }

  start(): void {
    this.queue.start(async (key) => {
      await this.fetch(parseRefKey(key)).catch(() => undefined);
      this.fetched(key);
      return 'done';
    });
  }

  shutdown(): Promise<void> {
    return this.queue.shutdown();
  }

  get depth(): number {
    return this.queue.depth;
  }

  get inFlight(): number {
    return this.queue.inFlight;
  }
}
