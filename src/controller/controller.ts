// The imperative shell: watch events only enqueue target keys; reconcile(key) reads the caches, asks the
// pure planner what the target should be, performs at most one write, and records what happened.
import { isKind, kindInfo, type Kind } from '../model/kinds.ts';
import type { KubeObject, Namespace, ObjectRef } from '../model/objects.ts';
import { formatRef, parseRefKey, refKey } from '../model/objects.ts';
import { ApiError, isNotFound, type KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import { Informer, type InformerEvent } from '../kube/informer.ts';
import { namespacesPath } from '../kube/resources.ts';
import { Writer } from '../kube/writer.ts';
import type { Logger } from '../log.ts';
import { plan, type Candidate, type Note, type Plan, type PullInput } from '../engine/plan.ts';
import { pullSourceFromAnnotations, pushRuleFromAnnotations } from '../rules/annotation-rules.ts';
import { ruleTargetsNamespace } from '../rules/targeting.ts';
import type { NamespaceView, PushRule, Settings } from '../rules/types.ts';
import { provenance } from '../rules/vocabulary.ts';
import { KindState } from './kind-state.ts';
import { WorkQueue } from './queue.ts';

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
  now?: () => Date;
  observer?: ControllerObserver;
}

/** Hooks for metrics; every method is optional. */
export interface ControllerObserver {
  reconciled?(kind: Kind, outcome: string, seconds: number): void;
  wrote?(kind: Kind, verb: string): void;
  writeFailed?(kind: Kind, status: number): void;
  refused?(kind: Kind, reason: string): void;
  watchRestarted?(informer: string): void;
  queueDone?(waitedMs: number): void;
}

const group = (sourceNamespace: string) => sourceNamespace;

export class Controller {
  readonly states = new Map<Kind, KindState>();
  readonly namespaces: Informer<Namespace>;
  readonly queue: WorkQueue;
  private readonly client: KubeClient;
  private readonly writer: Writer;
  private readonly opts: ControllerOptions;
  private readonly log: Logger;
  /** Push rules by source key, and source keys by `Kind/name` (a replica has its source's name). */
  private readonly pushRules = new Map<string, PushRule>();
  private readonly pushByName = new Map<string, Set<string>>();
  /** Pull relationships from `replicate-from`: target → source and source → targets. */
  private readonly pullSourceOf = new Map<string, string>();
  private readonly pullTargetsOf = new Map<string, Set<string>>();
  /** Replicas by the source in their provenance. */
  private readonly replicasOf = new Map<string, Set<string>>();
  private resyncTimer?: NodeJS.Timeout;
  private started = false;
  lastSyncTime?: Date;

