// A ReplicationPolicy's status from what the reconciles recorded. Pure: the same input gives the same status,
// and a condition's lastTransitionTime moves only when its status flips, so an unchanged cluster produces an
// identical status and no write.
import type { Outcome } from '../engine/plan.ts';
import type { PolicyCondition, PolicyFailure, PolicyStatus, ReplicationPolicy } from '../api/replication-policy.ts';
import type { RuleProblem } from '../rules/types.ts';

export interface TargetRecord {
  kind: string;
  namespace: string;
  name: string;
  outcome: Outcome | 'Error';
  reason?: string;
  message?: string;
}

export interface StatusInput {
  policy: ReplicationPolicy;
  problems?: RuleProblem[];
  suspended: boolean;
  sources: number;
  targetNamespaces: number;
  /** Targets the policy wants (sources × namespaces each targets). */
  expected: number;
  records: Iterable<TargetRecord>;
  lastSyncTime?: string;
  now: string;
}

export const maxFailures = 10;

const inSyncOutcomes = new Set<TargetRecord['outcome']>(['InSync', 'Written']);
const failedOutcomes = new Set<TargetRecord['outcome']>(['Refused', 'Waiting', 'Invalid', 'Error']);

interface ConditionValue {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Sets a condition, keeping lastTransitionTime unless the status flips. */
export function setCondition(previous: PolicyCondition[] | undefined, next: ConditionValue, now: string, generation: number): PolicyCondition {
  const prev = previous?.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  return { ...next, observedGeneration: generation, lastTransitionTime };
}

export function computeStatus(input: StatusInput): PolicyStatus {
  const { policy, now } = input;
  const generation = policy.metadata.generation ?? 0;
  const prev = policy.status?.conditions;
  let inSync = 0;
  let failed = 0;
  let conflicts = 0;
  const failures: PolicyFailure[] = [];
  const sorted = [...input.records].sort((a, b) => `${a.namespace}/${a.kind}/${a.name}`.localeCompare(`${b.namespace}/${b.kind}/${b.name}`));
  for (const r of sorted) {
    if (inSyncOutcomes.has(r.outcome)) inSync++;
    else if (r.outcome === 'Conflict') conflicts++;
    else if (failedOutcomes.has(r.outcome)) failed++;
    else continue;
    if (!inSyncOutcomes.has(r.outcome) && failures.length < maxFailures) {
      failures.push({ kind: r.kind, namespace: r.namespace, name: r.name, reason: r.reason ?? r.outcome, ...(r.message ? { message: r.message.slice(0, 1024) } : {}) });
    }
  }
  let ready: ConditionValue;
  let progressing: ConditionValue;
  let degraded: ConditionValue;
  if (input.problems?.length) {
    const message = input.problems.map((p) => `${p.field}: ${p.message}`).join('; ').slice(0, 4096);
    ready = { type: 'Ready', status: 'False', reason: 'InvalidSpec', message };
    progressing = { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: 'nothing is replicated until the spec is fixed' };
    degraded = { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message };
  } else if (input.suspended) {
    ready = { type: 'Ready', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: no replica is written or removed' };
    progressing = { type: 'Progressing', status: 'False', reason: 'Suspended', message: 'suspended' };
    degraded = { type: 'Degraded', status: 'False', reason: 'Suspended', message: 'suspended' };
  } else {
    const pending = Math.max(0, input.expected - inSync - failed - conflicts);
    const healthy = failed === 0 && conflicts === 0;
    const notOk = failed > 0 ? 'ReplicationFailed' : 'TargetConflict';
    degraded = healthy
      ? { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no failures and no conflicts' }
      : { type: 'Degraded', status: 'True', reason: notOk, message: `${failed} failed, ${conflicts} in conflict; see status.failures and the policy's Events` };
    progressing = pending > 0
      ? { type: 'Progressing', status: 'True', reason: 'Replicating', message: `${pending} of ${input.expected} replicas pending` }
      : { type: 'Progressing', status: 'False', reason: 'Complete', message: 'every wanted replica has been handled' };
    ready = healthy && pending === 0
      ? { type: 'Ready', status: 'True', reason: 'InSync', message: `${inSync} replicas in sync` }
      : { type: 'Ready', status: 'False', reason: healthy ? 'Replicating' : notOk, message: healthy ? progressing.message : degraded.message };
  }
  return {
    observedGeneration: generation,
    sources: input.sources,
    targetNamespaces: input.targetNamespaces,
    inSync,
    failed,
    conflicts,
    ...(input.lastSyncTime ? { lastSyncTime: input.lastSyncTime } : {}),
    failures,
    conditions: [ready, progressing, degraded].map((c) => setCondition(prev, c, now, generation)),
  };
}
