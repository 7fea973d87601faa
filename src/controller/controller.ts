// Wires and runs the parts: informers feed events to EventKeys (which keys an event makes worth a reconcile), keys
// wait in a fair work queue, and the Reconciler handles each one. Policies are compiled by the PolicyTracker; their
// rules are derived from the caches by EventKeys. Nothing here decides what a target should be.
import type { Kind } from '../model/kinds.ts';
import type { KubeObject, Namespace, ObjectRef } from '../model/objects.ts';
import { parseRefKey, refKey, refOf } from '../model/objects.ts';
import { rfc3339 } from '../model/time.ts';
import { explainNamespace, explainSource, explainTarget, type NamespaceExplanation, type PullPlan, type SourceExplanation, type TargetExplanation } from '../engine/explain.ts';
import { declaresPull } from '../rules/annotation-rules.ts';
import { ruleTargetsNamespace } from '../rules/targeting.ts';
import { namespaceView } from './event-keys.ts';
import { serviceAccountIdentity, type KubeClient } from '../kube/client.ts';
import { Informer, type InformerEvent } from '../kube/informer.ts';
import { namespacesPath, policiesPath } from '../kube/resources.ts';
import { Writer } from '../kube/writer.ts';
import type { Plan } from '../engine/plan.ts';
import type { ReplicationPolicy } from '../api/replication-policy.ts';
import type { CompileResult } from '../rules/policy-rules.ts';
import { EventKeys } from './event-keys.ts';
import { FetchAhead } from './fetch-ahead.ts';
import { kindCaches, KindState } from './kind-state.ts';
import type { ControllerOptions } from './options.ts';
import { PolicyTracker } from './policy-tracker.ts';
import { Reconciler } from './reconciler.ts';
import { CacheSync } from './cache-sync.ts';
import { WorkQueue } from './queue.ts';

/** Explanations planned at once (each may read an object or two): as many requests as the operator's default. */
const explainConcurrency = 8;

