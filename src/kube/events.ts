// Kubernetes Events: where users look first (`kubectl describe`). Messages are built by the engine from
// names and reasons only, never from object data. Repeats are suppressed so a failing key cannot flood.
import { hostname } from 'node:os';
import type { KubeClient } from './client.ts';

/** Who records kube-replicator's Events (`source.component`, `reportingComponent`). */
export const eventComponent = 'kube-replicator';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface RecordedEvent {
  involved: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly recent = new Map<string, number>();
  private readonly instance = hostname();
  private readonly repeatAfterMs: number;
  /** Observes every event actually sent (metrics, tests). */
  onRecord?: (e: RecordedEvent) => void;
  onError?: (err: unknown, e: RecordedEvent) => void;

  constructor(client: KubeClient, opts: { repeatAfterMs?: number } = {}) {
    this.client = client;
    this.repeatAfterMs = opts.repeatAfterMs ?? 10 * 60_000;
  }

  record(e: RecordedEvent): void {
    const key = `${e.involved.kind}/${e.involved.namespace}/${e.involved.name}/${e.involved.uid}|${e.type}|${e.reason}|${e.message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.repeatAfterMs) return;
    this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value!);
    void this.create(e, now);
  }

  /**
   * Creates the Event unless the cluster already has the same one, recent (e.g. recorded before a restart):
   * a standing problem costs one read after a restart, not a write.
   */
  private async create(e: RecordedEvent, now: number): Promise<void> {
    const namespace = e.involved.namespace || 'default';
    if (e.involved.uid) {
      try {
        const existing = await this.client.request<{ items: { message?: string; type?: string; lastTimestamp?: string; eventTime?: string }[] }>(
          'GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
          { query: { fieldSelector: `involvedObject.uid=${e.involved.uid},reason=${e.reason}` } });
        const message = e.message.slice(0, 1024);
        if (existing.items.some((x) => x.message === message && x.type === e.type && now - Date.parse(x.lastTimestamp ?? x.eventTime ?? '') < this.repeatAfterMs)) return;
      } catch {
        // cannot tell: record it
      }
    }
    const ts = new Date(now).toISOString();
    const body = {
      metadata: { generateName: `${e.involved.name.slice(0, 200)}.`, namespace },
      involvedObject: e.involved,
      reason: e.reason,
      message: e.message.slice(0, 1024),
      type: e.type,
      source: { component: eventComponent },
      reportingComponent: eventComponent,
      reportingInstance: this.instance,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    this.onRecord?.(e);
    await this.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body })
      .catch((err: unknown) => this.onError?.(err, e));
  }
}