  constructor(client: KubeClient, opts: ControllerOptions) {
    this.client = client;
    this.opts = opts;
    this.log = opts.log;
    this.writer = new Writer(client);
    this.queue = new WorkQueue({ concurrency: opts.concurrency, onDone: (_k, waited) => opts.observer?.queueDone?.(waited) });
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
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Starts the watches and resolves after every initial list. */
  async syncCaches(): Promise<void> {
    this.namespaces.start();
    for (const s of this.states.values()) s.start();
    await this.namespaces.synced;
    await Promise.all([...this.states.values()].map((s) => s.synced));
  }

  async start(): Promise<void> {
    await this.syncCaches();
    this.started = true;
    this.enqueueAll();
    this.queue.start((key) => this.reconcile(key));
    this.resyncTimer = setInterval(() => this.enqueueAll(), this.opts.resyncPeriodMs);
    this.resyncTimer.unref();
    this.log.info('caches synced; reconciling', { kinds: this.opts.kinds, namespaces: this.namespaces.size });
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    await this.queue.shutdown();
    await Promise.all([this.namespaces.stop(), ...[...this.states.values()].map((s) => s.stop())]);
  }

  /** Ready once every initial list has completed. */
  get ready(): boolean {
    return this.started;
  }

  /** Informers whose watch has shown no sign of life for longer than `maxSilenceMs`. */
  staleWatches(maxSilenceMs: number): string[] {
    const now = Date.now();
    const all = [this.namespaces, ...[...this.states.values()].flatMap((s) => [s.meta, s.replicas])];
    return all.filter((i) => i.hasSynced && now - i.lastActivity > maxSilenceMs).map((i) => i.name);
  }

  // ---- events → keys ---------------------------------------------------------------------------

  private enqueue(ref: ObjectRef, groupName = ref.namespace): void {
    this.queue.add(refKey(ref), group(groupName));
  }

  private onObject(kind: Kind, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const ref: ObjectRef = { kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
    const key = refKey(ref);
    this.enqueue(ref);
    this.indexPush(kind, key, type === 'delete' ? undefined : obj, old);
    this.indexPull(kind, key, type === 'delete' ? undefined : obj);
    for (const t of this.pullTargetsOf.get(key) ?? []) this.queue.add(t, group(ref.namespace));
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
    this.queue.add(key, group(obj.metadata.namespace ?? ''));
  }

  private onNamespace(type: InformerEvent, ns: Namespace, old: Namespace | undefined): void {
    if (type === 'update' && old && sameLabels(old, ns) && isTerminating(old) === isTerminating(ns)) return;
    if (type === 'delete') return; // the objects inside report their own deletion
    const view = namespaceView(ns);
    for (const rule of this.pushRules.values()) {
      const target = { kind: rule.source.kind, namespace: view.name, name: rule.source.name };
      const hasReplica = this.states.get(rule.source.kind)?.replicas.get(`${view.name}/${rule.source.name}`);
      if (hasReplica || ruleTargetsNamespace(rule, view, this.opts.settings)) this.enqueue(target, rule.source.namespace);
    }
  }

  private indexPush(kind: Kind, key: string, obj: KubeObject | undefined, old: KubeObject | undefined): void {
    const previous = this.pushRules.get(key);
    const result = obj ? pushRuleFromAnnotations(kind, obj) : { problems: [] };
    if (obj && result.problems.length > 0 && annotationsChanged(obj, old)) {
      for (const p of result.problems) this.note({ on: refOfObj(kind, obj), type: 'Warning', reason: 'InvalidAnnotation', message: `${p.field}: ${p.message}` });
    }
    if (previous) {
      this.pushRules.delete(key);
      removeFrom(this.pushByName, `${kind}/${previous.source.name}`, key);
    }
    if (result.rule) {
      this.pushRules.set(key, result.rule);
      addTo(this.pushByName, `${kind}/${result.rule.source.name}`, key);
    }
    if (previous || result.rule) this.enqueueRuleTargets(key, result.rule ?? previous!);
    if (!result.rule && !this.pullTargetsOf.has(key) && obj && !hasPullConsent(obj)) {
      this.states.get(kind)?.forgetContent(obj.metadata.namespace ?? '', obj.metadata.name);
    }
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

  /** Every namespace the rule targets now, plus every replica it made before (which may be unwanted now). */
  private enqueueRuleTargets(sourceKey: string, rule: PushRule): void {
    this.forEachRuleTarget(sourceKey, rule, (key, g) => this.queue.add(key, g));
  }

  private forEachRuleTarget(sourceKey: string, rule: PushRule, visit: (key: string, group: string) => void): void {
    for (const ns of this.namespaces.values()) {
      if (ruleTargetsNamespace(rule, namespaceView(ns), this.opts.settings)) {
        visit(refKey({ kind: rule.source.kind, namespace: ns.metadata.name, name: rule.source.name }), group(rule.source.namespace));
      }
    }
    for (const t of this.replicasOf.get(sourceKey) ?? []) visit(t, group(rule.source.namespace));
  }

  private enqueueWaitingBindings(namespace: string): void {
    for (const rule of this.pushRules.values()) {
      if (rule.source.kind === 'RoleBinding') this.enqueue({ kind: 'RoleBinding', namespace, name: rule.source.name }, rule.source.namespace);
    }
  }

  /** The level-triggered safety net: every key that any rule or replica could concern. */
  enqueueAll(): void {
    this.forEachKey((key, g) => this.queue.add(key, g));
    this.lastSyncTime = new Date();
  }

  forEachKey(visit: (key: string, group: string) => void): void {
    for (const [key, rule] of this.pushRules) this.forEachRuleTarget(key, rule, visit);
    for (const s of this.states.values()) {
      for (const r of s.replicas.values()) visit(refKey(refOfObj(s.kind, r)), group(r.metadata.namespace ?? ''));
    }
    for (const t of this.pullSourceOf.keys()) visit(t, group(parseRefKey(t).namespace));
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
      if (result.notes.some((n) => n.type === 'Warning')) {
        for (const n of result.notes) if (n.type === 'Warning') this.opts.observer?.refused?.(target.kind, n.reason);
      }
      if (result.write) await this.execute(target, state, result);
      this.opts.observer?.reconciled?.(target.kind, result.outcome, (performance.now() - started) / 1000);
      return result.retry ? 'retry' : 'done';
    } catch (err) {
      this.opts.observer?.reconciled?.(target.kind, 'Error', (performance.now() - started) / 1000);
      return this.failed(target, err, result);
    }
  }

  private async planFor(target: ObjectRef, state: KindState): Promise<Plan> {
    const nsObj = this.namespaces.get(target.namespace);
    const liveMeta = state.metadata(target.namespace, target.name) ?? state.replicas.get(`${target.namespace}/${target.name}`);
    const live = liveMeta ? await state.full(target.namespace, target.name) : undefined;
    const candidates: Candidate[] = [];
    if (nsObj) {
      const view = namespaceView(nsObj);
      for (const sourceKey of this.pushByName.get(`${target.kind}/${target.name}`) ?? []) {
        const rule = this.pushRules.get(sourceKey)!;
        if (!ruleTargetsNamespace(rule, view, this.opts.settings)) continue;
        const source = await state.full(rule.source.namespace, rule.source.name);
        if (source) candidates.push({ rule, source });
      }
    }
    let pull: PullInput | undefined;
    if (live) {
      const parsed = pullSourceFromAnnotations(target.kind, live);
      if (parsed.problem) pull = { problem: parsed.problem };
      else if (parsed.source) pull = { sourceRef: parsed.source, source: await state.full(parsed.source.namespace, parsed.source.name) };
    }
    const roles = this.states.get('Role');
    return plan({
      target, live, candidates, pull, settings: this.opts.settings, now: rfc3339(this.opts.now?.() ?? new Date()),
      roleExists: roles ? (name) => roles.metadata(target.namespace, name) !== undefined : undefined,
    });
  }

  private async execute(target: ObjectRef, state: KindState, p: Plan): Promise<void> {
    const w = p.write!;
    const kind = target.kind;
    const live = state.replicas.get(`${target.namespace}/${target.name}`) ?? state.metadata(target.namespace, target.name);
    const pre = { uid: live?.metadata.uid, resourceVersion: live?.metadata.resourceVersion };
    switch (w.type) {
      case 'create':
        state.assume(await this.writer.create(kind, w.object));
        break;
      case 'update':
        state.assume(await this.writer.update(kind, w.object));
        break;
      case 'recreate':
        await this.writer.delete(target, pre);
        state.assumeDeleted(target.namespace, target.name);
        state.assume(await this.writer.create(kind, w.object));
        break;
      case 'delete':
        await this.writer.delete(target, pre);
        state.assumeDeleted(target.namespace, target.name);
        break;
    }
    this.opts.observer?.wrote?.(kind, w.type);
    this.log.info(`${w.type} ${formatRef(target)}`, { kind, namespace: target.namespace, name: target.name, action: w.type, outcome: p.outcome, rule: p.owner });
  }

  private failed(target: ObjectRef, err: unknown, p: Plan | undefined): 'retry' {
    const status = err instanceof ApiError ? err.status : 0;
    this.opts.observer?.writeFailed?.(target.kind, status);
    // 409 and 404 mean our cache was behind: the watch is about to tell us more, so just try again.
    if (status === 409 || isNotFound(err)) {
      this.log.debug('cache behind the API server; retrying', { key: refKey(target), status });
      return 'retry';
    }
    const message = `could not ${p?.write?.type ?? 'reconcile'} ${formatRef(target)}: ${describe(err)}`;
    this.log.error(message, { kind: target.kind, namespace: target.namespace, name: target.name, attempt: this.queue.failuresOf(refKey(target)) + 1 });
    const source = p?.owner ? ruleSource(p.owner) : undefined;
    if (source) this.note({ on: source, type: 'Warning', reason: 'ReplicationFailed', message });
    this.note({ on: target, type: 'Warning', reason: 'ReplicationFailed', message });
    return 'retry';
  }

  /** Records a note as a Kubernetes Event on the object, when the object exists. */
  private note(n: Note): void {
    const state = this.states.get(n.on.kind);
    const obj = state?.metadata(n.on.namespace, n.on.name);
    if (!obj) return;
    this.opts.events.record({
      involved: { apiVersion: kindInfo[n.on.kind].apiVersion, kind: n.on.kind, name: n.on.name, namespace: n.on.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      type: n.type, reason: n.reason, message: n.message,
    });
    if (n.type === 'Warning') this.log.warn(n.message, { reason: n.reason, kind: n.on.kind, namespace: n.on.namespace, name: n.on.name });
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  let s = index.get(key);
  if (!s) index.set(key, (s = new Set()));
  s.add(value);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const s = index.get(key);
  if (!s) return;
  s.delete(value);
  if (s.size === 0) index.delete(key);
}

const isTerminating = (ns: Namespace) => Boolean(ns.metadata.deletionTimestamp) || ns.status?.phase === 'Terminating';

export function namespaceView(ns: Namespace): NamespaceView {
  return { name: ns.metadata.name, labels: ns.metadata.labels ?? {}, terminating: isTerminating(ns) };
}

function sameLabels(a: Namespace, b: Namespace): boolean {
  return JSON.stringify(Object.entries(a.metadata.labels ?? {}).sort()) === JSON.stringify(Object.entries(b.metadata.labels ?? {}).sort());
}

function annotationsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return !old || JSON.stringify(obj.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {});
}

function hasPullConsent(obj: KubeObject): boolean {
  return Object.keys(obj.metadata.annotations ?? {}).some((k) => k.endsWith('/replication-allowed'));
}

function refOfObj(kind: Kind, obj: KubeObject): ObjectRef {
  return { kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
}

/** `annotation:Kind/ns/name` → the source ref. */
function ruleSource(ruleId: string): ObjectRef | undefined {
  const m = /^annotation:(.*)$/.exec(ruleId);
  return m ? parseRefKey(m[1]!) : undefined;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An error for logs and Events: the API server's message (names and reasons, never object data). */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status === 403 ? `forbidden (HTTP 403): ${err.message}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
