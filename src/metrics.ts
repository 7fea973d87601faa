// Prometheus metrics. Labels are bounded sets (kind, outcome, verb, reason, tier, informer): never names,
// namespaces or values, so cardinality stays fixed and no Secret data can reach a label.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerObserver } from './controller/options.ts';
import type { actionOf, Outcome } from './engine/plan.ts';
import { refusalReasons } from './model/event-reasons.ts';
import type { Tier } from './rules/types.ts';

// The label values each series is started at 0 with (see start): `satisfies` fails the build when a value is
// added to the type and not here.
const outcomes = Object.keys({
  InSync: 1, Written: 1, Conflict: 1, Refused: 1, Waiting: 1, Removed: 1, Nothing: 1, Invalid: 1, Suspended: 1, Error: 1,
} satisfies Record<Exclude<Outcome, 'NeedContent'> | 'Error', 1>);
const tiers = Object.keys({ trusted: 1, untrusted: 1, none: 1 } satisfies Record<Tier | 'none', 1>);
const verbs = Object.keys({ create: 1, update: 1, recreate: 1, delete: 1 } satisfies Record<ReturnType<typeof actionOf>, 1>);
/** The statuses the reconciler treats apart (no response, forbidden, cache behind, invalid); others appear when seen. */
const errorStatuses = ['0', '403', '404', '409', '422'];
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'WATCH'];
const codes = ['2xx', '4xx', '5xx', 'none'];
/** prom-client's gauges named like counters (the sum of the `nodejs_active_*` gauges by type, which stay). */
const gaugesNamedTotal = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export class Metrics implements ControllerObserver {
  readonly registry = new Registry();
  private readonly reconciles = new Counter({ name: 'kube_replicator_reconcile_total', help: 'Reconciles by kind, outcome and the tier of the winning rule (trusted, untrusted, none).', labelNames: ['kind', 'outcome', 'tier'], registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'kube_replicator_reconcile_duration_seconds', help: 'Time to reconcile one target.', labelNames: ['kind'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry] });
  private readonly writes = new Counter({ name: 'kube_replicator_writes_total', help: 'Writes to the API server by kind, verb and the tier of the rule written for (trusted, untrusted, none).', labelNames: ['kind', 'verb', 'tier'], registers: [this.registry] });
  private readonly writeErrors = new Counter({ name: 'kube_replicator_write_errors_total', help: 'Failed reconciles by kind and HTTP status (0: no response).', labelNames: ['kind', 'status'], registers: [this.registry] });
  private readonly refusals = new Counter({ name: 'kube_replicator_refusals_total', help: 'Warnings raised (refusals, conflicts, invalid input) by kind and reason.', labelNames: ['kind', 'reason'], registers: [this.registry] });
  private readonly watchRestarts = new Counter({ name: 'kube_replicator_watch_restarts_total', help: 'Watch restarts by informer.', labelNames: ['informer'], registers: [this.registry] });
  private readonly queueLatency = new Histogram({ name: 'kube_replicator_workqueue_wait_seconds', help: 'Time a key waited in the work queue.', buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 30], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'kube_replicator_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly replicas = new Gauge({ name: 'kube_replicator_replicas', help: 'Replicas made by kube-replicator, by kind.', labelNames: ['kind'], registers: [this.registry] });
  readonly failing = new Gauge({ name: 'kube_replicator_failing_targets', help: 'Targets whose last reconcile failed (the API server refused or did not answer; 404 and 409, a cache behind, not counted), by kind.', labelNames: ['kind'], registers: [this.registry] });
  readonly lastSync = new Gauge({ name: 'kube_replicator_last_sync_timestamp_seconds', help: 'When every key was last enqueued for a full resync.', registers: [this.registry] });
  readonly apiRequests = new Counter({ name: 'kube_replicator_api_requests_total', help: 'Requests to the API server by method (WATCH for watch streams) and status class.', labelNames: ['method', 'code'], registers: [this.registry] });
  readonly leader = new Gauge({ name: 'kube_replicator_leader', help: '1 while this process holds the leader lease.', registers: [this.registry] });

  constructor() {
    // Unprefixed, as every Node.js exporter names them, so that standard process and runtime panels find them.
    // Event-loop lag sampled every 100 ms rather than prom-client's 10 ms: 100 wake-ups a second are a
    // measurable share of an idle operator's CPU, and lag that matters lasts longer than 100 ms.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    for (const name of gaugesNamedTotal) this.registry.removeSingleMetric(name);
    for (const method of methods) for (const code of codes) this.apiRequests.inc({ method, code }, 0);
  }

  /**
   * Starts every error and outcome series of the enabled kinds and informers at 0: a series that appears only with
   * the first error has no rate() until the second, and leaves dashboards at "No data".
   */
  start(kinds: readonly string[], informers: readonly string[]): void {
    for (const kind of kinds) {
      for (const outcome of outcomes) for (const tier of tiers) this.reconciles.inc({ kind, outcome, tier }, 0);
      for (const verb of verbs) for (const tier of tiers) this.writes.inc({ kind, verb, tier }, 0);
      for (const status of errorStatuses) this.writeErrors.inc({ kind, status }, 0);
      for (const reason of refusalReasons) this.refusals.inc({ kind, reason }, 0);
      this.duration.zero({ kind });
      this.replicas.set({ kind }, 0);
      this.failing.set({ kind }, 0);
    }
    for (const informer of informers) this.watchRestarts.inc({ informer }, 0);
  }

  reconciled(kind: string, outcome: string, tier: string, seconds: number): void {
    this.reconciles.inc({ kind, outcome, tier });
    this.duration.observe({ kind }, seconds);
  }
  wrote(kind: string, verb: string, tier: string): void { this.writes.inc({ kind, verb, tier }); }
  writeFailed(kind: string, status: number): void { this.writeErrors.inc({ kind, status: String(status) }); }
  refused(kind: string, reason: string): void { this.refusals.inc({ kind, reason }); }
  watchRestarted(informer: string): void { this.watchRestarts.inc({ informer }); }
  queueDone(waitedMs: number): void { this.queueLatency.observe(waitedMs / 1000); }
}
