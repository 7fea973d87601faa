// reconcile(key): reads the caches, asks the pure planner what the target should be, performs at most one write,
// and records what happened (Events, metrics, the policy's status). It also tells our own writes' watch events from
// everyone else's, which is what lets a replica be judged by its metadata alone.
import type { Kind } from '../model/kinds.ts';
import type { KubeObject, Namespace, ObjectRef } from '../model/objects.ts';
import { formatRef, parseRefKey, refKey } from '../model/objects.ts';
import { rfc3339 } from '../model/time.ts';
import { ApiError, isNotFound, type KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { InformerEvent } from '../kube/informer.ts';
import { listRoleBindings } from '../kube/reads.ts';
import type { Writer } from '../kube/writer.ts';
import type { Logger } from '../log.ts';
import { actionOf, plan, type Candidate, type LiveHistory, type Note, type Plan, type PullInput } from '../engine/plan.ts';
import { declaresPull, pullSourceFromAnnotations } from '../rules/annotation-rules.ts';
import { ruleTargetsNamespace } from '../rules/targeting.ts';
import type { Settings } from '../rules/types.ts';
import { provenance } from '../rules/vocabulary.ts';
import { namespaceView } from './event-keys.ts';
import { writersOf, type KindState } from './kind-state.ts';
import type { PolicyTracker } from './policy-tracker.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { HandlerResult } from './queue.ts';
import type { RuleIndex } from './rule-index.ts';
import type { ControllerObserver } from './options.ts';

/**
 * `done`: nothing more to do until an event, also for what retrying cannot fix (a 422: the Events say why);
 * `retry`: a failure, again after the queue's backoff (a stale cache, a failed write);
 * `{ requeueAfterMs }`: waiting on something else (a RoleBinding for its Role).
 */
export type ReconcileResult = HandlerResult;

/**
 * A RoleBinding waiting for its Role is looked at again this often. The Role's own watch event brings it back at
 * once; this is the safety net, so it need not be short.
 */
const waitingRequeueMs = 30_000;

export interface ReconcilerDeps {
  client: KubeClient;
  writer: Writer;
  states: ReadonlyMap<Kind, KindState>;
  namespaces: { get(name: string): Namespace | undefined };
  rules: RuleIndex;
  policies: PolicyTracker;
  settings: Settings;
  log: Logger;
  events: EventRecorder;
  rbacWriter?: string;
  now?: () => Date;
  observer?: ControllerObserver;
  /** Enqueues a key again (events seen while our write was in flight). */
  enqueue(key: string, group: string): void;
  /** How often the key has failed in a row (for the log line). */
  failuresOf(key: string): number;
  /** A standby records nothing. */
  working(): boolean;
}

export class Reconciler {
  private readonly d: ReconcilerDeps;
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
  /**
   * Targets whose last reconcile failed (not counting 404 and 409: the cache was behind), by kind. A state, not a
   * rate: a 422, which is not retried until something changes, stays counted until a reconcile succeeds.
   */
  private readonly failing = new Map<string, Kind>();

  /** The Role cache, for RoleBindings waiting on their Role (found once, not per reconcile). */
  private readonly roles: KindState | undefined;

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
    this.roles = [...deps.states.values()].find((s) => s.spec.rbac === 'role');
  }

  // ---- what watch events say about our writes ---------------------------------------------------

  /** Whether this event only reports our own latest write of `key` (a deletion forgets that write). */
  isOwnWrite(key: string, type: InformerEvent, obj: KubeObject): boolean {
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

  /** A replica lost our label (`stillThere`: the object itself was not deleted): remembered unless we did it. */
  replicaLeft(key: string, obj: KubeObject): void {
    if (this.wrote.get(key) !== obj.metadata.resourceVersion) this.leftReplicas.set(key, obj.metadata.uid ?? '');
  }

  /** The object is gone: nothing to report about it any more. */
  objectDeleted(key: string): void {
    this.leftReplicas.delete(key);
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

  // ---- reconcile -------------------------------------------------------------------------------

  async reconcile(key: string): Promise<ReconcileResult> {
    const started = performance.now();
    const target = parseRefKey(key);
    const state = this.d.states.get(target.kind);
    if (!state) return 'done';
    const observer = this.d.observer;
    let result: Plan | undefined;
    try {
      result = await this.planFor(target, state);
      for (const n of result.notes) this.note(n);
      for (const n of result.notes) if (n.type === 'Warning') observer?.refused?.(target.kind, n.reason);
      if (result.write) result = await this.execute(target, state, result);
      this.d.policies.record(key, result);
      this.failing.delete(key);
      observer?.reconciled?.(target.kind, result.outcome, result.tier ?? 'none', (performance.now() - started) / 1000);
      return result.retry ? { requeueAfterMs: waitingRequeueMs } : 'done';
    } catch (err) {
      observer?.reconciled?.(target.kind, 'Error', result?.tier ?? 'none', (performance.now() - started) / 1000);
      const outcome = this.failed(target, err, result);
      if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) {
        this.d.policies.record(key, result, describe(err));
        this.failing.set(key, target.kind);
      }
      return outcome;
    }
  }

  /** How many targets of `kind` failed at their last reconcile. */
  failingCount(kind: Kind): number {
    let n = 0;
    for (const k of this.failing.values()) if (k === kind) n++;
    return n;
  }

  /** What reconcile would do for `key`, without doing it (the `plan` command). */
  async dryRun(key: string): Promise<Plan | undefined> {
    const target = parseRefKey(key);
    const state = this.d.states.get(target.kind);
    return state ? this.planFor(target, state) : undefined;
  }

  /** `byMetadata`: judge our replica by its cached metadata first (false: read its content at once). */
  private async planFor(target: ObjectRef, state: KindState, byMetadata = true): Promise<Plan> {
    const nsObj = this.d.namespaces.get(target.namespace);
    const liveMeta = state.metadata(target.namespace, target.name);
    const candidates: Candidate[] = [];
    if (nsObj) {
      const view = namespaceView(nsObj);
      for (const rule of this.d.rules.forTargetName(target.kind, target.name)) {
        if (!ruleTargetsNamespace(rule, view, this.d.settings)) continue;
        const source = await state.full(rule.source.namespace, rule.source.name);
        if (source) candidates.push({ rule, source });
      }
    }
    // An object no rule wants, that does not pull and is not our replica, needs no work: never fetch (or cache)
    // its content, or every change anywhere in the cluster would cost a GET and memory.
    // An empty replicate-from pulls from nothing, but is still a pull target: its InvalidAnnotation is reported.
    const pulls = liveMeta !== undefined && declaresPull(target.kind, liveMeta);
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
      if (parsed.problem) pull = { problem: parsed.problem, via: parsed.via };
      else if (parsed.source) pull = { via: parsed.via, sourceRef: parsed.source, source: await state.full(parsed.source.namespace, parsed.source.name) };
    }
    const roles = this.roles;
    const roleBound = state.spec.rbac === 'role' && !live && candidates.length > 0 ? await this.roleBoundByForeignBinding(target) : false;
    const nsObj = this.d.namespaces.get(target.namespace);
    return plan({
      roleBoundByForeignBinding: roleBound, history: this.historyOf(refKey(target), live),
      targetNamespace: nsObj ? namespaceView(nsObj) : undefined,
      target, spec: state.spec, live, liveIsMetadata, candidates, pull, settings: this.d.settings, now: rfc3339(this.d.now?.() ?? new Date()),
      roleExists: roles ? (name) => roles.metadata(target.namespace, name) !== undefined : undefined,
      policyState: (name, uid) => this.d.policies.state(name, uid),
    });
  }

  /** Whether a RoleBinding we did not make already references a Role of this name (a Role would arm it). */
  private async roleBoundByForeignBinding(target: ObjectRef): Promise<boolean> {
    return (await listRoleBindings(this.d.client, target.namespace)).some((b) => b.roleRef?.kind === 'Role' && b.roleRef.name === target.name && b.metadata.labels?.[provenance.replicaLabel] !== 'true');
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
      if (seen.some((rv) => rv !== ours)) this.d.enqueue(key, target.namespace);
    }
  }

  private async executeWrite(target: ObjectRef, state: KindState, p: Plan): Promise<Plan> {
    const w = p.write!;
    const key = refKey(target);
    const { spec } = state;
    const writer = this.d.writer;
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
        written(await writer.create(spec, w.object, answer));
        break;
      case 'update':
        written(await writer.update(spec, w.object, answer));
        break;
      case 'patch':
        try {
          written(await writer.patch(spec, target, w.patch, answer));
        } catch (err) {
          // The API server will not change a field in place (a Secret's type, a roleRef, an immutable object's
          // data): plan again from the whole object, which knows to recreate it. The notes were recorded already.
          if (!(err instanceof ApiError && err.status === 422)) throw err;
          const again = await this.planFor(target, state, false);
          return again.write ? this.executeWrite(target, state, again) : again;
        }
        break;
      case 'recreate':
        await writer.delete(spec, target, pre);
        state.assumeDeleted(target.namespace, target.name);
        written(await writer.create(spec, w.object, answer));
        break;
      case 'delete':
        this.wrote.delete(key);
        await writer.delete(spec, target, pre);
        state.assumeDeleted(target.namespace, target.name);
        break;
    }
    const action = actionOf(w);
    this.d.observer?.wrote?.(target.kind, action, p.tier ?? 'none');
    this.d.log.info(`${action} ${formatRef(target)}`, { kind: target.kind, namespace: target.namespace, name: target.name, action, outcome: p.outcome, rule: p.owner, tier: p.tier });
    return p;
  }

  private failed(target: ObjectRef, err: unknown, p: Plan | undefined): ReconcileResult {
    const status = err instanceof ApiError ? err.status : 0;
    this.d.observer?.writeFailed?.(target.kind, status);
    // 409 and 404 mean our cache was behind: the watch is about to tell us more, so just try again.
    if (status === 409 || isNotFound(err)) {
      this.d.log.debug('cache behind the API server; retrying', { key: refKey(target), status });
      return 'retry';
    }
    const escalation = status === 403 && Boolean(this.d.states.get(target.kind)?.spec.rbac) && Boolean(this.d.rbacWriter);
    const message = escalation
      ? `the RBAC writer ${this.d.rbacWriter} may not ${p?.write ? actionOf(p.write) : 'write'} ${formatRef(target)}; it would grant more than the writer holds (add what it grants to the chart's rbacWriter.grantable, or to a ClusterRole labelled kube-replicator.io/grantable-for): ${describe(err)}`
      : `could not ${p?.write ? actionOf(p.write) : 'reconcile'} ${formatRef(target)}: ${describe(err)}${status === 422 ? ' (not retried until the source or the target changes)' : ''}`;
    const reason = escalation ? 'EscalationRefused' : 'ReplicationFailed';
    this.d.log.error(message, { kind: target.kind, namespace: target.namespace, name: target.name, attempt: this.d.failuresOf(refKey(target)) + 1 });
    const source = p?.owner ? this.d.rules.get(p.owner)?.source : undefined;
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
  note(n: Note): void {
    if (!this.d.working()) return; // a standby records nothing
    const state = this.d.states.get(n.on.kind);
    const obj = state?.metadata(n.on.namespace, n.on.name);
    if (!state || !obj) return;
    if (n.by && n.by.namespace !== n.on.namespace && !this.crossNamespaceNotes.allow(`${n.by.namespace} ${n.on.namespace}`)) {
      this.d.log.debug('Event not recorded: too many from one namespace into another', { reason: n.reason, from: n.by.namespace, namespace: n.on.namespace });
      return;
    }
    this.d.events.record({
      involved: { apiVersion: state.spec.apiVersion, kind: n.on.kind, name: n.on.name, namespace: n.on.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
      type: n.type, reason: n.reason, message: n.message,
    });
    if (n.type === 'Warning') this.d.log.warn(n.message, { reason: n.reason, kind: n.on.kind, namespace: n.on.namespace, name: n.on.name });
  }
}

/** An error for logs and Events: the API server's message (names and reasons, never object data). */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.status === 403 ? `forbidden (HTTP 403): ${err.message}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
