// ReplicationPolicies: their compiled form, what the reconciles of their targets recorded, and their status,
// written (debounced, and only when it differs) to the status subresource. Events go on the policy itself.
import type { Kind } from '../model/kinds.ts';
import { parseRefKey } from '../model/objects.ts';
import { policyOfRuleId } from '../rules/rule-id.ts';
import type { Plan } from '../engine/plan.ts';
import type { KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Logger } from '../log.ts';
import { canonical } from '../model/canonical.ts';
import { policyApiVersion, type PolicyStatus, type ReplicationPolicy } from '../api/replication-policy.ts';
import { compilePolicy, type CompiledPolicy, type CompileResult, type SpecValidator } from '../rules/policy-rules.ts';
import { patchPolicyStatus } from '../kube/writer.ts';
import { computeStatus, type TargetRecord } from './policy-status.ts';
import { rfc3339 } from '../model/time.ts';

export interface PolicyCounts {
  sources: number;
  targetNamespaces: number;
  expected: number;
}

export interface PolicyTrackerOptions {
  client: KubeClient;
  events: EventRecorder;
  log: Logger;
  enabledKinds: readonly Kind[];
  /** The CRD's schema for a policy's spec. */
  validateSpec?: SpecValidator;
  counts: (name: string) => PolicyCounts;
  /** True while keys wait or run: status waits for the queue to settle (up to maxDelayMs). */
  busy: () => boolean;
  delayMs?: number;
  maxDelayMs?: number;
  now?: () => Date;
  onStatusWrite?: (name: string) => void;
}

interface Entry {
  obj: ReplicationPolicy;
  result: CompileResult;
}


