// The imperative shell: watch events only enqueue target keys; reconcile(key) reads the caches, asks the
// pure planner what the target should be, performs at most one write, and records what happened.
import { isKind, isRbacKind, kindInfo, type Kind } from '../model/kinds.ts';
import type { KubeObject, Namespace, ObjectRef } from '../model/objects.ts';
import { formatRef, parseRefKey, refKey, refOf } from '../model/objects.ts';
import { rfc3339 } from '../model/time.ts';
import { ApiError, isNotFound, serviceAccountIdentity, type KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import { Informer, type InformerEvent } from '../kube/informer.ts';
import { listRoleBindings } from '../kube/reads.ts';
import { namespacesPath, policiesPath } from '../kube/resources.ts';
import { Writer } from '../kube/writer.ts';
import type { Logger } from '../log.ts';
import { actionOf, plan, type Candidate, type LiveHistory, type Note, type Plan, type PullInput } from '../engine/plan.ts';
import { forgetPushSource, pullSourceFromAnnotations, pushRuleFromAnnotations } from '../rules/annotation-rules.ts';
import type { ReplicationPolicy } from '../api/replication-policy.ts';
import { policyRule, policySelectsSource, type CompiledPolicy } from '../rules/policy-rules.ts';
import { namedTargets, ruleTargetsNamespace, targetsNamespace } from '../rules/targeting.ts';
import type { NamespaceView, PushRule, Settings, TargetNamespaces } from '../rules/types.ts';
import { annotationRuleId, policyRuleId, ruleLabel } from '../rules/rule-id.ts';
import { annotations, provenance } from '../rules/vocabulary.ts';
import { KindState, writersOf } from './kind-state.ts';
import { RateLimiter } from './rate-limiter.ts';
import { PolicyTracker } from './policy-tracker.ts';
import { WorkQueue } from './queue.ts';
import { addTo, removeFrom, RuleIndex } from './rule-index.ts';

export interface ControllerOptions {
  kinds: Kind[];
  settings: Settings;
  concurrency: number;
  /** Every key is re-enqueued this often (level-triggered safety net). */
  resyncPeriodMs: number;
  log: Logger;
  events: EventRecorder;
  /** A watch silent for this long is restarted; /healthz fails while one stays stale. */
  watchInactivityMs?: number;
  /** `<namespace>/<serviceaccount>` impersonated for every Role/RoleBinding write (the escalation guard). */
  rbacWriter?: string;
  now?: () => Date;
  observer?: ControllerObserver;
}

/** Hooks for metrics; every method is optional. */
export interface ControllerObserver {
  reconciled?(kind: Kind, outcome: string, tier: string, seconds: number): void;
  wrote?(kind: Kind, verb: string, tier: string): void;
  writeFailed?(kind: Kind, status: number): void;
  refused?(kind: Kind, reason: string): void;
  watchRestarted?(informer: string): void;
  queueDone?(waitedMs: number): void;
  statusWritten?(policy: string): void;
}

export class Controller {
  readonly states = new Map<Kind, KindState>();
  readonly namespaces: Informer<Namespace>;
  readonly queue: WorkQueue;
  /**
   * Sources whose content must be fetched before their targets are worth a worker: fetched here (round-robin by
   * source namespace, like the work queue), then their targets are enqueued. Otherwise every worker that picks one
   * of a new source's targets would wait on the same GET instead of writing.
   */
  private readonly fetchAhead: WorkQueue;
  /** Rules whose targets are enqueued once their source's content is in (by source key). */
  private readonly afterFetch = new Map<string, PushRule[]>();
  readonly policyInformer: Informer<ReplicationPolicy>;
  readonly policies: PolicyTracker;
  private readonly client: KubeClient;
  private readonly writer: Writer;
  private readonly opts: ControllerOptions;
  private readonly log: Logger;
  /** Every push rule, from annotations and from policies. */
  private readonly rules = new RuleIndex();
  /** Pull relationships from `replicate-from`: target → source and source → targets. */
  private readonly pullSourceOf = new Map<string, string>();
  private readonly pullTargetsOf = new Map<string, Set<string>>();
  /**
   * The resourceVersion of our own latest write, per key: its watch events (metadata and replica watch) bring
   * nothing the reconcile that wrote it did not know, so they do not enqueue the key again. It also tells a
   * change by someone else within the same second as our write (managedFields times have seconds only).
   */
  private readonly wrote = new Map<string, string>();
  /**
   * Keys with a write of ours in flight, and the resourceVersions their watch events brought meanwhile: the watch
   * often reports a write before its response arrives, when its version is not known yet. Decided once it is.
   */
  private readonly writing = new Map<string, string[]>();
  /**
   * Replicas that lost our replica label by someone else's write, by key (their uid): the object still exists
   * without our provenance, so its namespace's owner took it (e.g. `kubectl replace`), which is reported once.
   */
  private readonly leftReplicas = new Map<string, string>();
  /** Events that one namespace's objects cause on objects in another namespace, per pair of namespaces. */
  private readonly crossNamespaceNotes = new RateLimiter({ burst: 20, refillMs: 30_000 });
  /** Replicas by the source in their provenance. */
  private readonly replicasOf = new Map<string, Set<string>>();
  private resyncTimer?: NodeJS.Timeout;
  private started = false;
  lastSyncTime?: Date;

  constructor(client: KubeClient, opts: ControllerOptions) {
    this.client = client;
    this.opts = opts;
    this.log = opts.log;
    this.writer = new Writer(client, opts.rbacWriter ? client.impersonating(serviceAccountIdentity(opts.rbacWriter)) : client);
    this.queue = new WorkQueue({ concurrency: opts.concurrency, onDone: (_k, waited) => opts.observer?.queueDone?.(waited) });
    this.fetchAhead = new WorkQueue({ concurrency: opts.concurrency });
    const handlers = {
      onObject: (k: Kind, t: InformerEvent, o: KubeObject, old: KubeObject | undefined) => this.onObject(k, t, o, old),
      onReplica: (k: Kind, t: InformerEvent, o: KubeObject, old: KubeObject | undefined) => this.onReplica(k, t, o, old),
      onError: (name: string, err: unknown, attempt: number) => this.log.warn('watch failed; retrying with backoff', { informer: name, attempt, error: describe(err) }),
      onWatchRestart: (name: string) => opts.observer?.watchRestarted?.(name),
    };
    for (const kind of opts.kinds) this.states.set(kind, new KindState(client, kind, handlers, opts.watchInactivityMs));
    this.namespaces = new Informer<Namespace>(client, {
      name: 'Namespace', path: namespacesPath, inactivityMs: opts.watchInactivityMs,
      onEvent: (t, ns, old) => this.onNamespace(t, ns, old),
      onError: (e, n) => handlers.onError('Namespace', e, n),
      onWatchRestart: () => handlers.onWatchRestart('Namespace'),
    });
    this.policies = new PolicyTracker({
      client, events: opts.events, log: opts.log, enabledKinds: opts.kinds,
      counts: (name) => this.policyCounts(name),
      busy: () => this.queueDepth + this.inFlight > 0,
      now: opts.now,
      onStatusWrite: (name) => opts.observer?.statusWritten?.(name),
    });
    // Optional: without the CRD (annotation mode only) the list answers 404 and the informer counts as synced.
    this.policyInformer = new Informer<ReplicationPolicy>(client, {
      name: 'ReplicationPolicy', path: policiesPath, inactivityMs: opts.watchInactivityMs, optional: true,
      onEvent: (t, p) => this.onPolicy(t, p),
      onError: (e, n) => handlers.onError('ReplicationPolicy', e, n),
      onWatchRestart: () => handlers.onWatchRestart('ReplicationPolicy'),
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Starts the watches and resolves after every initial list. */
  async syncCaches(): Promise<void> {
    this.namespaces.start();
    for (const s of this.states.values()) s.start();
    await this.namespaces.synced;
    await Promise.all([...this.states.values()].map((s) => s.synced));
    // Policies last: compiling them selects sources from the caches above.
    this.policyInformer.start();
    await this.policyInformer.synced;
  }

  /** Syncs the caches (then ready); with `work`, also starts reconciling (see startWorking). */
  async start(work = true): Promise<void> {
    await this.syncCaches();
    this.started = true;
    this.log.info('caches synced', { kinds: this.opts.kinds, namespaces: this.namespaces.size, policies: this.policies.names().length });
    if (work) this.startWorking();
  }

  /** The only way to writes: a standby (leader election) syncs caches but never gets here until it leads. */
  startWorking(): void {
    if (this.working) return;
    this.working = true;
    this.policies.enable();
    this.reportAnnotationProblems();
    this.enqueueAll();
    this.queue.start((key) => this.reconcile(key));
    this.fetchAhead.start((key) => this.fetchThenEnqueue(key));
    this.resyncTimer = setInterval(() => this.enqueueAll(), this.opts.resyncPeriodMs);
    this.resyncTimer.unref();
    this.policies.scheduleAll();
    this.log.info('reconciling');
  }

  private working = false;

  /** Problems found while caches synced (before anything may be recorded) are reported once work starts. */
  private reportAnnotationProblems(): void {
    for (const s of this.states.values()) {
      for (const obj of s.meta.values()) {
        for (const p of pushRuleFromAnnotations(s.kind, obj).problems) {
          this.note({ on: refOf(s.kind, obj), type: 'Warning', reason: 'InvalidAnnotation', message: `${p.field}: ${p.message}` });
        }
      }
    }
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

  /** Ready once every initial list has completed. */
  get ready(): boolean {
    return this.started;
  }

  /** Informers whose watch has shown no sign of life for longer than `maxSilenceMs`. */
  staleWatches(maxSilenceMs: number): string[] {
    const now = Date.now();
    const all = [this.namespaces, this.policyInformer, ...[...this.states.values()].map((s) => s.meta)];
    return all.filter((i) => i.hasSynced && now - i.lastActivity > maxSilenceMs).map((i) => i.name);
  }

  // ---- events → keys ---------------------------------------------------------------------------

  private enqueue(ref: ObjectRef, groupName = ref.namespace): void {
    this.enqueueKey(refKey(ref), groupName);
  }

  /**
   * Events enqueue keys only once work has started: until then (caches syncing, a standby) startWorking's
   * enqueueAll covers every key that matters, and a queue of every object listed at start would only cost memory.
   */
  private enqueueKey(key: string, group: string): void {
    if (this.working) this.queue.add(key, group);
  }

  private onObject(kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const ref: ObjectRef = { kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
    const key = refKey(ref);
    if (!this.isOwnWrite(key, type, obj)) this.enqueue(ref);
    this.indexPush(kind, key, type === 'delete' ? undefined : obj, old);
    if (type === 'delete') {
      forgetPushSource(kind, ref.namespace, ref.name); // its pattern budget is free again
      this.leftReplicas.delete(key);
    }
    this.indexPolicySources(kind, key, type === 'delete' ? undefined : obj);
    this.indexPull(kind, key, type === 'delete' ? undefined : obj);
    for (const t of this.pullTargetsOf.get(key) ?? []) this.enqueueKey(t, ref.namespace);
    if (kind === 'Role' && type !== 'update') this.enqueueWaitingBindings(ref.namespace);
  }

  private onReplica(kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const key = refKey({ kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });
    const sourceOf = (o: KubeObject | undefined) => {
      const s = o?.metadata.annotations?.[provenance.source];
      return s ? `${kind}/${s}` : undefined;
    };
    const before = sourceOf(old);
    const now = type === 'delete' ? undefined : sourceOf(obj);
    if (before && before !== now) removeFrom(this.replicasOf, before, key);
    if (now) addTo(this.replicasOf, now, key);
    const stillThere = type === 'delete' && this.states.get(kind)?.metadata(obj.metadata.namespace ?? '', obj.metadata.name) !== undefined;
    if (stillThere && this.wrote.get(key) !== obj.metadata.resourceVersion) this.leftReplicas.set(key, obj.metadata.uid ?? '');
    if (!this.isOwnWrite(key, type, obj)) this.enqueueKey(key, obj.metadata.namespace ?? '');
  }

  /** Whether this event only reports our own latest write of `key` (a deletion forgets that write). */
  private isOwnWrite(key: string, type: InformerEvent, obj: KubeObject): boolean {
    const during = this.writing.get(key);
    if (during) {
      during.push(type === 'delete' ? '' : obj.metadata.resourceVersion ?? '');
      return true;
    }
    const rv = this.wrote.get(key);
    if (rv === undefined) return false;
    if (type === 'delete') this.wrote.delete(key);
    return type !== 'delete' && rv === obj.metadata.resourceVersion;
  }

  /**
   * Who wrote `live` (from its managedFields): whether we did, and whether someone else did after our latest write.
   * A write by someone else within the same second as ours counts when the object is no longer at our write's
   * version; after a restart such a tie is taken as ours (no write at restart rests on a guess).
   */
  private historyOf(key: string, live: KubeObject | undefined): LiveHistory | undefined {
    const left = this.leftReplicas.get(key);
    const provenanceRemoved = left !== undefined && live !== undefined && left === live.metadata.uid && live.metadata.labels?.[provenance.replicaLabel] !== 'true';
    // Consumed once the object is seen without our provenance (reported once), or gone or replaced by another.
    if (left !== undefined && (provenanceRemoved || left !== live?.metadata.uid)) this.leftReplicas.delete(key);
    const w = live && writersOf(live);
    if (!w) return provenanceRemoved ? { writtenByUs: false, changedSinceOurWrite: false, provenanceRemoved } : undefined;
    const ourRv = this.wrote.get(key);
    const later = w.ours !== undefined && w.others !== undefined
      && (w.others > w.ours || (w.others === w.ours && ourRv !== undefined && ourRv !== live.metadata.resourceVersion));
    return { writtenByUs: w.ours !== undefined, changedSinceOurWrite: later, ...(provenanceRemoved ? { provenanceRemoved } : {}) };
  }

  private onNamespace(type: InformerEvent, ns: Namespace, old: Namespace | undefined): void {
    if (type === 'update' && old && sameLabels(old, ns) && isTerminating(old) === isTerminating(ns)) return;
    if (type === 'delete') return; // the objects inside report their own deletion
    const view = namespaceView(ns);
    for (const rule of this.rules.values()) {
      const target = { kind: rule.source.kind, namespace: view.name, name: rule.source.name };
      const hasReplica = this.states.get(rule.source.kind)?.replicas.get(`${view.name}/${rule.source.name}`);
      if (hasReplica || ruleTargetsNamespace(rule, view, this.opts.settings)) this.enqueue(target, rule.source.namespace);
    }
  }

  private indexPush(kind: Kind, key: string, obj: KubeObject | undefined, old: KubeObject | undefined): void {
    const id = annotationRuleId(key);
    const result = obj ? pushRuleFromAnnotations(kind, obj) : { problems: [] };
    if (obj && result.problems.length > 0 && annotationsChanged(obj, old)) {
      for (const p of result.problems) this.note({ on: refOf(kind, obj), type: 'Warning', reason: 'InvalidAnnotation', message: `${p.field}: ${p.message}` });
    }
    this.replaceRule(id, result.rule);
    if (!result.rule && !this.pullTargetsOf.has(key) && obj && !hasPullConsent(obj) && this.rules.forSource(key).length === 0) {
      this.states.get(kind)?.forgetContent(obj.metadata.namespace ?? '', obj.metadata.name);
    }
  }

  /**
   * Sets (or removes) one rule and enqueues the targets of both its old and new form: at once, or, when the source's
   * content is not at hand yet, once it has been fetched (see fetchAhead).
   */
  private replaceRule(id: string, rule: PushRule | undefined): void {
    const previous = rule ? this.rules.set(rule) : this.rules.delete(id);
    const changed = [previous, rule].filter((r): r is PushRule => r !== undefined);
    if (rule && this.working && !this.states.get(rule.source.kind)?.hasContent(rule.source.namespace, rule.source.name)) {
      const key = refKey(rule.source);
      this.afterFetch.set(key, [...(this.afterFetch.get(key) ?? []), ...changed]);
      this.fetchAhead.add(key, rule.source.namespace);
      return;
    }
    for (const r of changed) this.enqueueRuleTargets(r);
  }

  private async fetchThenEnqueue(sourceKey: string): Promise<'done'> {
    const rules = this.afterFetch.get(sourceKey) ?? [];
    this.afterFetch.delete(sourceKey);
    const source = parseRefKey(sourceKey);
    try {
      await this.states.get(source.kind)?.full(source.namespace, source.name);
    } catch {
      // The targets' reconciles fetch again and report the failure where the user looks.
    }
    for (const r of rules) this.enqueueRuleTargets(r);
    return 'done';
  }

  /** A source-side object changed: which policies select it now. */
  private indexPolicySources(kind: Kind, key: string, obj: KubeObject | undefined): void {
    for (const name of this.policies.names()) {
      const compiled = this.activePolicy(name);
      if (!compiled) continue;
      const id = policyRuleId(name, key);
      const selected = obj && policySelectsSource(compiled, kind, obj);
      if (selected) this.replaceRule(id, policyRule(compiled, kind, obj));
      else if (this.rules.get(id)) this.replaceRule(id, undefined);
    }
  }

  private activePolicy(name: string): CompiledPolicy | undefined {
    const e = this.policies.get(name);
    return e && e.result.ok && !e.obj.metadata.deletionTimestamp ? e.result.policy : undefined;
  }

  private onPolicy(type: InformerEvent, p: ReplicationPolicy): void {
    const name = p.metadata.name;
    const before = this.policies.get(name);
    if (type === 'delete') this.policies.remove(name);
    else {
      const result = this.policies.upsert(p);
      if (before && before.result === result && Boolean(before.obj.metadata.deletionTimestamp) === Boolean(p.metadata.deletionTimestamp)) return;
    }
    // Recompute this policy's rules from the sources in the caches.
    const wanted = new Map<string, PushRule>();
    const compiled = this.activePolicy(name);
    if (compiled) {
      for (const kind of compiled.kinds) {
        const state = this.states.get(kind);
        for (const obj of state?.meta.values() ?? []) {
          if (policySelectsSource(compiled, kind, obj)) {
            const rule = policyRule(compiled, kind, obj);
            wanted.set(rule.id, rule);
          }
        }
      }
    }
    for (const old of this.rules.forPolicy(name)) if (!wanted.has(old.id)) this.replaceRule(old.id, undefined);
    for (const rule of wanted.values()) this.replaceRule(rule.id, rule);
    // Replicas of a deleted (or suspended, or invalid) policy: let reconcile decide (delete, orphan, keep).
    for (const s of this.states.values()) {
      for (const r of s.replicas.values()) {
        if (r.metadata.annotations?.[provenance.rule] === ruleLabel({ type: 'policy', name })) this.enqueue(refOf(s.kind, r));
      }
    }
  }

  /** Sources, target namespaces and wanted replicas of one policy, for its status. */
  private policyCounts(name: string): { sources: number; targetNamespaces: number; expected: number } {
    const rules = this.rules.forPolicy(name);
    const compiled = this.activePolicy(name);
    let targetNamespaces = 0;
    let expected = 0;
    for (const ns of this.namespaces.values()) {
      const view = namespaceView(ns);
      if (compiled && targetsNamespace(compiled.targets, compiled.sourceNamespace, view, this.opts.settings)) targetNamespaces++;
      for (const r of rules) if (ruleTargetsNamespace(r, view, this.opts.settings)) expected++;
    }
    return { sources: rules.length, targetNamespaces, expected };
  }

  private indexPull(kind: Kind, key: string, obj: KubeObject | undefined): void {
    const before = this.pullSourceOf.get(key);
    const parsed = obj ? pullSourceFromAnnotations(kind, obj) : {};
    const now = parsed.source ? refKey(parsed.source) : undefined;
    if (before === now) return;
    if (before) {
      removeFrom(this.pullTargetsOf, before, key);
      this.pullSourceOf.delete(key);
    }
    if (now) {
      this.pullSourceOf.set(key, now);
      addTo(this.pullTargetsOf, now, key);
    }
  }

  /** Every namespace the rule targets now, plus every replica its source made before (which may be unwanted now). */
  private enqueueRuleTargets(rule: PushRule): void {
    // Before work starts nothing would be enqueued: spare the walk over every namespace for each source listed.
    if (!this.working) return;
    this.forEachRuleTarget(rule, (key, g) => this.enqueueKey(key, g));
  }

  private forEachRuleTarget(rule: PushRule, visit: (key: string, group: string) => void): void {
    const sourceKey = refKey(rule.source);
    for (const ns of this.namespacesFor(rule.targets)) {
      if (ruleTargetsNamespace(rule, namespaceView(ns), this.opts.settings)) {
        visit(refKey({ kind: rule.source.kind, namespace: ns.metadata.name, name: rule.source.name }), rule.source.namespace);
      }
    }
    for (const t of this.replicasOf.get(sourceKey) ?? []) visit(t, rule.source.namespace);
  }

  /** The namespaces `targets` may reach: those it names, when it names them; otherwise all of them. */
  private namespacesFor(targets: TargetNamespaces): Iterable<Namespace> {
    const names = namedTargets(targets);
    if (!names) return this.namespaces.values();
    const found: Namespace[] = [];
    for (const name of names) {
      const ns = this.namespaces.get(name);
      if (ns) found.push(ns);
    }
    return found;
  }

  private enqueueWaitingBindings(namespace: string): void {
    for (const rule of this.rules.values()) {
      if (rule.source.kind === 'RoleBinding') this.enqueue({ kind: 'RoleBinding', namespace, name: rule.source.name }, rule.source.namespace);
    }
  }

  /** The level-triggered safety net: every key that any rule or replica could concern. */
  enqueueAll(): void {
    this.forEachKey((key, g) => this.queue.add(key, g));
    this.lastSyncTime = new Date();
  }

  forEachKey(visit: (key: string, group: string) => void): void {
    for (const rule of this.rules.values()) this.forEachRuleTarget(rule, visit);
    for (const s of this.states.values()) {
      for (const r of s.replicas.values()) visit(refKey(refOf(s.kind, r)), r.metadata.namespace ?? '');
    }
    for (const t of this.pullSourceOf.keys()) visit(t, parseRefKey(t).namespace);
  }

  /** Treats `p` as if it were applied (the `plan -f` command); returns its compile result. */
  assumePolicy(p: ReplicationPolicy) {
    this.onPolicy('add', p);
    return this.policies.get(p.metadata.name)!.result;
  }

  /** What reconcile would do for `key`, without doing it (the `plan` command). */
  async dryRun(key: string): Promise<Plan | undefined> {
    const target = parseRefKey(key);
    const state = this.states.get(target.kind);
    return state ? this.planFor(target, state) : undefined;
  }

  // ---- reconcile -------------------------------------------------------------------------------

  async reconcile(key: string): Promise<'done' | 'retry'> {
    const started = performance.now();
    const target = parseRefKey(key);
    const state = this.states.get(target.kind);
    if (!isKind(target.kind) || !state) return 'done';
    let result: Plan | undefined;
    try {
      result = await this.planFor(target, state);
      for (const n of result.notes) this.note(n);
      for (const n of result.notes) if (n.type === 'Warning') this.opts.observer?.refused?.(target.kind, n.reason);
      if (result.write) result = await this.execute(target, state, result);
      this.policies.record(key, result);
      this.opts.observer?.reconciled?.(target.kind, result.outcome, result.tier ?? 'none', (performance.now() - started) / 1000);
      return result.retry ? 'retry' : 'done';
    } catch (err) {
      this.opts.observer?.reconciled?.(target.kind, 'Error', result?.tier ?? 'none', (performance.now() - started) / 1000);
      const outcome = this.failed(target, err, result);
      if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) this.policies.record(key, result, describe(err));
      return outcome;
    }
  }

  /** `byMetadata`: judge our replica by its cached metadata first (false: read its content at once). */
  private async planFor(target: ObjectRef, state: KindState, byMetadata = true): Promise<Plan> {
    const nsObj = this.namespaces.get(target.namespace);
    const liveMeta = state.metadata(target.namespace, target.name);
    const candidates: Candidate[] = [];
    if (nsObj) {
      const view = namespaceView(nsObj);
      for (const rule of this.rules.forTargetName(target.kind, target.name)) {
        if (!ruleTargetsNamespace(rule, view, this.opts.settings)) continue;
        const source = await state.full(rule.source.namespace, rule.source.name);
        if (source) candidates.push({ rule, source });
      }
    }
    // An object no rule wants, that does not pull and is not our replica, needs no work: never fetch (or cache)
    // its content, or every change anywhere in the cluster would cost a GET and memory.
    const pulls = Boolean(liveMeta?.metadata.annotations?.[annotations.replicateFrom]);
    const replica = state.replicaMetadata(target.namespace, target.name);
    const involved = candidates.length > 0 || pulls || replica !== undefined;
    if (!involved) return { outcome: 'Nothing', notes: [] };
    // Our replica is judged by its metadata first; its content is fetched only when the plan needs it.
    const fromMetadata = byMetadata && replica && !pulls ? await this.planWithLive(target, state, candidates, replica, true) : undefined;
    if (fromMetadata && fromMetadata.outcome !== 'NeedContent') return fromMetadata;
    const live = liveMeta ? await state.full(target.namespace, target.name) : undefined;
    return this.planWithLive(target, state, candidates, live, false);
  }

  private async planWithLive(target: ObjectRef, state: KindState, candidates: Candidate[], live: KubeObject | undefined, liveIsMetadata: boolean): Promise<Plan> {
    let pull: PullInput | undefined;
    if (live) {
      const parsed = pullSourceFromAnnotations(target.kind, live);
      if (parsed.problem) pull = { problem: parsed.problem };
      else if (parsed.source) pull = { sourceRef: parsed.source, source: await state.full(parsed.source.namespace, parsed.source.name) };
    }
    const roles = this.states.get('Role');
    const roleBound = target.kind === 'Role' && !live && candidates.length > 0 ? await this.roleBoundByForeignBinding(target) : false;
    return plan({
      roleBoundByForeignBinding: roleBound, history: this.historyOf(refKey(target), live),
      target, live, liveIsMetadata, candidates, pull, settings: this.opts.settings, now: rfc3339(this.opts.now?.() ?? new Date()),
      roleExists: roles ? (name) => roles.metadata(target.namespace, name) !== undefined : undefined,
      policyState: (name, uid) => this.policies.state(name, uid),
    });
  }

  /** Whether a RoleBinding we did not make already references a Role of this name (a Role would arm it). */
  private async roleBoundByForeignBinding(target: ObjectRef): Promise<boolean> {
    return (await listRoleBindings(this.client, target.namespace)).some((b) => b.roleRef?.kind === 'Role' && b.roleRef.name === target.name && b.metadata.labels?.[provenance.replicaLabel] !== 'true');
  }

  /** Performs the plan's write; returns the plan that was carried out (see the patch case). */
  private async execute(target: ObjectRef, state: KindState, p: Plan): Promise<Plan> {
    const key = refKey(target);
    const seen: string[] = [];
    this.writing.set(key, seen);
    try {
      return await this.executeWrite(target, state, p);
    } finally {
      this.writing.delete(key);
      // Events seen during the write that were not about our write's version: the key is looked at again.
      const ours = this.wrote.get(key);
      if (seen.some((rv) => rv !== ours)) this.enqueueKey(key, target.namespace);
    }
  }

  private async executeWrite(target: ObjectRef, state: KindState, p: Plan): Promise<Plan> {
    const w = p.write!;
    const key = refKey(target);
    const kind = target.kind;
    const live = state.metadata(target.namespace, target.name);
    const pre = { uid: live?.metadata.uid, resourceVersion: live?.metadata.resourceVersion };
    const written = (obj: KubeObject) => {
      state.assume(obj);
      if (obj.metadata.resourceVersion) this.wrote.set(key, obj.metadata.resourceVersion);
    };
    // Of a replica only the metadata is kept: the API server need not send its content back.
    const answer = w.type === 'patch' || (w.type !== 'delete' && w.object.metadata.labels?.[provenance.replicaLabel] === 'true') ? 'metadata' : 'object';
    switch (w.type) {
      case 'create':
        written(await this.writer.create(kind, w.object, answer));
        break;
      case 'update':
        written(await this.writer.update(kind, w.object, answer));
        break;
      case 'patch':
        try {
          written(await this.writer.patch(target, w.patch, answer));
        } catch (err) {
          // The API server will not change a field in place (a Secret's type, a roleRef, an immutable object's
          // data): plan again from the whole object, which knows to recreate it. The notes were recorded already.
          if (!(err instanceof ApiError && err.status === 422)) throw err;
          const again = await this.planFor(target, state, false);
          return again.write ? this.executeWrite(target, state, again) : again;
        }
        break;
      case 'recreate':
        await this.writer.delete(target, pre);
        state.assumeDeleted(target.namespace, target.name);
        written(await this.writer.create(kind, w.object, answer));
        break;
      case 'delete':
        this.wrote.delete(key);
        await this.writer.delete(target, pre);
        state.assumeDeleted(target.namespace, target.name);
        break;
    }
    const action = actionOf(w);
    this.opts.observer?.wrote?.(kind, action, p.tier ?? 'none');
    this.log.info(`${action} ${formatRef(target)}`, { kind, namespace: target.namespace, name: target.name, action, outcome: p.outcome, rule: p.owner, tier: p.tier });
    return p;
  }

  private failed(target: ObjectRef, err: unknown, p: Plan | undefined): 'done' | 'retry' {
    const status = err instanceof ApiError ? err.status : 0;
    this.opts.observer?.writeFailed?.(target.kind, status);
    // 409 and 404 mean our cache was behind: the watch is about to tell us more, so just try again.
    if (status === 409 || isNotFound(err)) {
      this.log.debug('cache behind the API server; retrying', { key: refKey(target), status });
      return 'retry';
    }
    const escalation = status === 403 && isRbacKind(target.kind) && Boolean(this.opts.rbacWriter);
    const message = escalation
      ? `the RBAC writer ${this.opts.rbacWriter} may not ${p?.write ? actionOf(p.write) : 'write'} ${formatRef(target)}; it would grant more than the writer holds: ${describe(err)}`
      : `could not ${p?.write ? actionOf(p.write) : 'reconcile'} ${formatRef(target)}: ${describe(err)}${status === 422 ? ' (not retried until the source or the target changes)' : ''}`;
    const reason = escalation ? 'EscalationRefused' : 'ReplicationFailed';
    this.log.error(message, { kind: target.kind, namespace: target.namespace, name: target.name, attempt: this.queue.failuresOf(refKey(target)) + 1 });
    const source = p?.owner ? this.rules.get(p.owner)?.source : undefined;
    if (source) this.note({ on: source, type: 'Warning', reason, message });
    this.note({ on: target, type: 'Warning', reason, message, by: source });
    // 422: the API server will refuse the same object again (e.g. a TLS Secret cannot lose tls.crt); a change of
    // either object, or the resync, brings the key back. Retrying would only loop.
    return status === 422 ? 'done' : 'retry';
  }

  /**
   * Records a note as a Kubernetes Event on the object, when the object exists. Notes caused from another namespace
   * are rate-limited per pair of namespaces: a tenant cannot fill someone else's namespace with Events.
   */
  private note(n: Note): void {
    if (!this.working) return; // a standby records nothing
    const state = this.states.get(n.on.kind);
    const obj = state?.metadata(n.on.namespace, n.on.name);
    if (!obj) return;
    if (n.by && n.by.namespace !== n.on.namespace && !this.crossNamespaceNotes.allow(`${n.by.namespace} ${n.on.namespace}`)) {
      this.log.debug('Event not recorded: too many from one namespace into another', { reason: n.reason, from: n.by.namespace, namespace: n.on.namespace });
      return;
    }
    this.opts.events.record({
      involved: { apiVersion: kindInfo[n.on.kind].apiVersion, kind: n.on.kind, name: n.on.name, namespace: n.on.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      type: n.type, reason: n.reason, message: n.message,
    });
    if (n.type === 'Warning') this.log.warn(n.message, { reason: n.reason, kind: n.on.kind, namespace: n.on.namespace, name: n.on.name });
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

const isTerminating = (ns: Namespace) => Boolean(ns.metadata.deletionTimestamp) || ns.status?.phase === 'Terminating';

const views = new WeakMap<Namespace, NamespaceView>();

/** A namespace as rules see it; computed once per namespace object (the cache replaces objects on change). */
export function namespaceView(ns: Namespace): NamespaceView {
  let v = views.get(ns);
  if (!v) views.set(ns, (v = { name: ns.metadata.name, labels: ns.metadata.labels ?? {}, terminating: isTerminating(ns) }));
  return v;
}

function sameLabels(a: Namespace, b: Namespace): boolean {
  return JSON.stringify(Object.entries(a.metadata.labels ?? {}).sort()) === JSON.stringify(Object.entries(b.metadata.labels ?? {}).sort());
}

function annotationsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return !old || JSON.stringify(obj.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {});
}

function hasPullConsent(obj: KubeObject): boolean {
  return annotations.replicationAllowed in (obj.metadata.annotations ?? {});
}

/** An error for logs and Events: the API server's message (names and reasons, never object data). */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status === 403 ? `forbidden (HTTP 403): ${err.message}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
