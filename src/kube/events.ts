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

/** Distinct Events of one reason on one object within the repeat window before the rest are combined into one. */
export const distinctPerReason = 25;

/** Bounded maps: oldest entries go first (Map keeps insertion order). */
const remembered = 10_000;
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > remembered) map.delete(map.keys().next().value!);
}

interface Burst {
  since: number;
  distinct: number;
  combined: boolean;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly recent = new Map<string, number>();
  /** Per object and reason: how many distinct Events this window (a source that conflicts in 3 000 namespaces). */
  private readonly bursts = new Map<string, Burst>();
  /** Per object and reason: the recent Events the cluster already had, read once a window (e.g. after a restart). */
  private readonly existing = new Map<string, { at: number; messages: Promise<Set<string>> }>();
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
    const object = `${e.involved.kind}/${e.involved.namespace}/${e.involved.name}/${e.involved.uid}`;
    const key = `${object}|${e.type}|${e.reason}|${e.message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.repeatAfterMs) return;
    remember(this.recent, key, now);
    // Past `distinctPerReason` different messages of one reason on one object in a window, one more Event says the
    // rest are combined, and then nothing until the window ends: `kubectl describe` stays readable, and the API
    // server is not asked to store thousands of Events about one object.
    const pair = `${object}|${e.reason}`;
    let burst = this.bursts.get(pair);
    if (!burst || now - burst.since >= this.repeatAfterMs) remember(this.bursts, pair, burst = { since: now, distinct: 0, combined: false });
    if (++burst.distinct > distinctPerReason) {
      if (burst.combined) return;
      burst.combined = true;
      const minutes = Math.round(this.repeatAfterMs / 60_000);
      e = { ...e, message: `more than ${distinctPerReason} ${e.reason} Events on this object within ${minutes} minutes; the rest are combined into this one (the latest: ${e.message}); \`kubectl replicator explain\` lists them all` };
    }
    void this.create(e, pair, now);
  }

  /** The messages of the recent Events of `pair` the cluster already has: one read per object and reason a window. */
  private recorded(e: RecordedEvent, pair: string, namespace: string, now: number): Promise<Set<string>> {
    const cached = this.existing.get(pair);
    if (cached && now - cached.at < this.repeatAfterMs) return cached.messages;
    const p = this.client.request<{ items: { message?: string; type?: string; lastTimestamp?: string; eventTime?: string }[] }>(
      'GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      { query: { fieldSelector: `involvedObject.uid=${e.involved.uid},reason=${e.reason}` } },
    ).then(
      (list) => new Set(list.items.filter((x) => now - Date.parse(x.lastTimestamp ?? x.eventTime ?? '') < this.repeatAfterMs).map((x) => `${x.type}|${x.message}`)),
      () => new Set<string>(), // cannot tell: record it
    );
    remember(this.existing, pair, { at: now, messages: p });
    return p;
  }

  /**
   * Creates the Event unless the cluster already has the same one, recent (e.g. recorded before a restart):
   * a standing problem costs one read after a restart, not a write.
   */
  private async create(e: RecordedEvent, pair: string, now: number): Promise<void> {
    const namespace = e.involved.namespace || 'default';
    const message = e.message.slice(0, 1024);
    if (e.involved.uid && (await this.recorded(e, pair, namespace, now)).has(`${e.type}|${message}`)) return;
    const ts = new Date(now).toISOString();
    const body = {
      metadata: { generateName: `${e.involved.name.slice(0, 200)}.`, namespace },
      involvedObject: e.involved,
      reason: e.reason,
      message,
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