export class PolicyTracker {
  private readonly policies = new Map<string, Entry>();
  private readonly records = new Map<string, Map<string, TargetRecord>>();
  private readonly recordedBy = new Map<string, Set<string>>();
  private readonly lastSync = new Map<string, string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; since: number }>();
  private readonly opts: PolicyTrackerOptions;
  private stopped = false;
  /** Off on a standby: it computes nothing into the API server (no status, no Events) until it leads. */
  private enabled = false;

  constructor(opts: PolicyTrackerOptions) {
    this.opts = opts;
  }

  /**
   * A watch event: records or forgets the policy; whether its rules may have changed (a new compile result, or the
   * start of its deletion).
   */
  apply(type: 'add' | 'update' | 'delete', p: ReplicationPolicy): boolean {
    const before = this.policies.get(p.metadata.name);
    if (type === 'delete') {
      this.remove(p.metadata.name);
      return true;
    }
    const result = this.upsert(p);
    return !before || before.result !== result || Boolean(before.obj.metadata.deletionTimestamp) !== Boolean(p.metadata.deletionTimestamp);
  }

  /** Records a policy as seen; returns its compile result. Invalid specs are reported on the policy. */
  upsert(obj: ReplicationPolicy): CompileResult {
    const prev = this.policies.get(obj.metadata.name);
    const result = prev && prev.obj.metadata.generation === obj.metadata.generation && prev.obj.metadata.uid === obj.metadata.uid
      ? prev.result
      : compilePolicy(obj, this.opts.enabledKinds, this.opts.validateSpec);
    this.policies.set(obj.metadata.name, { obj, result });
    if (!result.ok && result !== prev?.result) {
      this.event(obj, 'Warning', 'InvalidSpec', result.problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    }
    if (!prev || prev.obj.metadata.generation !== obj.metadata.generation || result !== prev.result) this.schedule(obj.metadata.name);
    return result;
  }

  /** The ReplicationPolicy CRD was found missing, or installed after it was: said where an admin looks. */
  crdPresent(present: boolean): void {
    if (present) this.opts.log.info('the ReplicationPolicy CRD is installed now: policies are read');
    else this.opts.log.warn('the ReplicationPolicy CRD is not installed: only annotations are read; it is checked again every 30 s (install it: kubectl apply -k crds/)');
  }

  /** The compiled form of a policy that is in force: valid and not being deleted. */
  active(name: string): CompiledPolicy | undefined {
    const e = this.policies.get(name);
    return e && e.result.ok && !e.obj.metadata.deletionTimestamp ? e.result.policy : undefined;
  }

  remove(name: string): void {
    this.policies.delete(name);
    this.records.delete(name);
    this.lastSync.delete(name);
    const t = this.timers.get(name);
    if (t) clearTimeout(t.timer);
    this.timers.delete(name);
  }

  get(name: string): Entry | undefined {
    return this.policies.get(name);
  }

  names(): string[] {
    return [...this.policies.keys()];
  }

  /** For the planner: whether the policy named in a replica's provenance still stands. */
  state(name: string, uid: string): 'active' | 'suspended' | 'gone' {
    const e = this.policies.get(name);
    if (!e || e.obj.metadata.deletionTimestamp || (uid && e.obj.metadata.uid !== uid)) return 'gone';
    return e.result.ok && e.result.policy.suspended ? 'suspended' : 'active';
  }

  /** What one reconcile of `targetKey` means for the policies involved (owner and losers). */
  record(targetKey: string, plan: Plan | undefined, error?: string): void {
    const touched = new Set<string>(this.recordedBy.get(targetKey) ?? []);
    for (const name of touched) this.records.get(name)?.delete(targetKey);
    this.recordedBy.delete(targetKey);
    const t = parseRefKey(targetKey);
    const put = (name: string, r: Omit<TargetRecord, 'kind' | 'namespace' | 'name'>) => {
      if (!this.policies.has(name)) return;
      let m = this.records.get(name);
      if (!m) this.records.set(name, (m = new Map()));
      m.set(targetKey, { kind: t.kind, namespace: t.namespace, name: t.name, ...r });
      let s = this.recordedBy.get(targetKey);
      if (!s) this.recordedBy.set(targetKey, (s = new Set()));
      s.add(name);
      touched.add(name);
    };
    const owner = policyOfRuleId(plan?.owner);
    if (owner) {
      const warning = plan?.notes.find((n) => n.type === 'Warning');
      if (error) put(owner, { outcome: 'Error', reason: 'ReplicationFailed', message: error });
      else put(owner, { outcome: plan!.outcome, reason: warning?.reason, message: warning?.message });
      if (!error && plan!.outcome === 'Written') this.lastSync.set(owner, rfc3339(this.opts.now?.() ?? new Date()));
      if (error || warning) {
        const e = this.policies.get(owner);
        if (e) this.event(e.obj, 'Warning', error ? 'ReplicationFailed' : warning!.reason, error ?? warning!.message);
      }
    }
    for (const loser of plan?.losers ?? []) {
      const name = policyOfRuleId(loser);
      if (name) put(name, { outcome: 'Conflict', reason: 'RuleConflict', message: `${t.namespace}/${t.name} is owned by ${plan!.owner}` });
    }
    for (const name of touched) this.schedule(name);
  }

  enable(): void {
    this.enabled = true;
    for (const e of this.policies.values()) {
      if (!e.result.ok) this.event(e.obj, 'Warning', 'InvalidSpec', e.result.problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    }
  }

  schedule(name: string): void {
    if (!this.enabled || this.stopped || this.timers.has(name)) return;
    const since = Date.now();
    const arm = (delay: number) => {
      const timer = setTimeout(() => {
        const waited = Date.now() - since;
        if (this.opts.busy() && waited < (this.opts.maxDelayMs ?? 10_000)) return arm(this.opts.delayMs ?? 1000);
        this.timers.delete(name);
        this.writeStatus(name).catch((e: unknown) => {
          this.opts.log.warn('could not write policy status; retrying', { policy: name, error: (e as Error).message });
          this.schedule(name);
        });
      }, delay);
      timer.unref();
      this.timers.set(name, { timer, since });
    };
    arm(this.opts.delayMs ?? 1000);
  }

  scheduleAll(): void {
    for (const name of this.policies.keys()) this.schedule(name);
  }

  statusOf(name: string): PolicyStatus | undefined {
    const e = this.policies.get(name);
    if (!e) return undefined;
    const counts = e.result.ok ? this.opts.counts(name) : { sources: 0, targetNamespaces: 0, expected: 0 };
    return computeStatus({
      policy: e.obj,
      problems: e.result.ok ? undefined : e.result.problems,
      suspended: e.result.ok && e.result.policy.suspended,
      ...counts,
      records: this.records.get(name)?.values() ?? [],
      lastSyncTime: this.lastSync.get(name) ?? e.obj.status?.lastSyncTime,
      now: rfc3339(this.opts.now?.() ?? new Date()),
    });
  }

  private async writeStatus(name: string): Promise<void> {
    const e = this.policies.get(name);
    if (!e || e.obj.metadata.deletionTimestamp) return;
    const status = this.statusOf(name)!;
    if (canonical(status) === canonical(e.obj.status ?? {})) return;
    const updated = await patchPolicyStatus(this.opts.client, name, status);
    const current = this.policies.get(name);
    if (current && current.obj.metadata.uid === updated.metadata.uid) current.obj = { ...current.obj, status: updated.status };
    this.opts.onStatusWrite?.(name);
  }

  private event(obj: ReplicationPolicy, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.enabled) return;
    this.opts.events.record({
      involved: { apiVersion: policyApiVersion, kind: 'ReplicationPolicy', name: obj.metadata.name, uid: obj.metadata.uid, namespace: '' },
      type, reason, message,
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
  }
}