/** `f` of every item, at most `width` at a time; the answers in the items' order. */
async function mapBounded<T, R>(items: readonly T[], width: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

export class Controller {
  private readonly states = new Map<Kind, KindState>();
  private readonly namespaces: Informer<Namespace>;
  private readonly policyInformer: Informer<ReplicationPolicy>;
  private readonly policies: PolicyTracker;
  private readonly queue: WorkQueue;
  private readonly fetchAhead: FetchAhead;
  private readonly keys: EventKeys;
  private readonly reconciler: Reconciler;
  private readonly opts: ControllerOptions;
  private readonly sync: CacheSync; // the deadline for the first sync
  private resyncTimer?: NodeJS.Timeout;
  /** Ready once every initial list has completed. */
  ready = false;
  private working = false;
  lastSyncTime?: Date;

  constructor(client: KubeClient, opts: ControllerOptions) {
    this.opts = opts;
    this.sync = new CacheSync(client.server, opts.log, opts.cacheSyncTimeoutMs ?? 120_000);
    const onError = (informer: string) => (err: unknown, attempt: number) => this.sync.failed(informer, err, attempt);
    const onWatchRestart = (informer: string) => () => opts.observer?.watchRestarted?.(informer);
    this.queue = new WorkQueue({ concurrency: opts.concurrency, onDone: (_k, waited) => opts.observer?.queueDone?.(waited) });
    this.fetchAhead = new FetchAhead(opts.concurrency, (s) => this.states.get(s.kind)!.full(s.namespace, s.name), (key) => this.keys.afterFetch(key));
    for (const spec of opts.kinds.specs) {
      this.states.set(spec.kind, new KindState(client, spec, {
        onObject: (k, t, o, old) => this.onObject(k, t, o, old), onReplica: (k, t, o, old) => this.onReplica(k, t, o, old),
        onError: (name, e, n) => onError(name)(e, n), onWatchRestart: (name) => onWatchRestart(name)(),
      }, opts.watchInactivityMs));
    }
    this.namespaces = new Informer<Namespace>(client, {
      name: 'Namespace', path: namespacesPath, inactivityMs: opts.watchInactivityMs,
      onEvent: (t, ns, old) => this.keys.onNamespace(t, ns, old),
      onError: onError('Namespace'), onWatchRestart: onWatchRestart('Namespace'),
    });
    this.policies = new PolicyTracker({
      client, events: opts.events, log: opts.log, enabledKinds: opts.kinds.kinds, validateSpec: opts.validatePolicySpec,
      counts: (name) => this.keys.policyCounts(name),
      busy: () => this.queueDepth + this.inFlight > 0,
      now: opts.now,
      onStatusWrite: (name) => opts.observer?.statusWritten?.(name),
    });
    // Optional: without the CRD (annotation mode only) the list answers 404 and the informer counts as synced.
    this.policyInformer = new Informer<ReplicationPolicy>(client, {
      name: 'ReplicationPolicy', path: policiesPath, inactivityMs: opts.watchInactivityMs, optional: true,
      onPresence: (present) => this.policies.crdPresent(present),
      onEvent: (t, p) => this.onPolicy(t, p),
      onError: onError('ReplicationPolicy'), onWatchRestart: onWatchRestart('ReplicationPolicy'),
    });
    this.keys = new EventKeys({
      settings: opts.settings, namespaces: this.namespaces, caches: kindCaches(this.states),
      activePolicy: (name) => this.policies.active(name),
      policyNames: () => this.policies.names(),
      enqueue: (key, group) => this.queue.add(key, group),
      fetchAhead: (key, group) => this.fetchAhead.add(key, group),
      working: () => this.working,
      note: (n) => this.reconciler.note(n),
    });
    this.reconciler = new Reconciler({
      client, writer: new Writer(client, opts.rbacWriter ? client.impersonating(serviceAccountIdentity(opts.rbacWriter)) : client),
      states: this.states, namespaces: this.namespaces, rules: this.keys.rules, policies: this.policies,
      settings: opts.settings, log: opts.log, events: opts.events, rbacWriter: opts.rbacWriter, now: opts.now, observer: opts.observer,
      enqueue: (key, group) => this.enqueueKey(key, group),
      failuresOf: (key) => this.queue.failuresOf(key),
      working: () => this.working,
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Starts the watches and resolves after every initial list (a StartupError after --cache-sync-timeout). */
  async syncCaches(): Promise<void> {
    this.namespaces.start();
    for (const s of this.states.values()) s.start();
    await this.sync.wait(Promise.all([this.namespaces.synced, ...[...this.states.values()].map((s) => s.synced)]).then(() => {
      this.policyInformer.start(); // last: compiling policies selects sources from the caches above
      return this.policyInformer.synced;
    }));
  }

  /** Syncs the caches (then ready); with `work`, also starts reconciling (see startWorking). */
  async start(work = true): Promise<void> {
    await this.syncCaches();
    this.ready = true;
    this.opts.log.info('caches synced', { kinds: this.opts.kinds.kinds, namespaces: this.namespaces.size, policies: this.policies.names().length });
    if (work) this.startWorking();
  }

  /** The only way to writes: a standby (leader election) syncs caches but never gets here until it leads. */
  startWorking(): void {
    if (this.working) return;
    this.working = true;
    this.policies.enable();
    this.keys.reportAnnotationProblems();
    this.enqueueAll();
    this.queue.start((key) => this.reconciler.reconcile(key));
    this.fetchAhead.start();
    (this.resyncTimer = setInterval(() => this.enqueueAll(), this.opts.resyncPeriodMs)).unref();
    this.policies.scheduleAll();
    this.opts.log.info('reconciling');
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    this.policies.stop();
    await Promise.all([this.queue.shutdown(), this.fetchAhead.shutdown()]);
    await Promise.all([this.namespaces.stop(), this.policyInformer.stop(), ...[...this.states.values()].map((s) => s.stop())]);
  }

  /** Keys waiting: targets, and sources whose content is fetched ahead of their targets. */
  get queueDepth(): number {
    return this.queue.depth + this.fetchAhead.depth;
  }

  get inFlight(): number {
    return this.queue.inFlight + this.fetchAhead.inFlight;
  }

  /** The kinds watched, each with the number of our replicas of it. */
  replicaCounts = (): [Kind, number][] => [...this.states].map(([kind, s]) => [kind, s.replicas.size]);

  /** Targets whose last reconcile failed, by kind (every enabled kind, 0 included). */
  failingCounts = (): [Kind, number][] => [...this.states.keys()].map((kind) => [kind, this.reconciler.failingCount(kind)]);

  private informers = () => [this.namespaces, this.policyInformer, ...[...this.states.values()].map((s) => s.meta)];

  /** The informers' names, as watch restarts and stale watches report them. */
  informerNames = (): string[] => this.informers().map((i) => i.name);

  /** Informers whose watch has shown no sign of life for longer than `maxSilenceMs`. */
  staleWatches(maxSilenceMs: number): string[] {
    const now = Date.now();
    return this.informers().filter((i) => i.hasSynced && now - i.lastActivity > maxSilenceMs).map((i) => i.name);
  }

  // ---- events ----------------------------------------------------------------------------------

  /** Events enqueue keys only once work has started: until then startWorking's enqueueAll covers every key. */
  private enqueueKey(key: string, group: string): void {
    if (this.working) this.queue.add(key, group);
  }

  private onObject(kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const key = refKey(refOf(kind, obj));
    if (!this.reconciler.isOwnWrite(key, type, obj)) this.enqueueKey(key, obj.metadata.namespace ?? '');
    if (type === 'delete') this.reconciler.objectDeleted(key);
    this.keys.onObject(kind, type, obj, old);
  }

  private onReplica(kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const key = refKey(refOf(kind, obj));
    this.keys.onReplica(kind, type, obj, old);
    const stillThere = type === 'delete' && this.states.get(kind)?.metadata(obj.metadata.namespace ?? '', obj.metadata.name) !== undefined;
    if (stillThere) this.reconciler.replicaLeft(key, obj);
    if (!this.reconciler.isOwnWrite(key, type, obj)) this.enqueueKey(key, obj.metadata.namespace ?? '');
  }

  private onPolicy(type: InformerEvent, p: ReplicationPolicy): void {
    if (this.policies.apply(type, p)) this.keys.onPolicy(p.metadata.name, this.policies.active(p.metadata.name));
  }

  /** The level-triggered safety net: every key that any rule or replica could concern. */
  enqueueAll(): void {
    this.keys.forEachKey((key, g) => this.queue.add(key, g));
    this.lastSyncTime = new Date();
  }

  // ---- the plan command ------------------------------------------------------------------------

  /** Every key a reconcile could concern. */
  forEachKey = (visit: (key: string, group: string) => void): void => this.keys.forEachKey(visit);

  /** The live policy of that name, if any (the plan command plans a manifest as its next generation). */
  policy = (name: string): ReplicationPolicy | undefined => this.policies.get(name)?.obj;

  /** Treats `p` as if it were applied (the `plan -f` command); returns its compile result. */
  assumePolicy(p: ReplicationPolicy): CompileResult {
    this.onPolicy('add', p);
    return this.policies.get(p.metadata.name)!.result;
  }

  /** What reconcile would do for `key`, without doing it. */
  dryRun = (key: string): Promise<Plan | undefined> => this.reconciler.dryRun(key);

  // ---- the explain command: the planner's answer (dryRun) with the rules and namespaces it planned from --------

  /** Why `target` is, or is not, a replica. Undefined: its kind is not replicated. `salt`: see KeyHashes. */
  async explainTarget(target: ObjectRef, salt: string): Promise<TargetExplanation | undefined> {
    const state = this.states.get(target.kind);
    const plan = state && await this.reconciler.dryRun(refKey(target));
    if (!state || !plan) return undefined;
    const rules = this.keys.rules.forTargetName(target.kind, target.name);
    const sources = new Map<string, KubeObject | undefined>();
    for (const r of rules) sources.set(refKey(r.source), await state.full(r.source.namespace, r.source.name));
    const live = state.metadata(target.namespace, target.name) ? await state.full(target.namespace, target.name) : undefined;
    const ns = this.namespaces.get(target.namespace);
    return explainTarget({
      target, spec: state.spec, live, namespace: ns && namespaceView(ns), rules, source: (ref) => sources.get(refKey(ref)),
      settings: this.opts.settings, plan, now: rfc3339(this.opts.now?.() ?? new Date()), salt,
    });
  }

  /** Where `source` is replicated to, by namespace; undefined when no rule has it as its source. */
  async explainSource(source: ObjectRef): Promise<SourceExplanation | undefined> {
    const rules = this.keys.rules.forSource(refKey(source));
    const pullers = this.keys.pullTargetsFor(refKey(source));
    const pullPlans = await mapBounded(pullers, explainConcurrency, (t) => this.reconciler.dryRun(t));
    const pulls = pullers.flatMap((t, i): PullPlan[] => (pullPlans[i] ? [{ target: parseRefKey(t), plan: pullPlans[i] }] : []));
    if (!rules.length && !pulls.length) return undefined;
    const views = [...this.namespaces.values()].map(namespaceView).sort((a, b) => a.name.localeCompare(b.name));
    const planned = views.filter((v) => rules.some((r) => ruleTargetsNamespace(r, v, this.opts.settings)));
    // A plan may read content (a replica the metadata cannot judge, an object of someone else's): a few at a time.
    const answers = await mapBounded(planned, explainConcurrency, (v) => this.reconciler.dryRun(refKey({ ...source, namespace: v.name })));
    const plans = new Map<string, Plan | undefined>(planned.map((v, i) => [v.name, answers[i]]));
    return explainSource(source, rules, views, this.opts.settings, (ns) => plans.get(ns), pulls);
  }

  /** Everything replicated into namespace `name`, and everything refused there. */
  async explainNamespace(name: string, salt: string): Promise<NamespaceExplanation> {
    const nsObj = this.namespaces.get(name);
    const view = nsObj && namespaceView(nsObj);
    const keys = new Set<string>();
    if (view) {
      for (const rule of this.keys.rules.values()) {
        if (ruleTargetsNamespace(rule, view, this.opts.settings)) keys.add(refKey({ kind: rule.source.kind, namespace: name, name: rule.source.name }));
      }
      // Replicas no rule wants any more, and pull targets: they are planned too.
      for (const [kind, state] of this.states) {
        for (const o of state.replicas.values()) if (o.metadata.namespace === name) keys.add(refKey(refOf(kind, o)));
        for (const o of state.meta.values()) if (o.metadata.namespace === name && declaresPull(kind, o)) keys.add(refKey(refOf(kind, o)));
      }
    }
    // Each reads the target's content and its sources': a few at a time, answered in the keys' order.
    const explained = await mapBounded([...keys].sort(), explainConcurrency, (key) => this.explainTarget(parseRefKey(key), salt));
    const targets = explained.filter((e) => e !== undefined);
    return explainNamespace(name, view, targets, this.keys.rules.values(), this.opts.settings);
  }
}
