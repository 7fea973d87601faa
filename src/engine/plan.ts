// For one target object: which rule wins, the desired object, and the single write (if any) that gets there.
// Pure: everything it needs is in PlanInput; the controller performs the write and records the notes.
import type { EventReason } from '../model/event-reasons.ts';
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { dropManagedFields, formatRef } from '../model/objects.ts';
import { consentNeeded, pullConsent } from '../rules/annotation-rules.ts';
import { rbacPushRefusal, sourceRefusal } from '../rules/targeting.ts';
import { isProtectedFrom, protectedNamespaceRefusal, ruleTier, tierOf } from '../rules/trust.ts';
import type { NamespaceView, PushRule, RuleProblem, Settings, Tier } from '../rules/types.ts';
import { policyOfRuleLabel, ruleLabel } from '../rules/rule-id.ts';
import {
  clearedPullTarget, desiredPullTarget, desiredPushReplica, differs, needsRecreate, orphanedReplica, replicaPatch, sameContent, sameMetadata,
  strippedReplica, type MergePatch,
} from './desired.ts';
import { provenance as P } from '../rules/vocabulary.ts';
import { classify, hasOwnKeys, type LegacyReplicator, type Ownership } from './ownership.ts';

export interface Candidate {
  rule: PushRule;
  source: KubeObject;
  /** Filled in by plan() from the settings; trusted rules always win over untrusted ones. */
  tier?: Tier;
}

/** What the live object's write history (its managedFields) says, as far as ownership is concerned. */
export interface LiveHistory {
  /** kube-replicator's field manager has written the object: without that, our provenance on it is not proof. */
  writtenByUs: boolean;
  /** Someone else wrote it after our latest write (an edit, an apply, a replace). */
  changedSinceOurWrite: boolean;
  /** It was our replica until someone else removed our provenance from it (seen once, e.g. after `kubectl replace`). */
  provenanceRemoved?: boolean;
}

export interface PullInput {
  /** The annotation that names the source (`replicate-from` or `reflects`): messages name what the user wrote. */
  via?: string;
  sourceRef?: ObjectRef;
  source?: KubeObject;
  problem?: RuleProblem;
}

export interface PlanInput {
  target: ObjectRef;
  /** The target's kind, as the kind table describes it. */
  spec: KindSpec;
  live?: KubeObject;
  /**
   * `live` is our replica known by its metadata only (replicas are not held in full: memory would follow their
   * content). The plan then either finds it in sync or answers NeedContent, and is made again with the content.
   */
  liveIsMetadata?: boolean;
  /** Push rules whose source has the target's name and which target its namespace. */
  candidates: Candidate[];
  /** Set when the live object pulls (`replicate-from`). */
  pull?: PullInput;
  /** The target's namespace as rules see it (its labels decide a selector's consent); absent: no labels. */
  targetNamespace?: NamespaceView;
  /** For RoleBindings that reference a Role: whether that Role exists in the target namespace. */
  roleExists?: (name: string) => boolean;
  /** For a Role about to be created: a RoleBinding we did not make already references that name. */
  roleBoundByForeignBinding?: boolean;
  settings: Settings;
  /** RFC 3339 time for `replicated-at`. */
  now: string;
  /** The state of a policy named in a replica's provenance (by name and uid); absent means gone. */
  policyState?: (name: string, uid: string) => 'active' | 'suspended' | 'gone';
  /** Who wrote the live object; absent: only we did (unit tests). */
  history?: LiveHistory;
}

export type Write =
  | { type: 'create'; object: KubeObject }
  | { type: 'update'; object: KubeObject }
  /** An update of our replica from its metadata alone (see replicaPatch); reported as an update. */
  | { type: 'patch'; patch: MergePatch }
  | { type: 'recreate'; object: KubeObject }
  | { type: 'delete' };

export interface Note {
  on: ObjectRef;
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
  /**
   * The untrusted party on whose behalf a note lands on another namespace's object: recording is rate-limited per
   * pair of namespaces, so that a tenant cannot flood another namespace with Events. Absent for trusted rules.
   */
  by?: ObjectRef;
}

export type Outcome = 'NeedContent' | 'InSync' | 'Written' | 'Conflict' | 'Refused' | 'Waiting' | 'Removed' | 'Nothing' | 'Invalid' | 'Suspended';

export interface Plan {
  write?: Write;
  outcome: Outcome;
  /** The rule that owns the target (the winner), if any, and its tier. */
  owner?: string;
  tier?: Tier;
  /** Rules that wanted the target but lost to the owner. */
  losers?: string[];
  notes: Note[];
  /** Try again later even without an event (e.g. a RoleBinding waiting for its Role). */
  retry?: boolean;
}

/** Deterministic precedence: trusted before untrusted, then higher priority, then the older source, then the rule id. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if ((a.tier ?? 'untrusted') !== (b.tier ?? 'untrusted')) return a.tier === 'trusted' ? -1 : 1;
  if (a.rule.priority !== b.rule.priority) return b.rule.priority - a.rule.priority;
  if (a.rule.sourceCreated !== b.rule.sourceCreated) return a.rule.sourceCreated < b.rule.sourceCreated ? -1 : 1;
  return a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0;
}

/** What a write is called in logs, metrics and the plan command: a patch is how an update is sent. */
export const actionOf = (w: Write): Exclude<Write['type'], 'patch'> => (w.type === 'patch' ? 'update' : w.type);

const needContent: Plan = { outcome: 'NeedContent', notes: [] };

export function plan(input: PlanInput): Plan {
  const p = planWith(input);
  // Every write but the patch of our own replica starts from the live content (and its notes come with that plan).
  return input.liveIsMetadata && p.write && p.write.type !== 'patch' ? needContent : p;
}

function planWith(input: PlanInput): Plan {
  const { settings, target } = input;
  const ownership = classify(input.live, input.history?.writtenByUs ?? true, target.kind);
  // Only our own replica is judged by its metadata (its cached metadata lacks what the other cases read).
  if (input.liveIsMetadata && ownership.type !== 'ours') return needContent;
  if (ownership.type === 'pullTarget') return planPull(input);
  const notes: Note[] = [];
  const eligible: Candidate[] = [];
  for (const c of input.candidates) {
    const refusal = sourceRefusal(input.spec, c.source, settings) ?? rbacPushRefusal(input.spec, c.rule, settings) ?? protectedNamespaceRefusal(c.rule, target, settings);
    if (refusal) notes.push({ on: c.rule.source, type: 'Warning', reason: refusal.reason, message: refusal.message });
    else eligible.push({ ...c, tier: ruleTier(c.rule, settings) });
  }
  if (eligible.length === 0) {
    const p = planUnwanted(input, ownership);
    return withNotes(p.write ? p : { ...p, outcome: input.candidates.length ? 'Refused' : p.outcome }, notes);
  }
  const [winner, ...losers] = eligible.sort(compareCandidates);
  for (const l of losers) {
    const why = l.tier !== winner!.tier ? '; a trusted rule always wins over an untrusted one' : '';
    notes.push({
      on: l.rule.source, type: 'Warning', reason: 'RuleConflict',
      message: `${formatRef(target)} is replicated from ${winner!.rule.source.namespace}/${winner!.rule.source.name} (${ruleLabel(winner!.rule.origin)}, ${winner!.tier}), which takes precedence over this ${ruleLabel(l.rule.origin)} rule (${l.tier})${why}`,
    });
  }
  const p = withNotes({ ...planPush(input, winner!, ownership), tier: winner!.tier }, notes);
  return losers.length ? { ...p, losers: losers.map((l) => l.rule.id) } : p;
}

/** `by` for a note a rule causes on another object: only untrusted rules are rate-limited (see Note.by). */
const onBehalfOf = (c: Candidate): Pick<Note, 'by'> => (c.tier === 'trusted' ? {} : { by: c.rule.source });

function withNotes(p: Plan, notes: Note[]): Plan {
  return { ...p, notes: [...notes, ...p.notes] };
}

/** The tier of the rule a replica's provenance names, under today's settings. */
export function replicaTier(ownership: Extract<Ownership, { type: 'ours' }>, settings: Settings): Tier {
  if (policyOfRuleLabel(ownership.rule)) return 'trusted';
  return tierOf({ type: 'annotation' }, ownership.source.split('/')[0] ?? '', settings);
}

function planUnwanted(input: PlanInput, ownership: Ownership): Plan {
  const live = input.live;
  if (!live || ownership.type !== 'ours') return { outcome: 'Nothing', notes: [] };
  const tier = replicaTier(ownership, input.settings);
  // Left as they are: an untrusted replica in a protected namespace (never touched), and one its namespace's owner
  // has changed since (theirs now: released, not deleted).
  if (isProtectedFrom(tier, input.target.namespace, input.settings)) return { outcome: 'Refused', notes: [] };
  if (tier === 'untrusted' && input.history?.changedSinceOurWrite) return release(input, live);
  const policy = policyOfRuleLabel(ownership.rule);
  if (policy) {
    const state = input.policyState?.(policy, live.metadata.annotations?.[P.policyUid] ?? '') ?? 'gone';
    if (state === 'suspended') return { outcome: 'Suspended', notes: [] };
    if (state === 'gone' && live.metadata.annotations?.[P.deletionPolicy] === 'Orphan') {
      return { write: { type: 'update', object: orphanedReplica(live) }, outcome: 'Removed', notes: [] };
    }
  }
  // Only our own replicas are removed; one that also holds keys of its own keeps them.
  if (input.spec.dataMaps && hasOwnKeys(live)) {
    return { write: { type: 'update', object: strippedReplica(input.spec, live) }, outcome: 'Removed', notes: [] };
  }
  return { write: { type: 'delete' }, outcome: 'Removed', notes: [] };
}

/** A replica its namespace's owner changed: provenance removed, content left as the owner wrote it. */
function release(input: PlanInput, live: KubeObject, winner?: Candidate): Plan {
  return { ...claimed(input, winner), write: { type: 'update', object: orphanedReplica(live) } };
}

/** What is reported when the target namespace's owner takes a replica of an untrusted rule. */
function claimed(input: PlanInput, winner?: Candidate): Plan {
  const { target } = input;
  const changed = `${formatRef(target)} was changed by someone other than kube-replicator after it was replicated`;
  const notes: Note[] = [{
    on: target, type: 'Normal', reason: 'TargetClaimed', by: winner?.rule.source,
    message: `${changed}; it is no longer managed by kube-replicator and keeps its content as it is now`,
  }];
  if (winner) {
    notes.push({
      on: winner.rule.source, type: 'Warning', reason: 'TargetClaimed',
      message: `${changed}: the namespace's owner wins over an untrusted push, so it is no longer replicated from this source (${ruleLabel(winner.rule.origin)}, untrusted)`,
    });
  }
  return { outcome: 'Conflict', owner: winner?.rule.id, notes };
}

const legacyName: Record<LegacyReplicator, string> = { mittwald: 'mittwald/kubernetes-replicator', reflector: 'emberstack/kubernetes-reflector' };

/**
 * Whether another replicator demonstrably copied `live` from `source`: the source version it records is the
 * source's (resource versions are unique across the cluster's store), or the content is already the same (taking
 * over changes nothing).
 */
function copiedFrom(spec: KindSpec, ownership: Extract<Ownership, { type: 'legacy' }>, live: KubeObject, source: KubeObject): boolean {
  return (Boolean(ownership.version) && ownership.version === source.metadata.resourceVersion) || sameContent(spec, live, source);
}

function planPush(input: PlanInput, winner: Candidate, ownership: Ownership): Plan {
  const { target, live, spec } = input;
  if (winner.rule.suspended) return { outcome: 'Suspended', owner: winner.rule.id, notes: [] };
  if (live && ownership.type === 'ours' && winner.tier === 'untrusted' && input.history?.changedSinceOurWrite) return release(input, live, winner);
  // Already without our provenance (the owner removed it): only reported, nothing to write.
  if (live && ownership.type === 'foreign' && winner.tier === 'untrusted' && input.history?.provenanceRemoved) return claimed(input, winner);
  if (live && ownership.type === 'legacy' && winner.tier === 'untrusted' && !copiedFrom(spec, ownership, live, winner.source)) {
    const message = `${formatRef(target)} was replicated by ${legacyName[ownership.by]} from another source; an untrusted push from ${winner.rule.source.namespace} does not take it over (a trusted rule would)`;
    return {
      outcome: 'Conflict', owner: winner.rule.id,
      notes: [
        { on: winner.rule.source, type: 'Warning', reason: 'LegacyReplicaKept', message },
        { on: target, type: 'Warning', reason: 'LegacyReplicaKept', by: winner.rule.source, message: `not taken over by ${winner.rule.source.namespace}/${winner.rule.source.name}: ${message}` },
      ],
    };
  }
  const mayTakeOver = input.settings.adoptExisting || winner.rule.onConflict !== 'Skip';
  if (ownership.type === 'foreign' && !mayTakeOver) {
    const message = `${formatRef(target)} already exists and was not made by a replicator; it is left untouched (enable adoption to take it over)`;
    return {
      outcome: 'Conflict', owner: winner.rule.id,
      notes: [
        { on: winner.rule.source, type: 'Warning', reason: 'TargetConflict', message },
        { on: target, type: 'Warning', reason: 'TargetConflict', ...onBehalfOf(winner), message: `not replaced by ${winner.rule.source.namespace}/${winner.rule.source.name}: ${message}` },
      ],
    };
  }
  if (spec.rbac === 'role' && !live && input.roleBoundByForeignBinding) {
    const message = `a RoleBinding in ${target.namespace} that kube-replicator did not make already references Role ${target.name}; creating it would grant that binding's subjects this Role's rules, so it is not created`;
    return {
      outcome: 'Refused', owner: winner.rule.id,
      notes: [{ on: winner.rule.source, type: 'Warning', reason: 'RoleNameInUse', message }],
    };
  }
  const desired = desiredPushReplica(spec, winner.rule, winner.source, target.namespace, live, input.now, winner.tier ?? 'untrusted');
  if (spec.rbac === 'binding' && desired.roleRef?.kind === 'Role' && input.roleExists && !input.roleExists(desired.roleRef.name)) {
    return {
      outcome: 'Waiting', owner: winner.rule.id, retry: true,
      notes: [{ on: winner.rule.source, type: 'Warning', reason: 'WaitingForRole', message: `Role ${desired.roleRef.name} does not exist in namespace ${target.namespace} yet; the RoleBinding is created once it does` }],
    };
  }
  if (live && input.liveIsMetadata) {
    // Someone else wrote it since our write: its content is not what we wrote, so it is read before it is judged.
    if (input.history?.changedSinceOurWrite) return needContent;
    if (sameMetadata(desired, live)) return { outcome: 'InSync', owner: winner.rule.id, notes: [] };
    // A merge patch merges nested objects: only a kind whose fields it replaces whole is patched blind.
    if (spec.fields === 'specOrRest') return needContent;
    return { write: { type: 'patch', patch: replicaPatch(spec, desired, live) }, outcome: 'Written', owner: winner.rule.id, notes: [] };
  }
  return { ...decideWrite(spec, desired, live), owner: winner.rule.id };
}

function decideWrite(spec: KindSpec, desired: KubeObject, live: KubeObject | undefined): Plan {
  // Built without a live object, `desired` carries no server fields to strip.
  if (!live) return { write: { type: 'create', object: desired }, outcome: 'Written', notes: [] };
  if (needsRecreate(spec, desired, live)) return { write: { type: 'recreate', object: stripServerFields(desired) }, outcome: 'Written', notes: [] };
  if (differs(spec, desired, live)) return { write: { type: 'update', object: desired }, outcome: 'Written', notes: [] };
  return { outcome: 'InSync', notes: [] };
}

/** A create must not carry the identity of an object that is gone. */
function stripServerFields(obj: KubeObject): KubeObject {
  const m = { ...obj.metadata };
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'deletionTimestamp'] as const) delete m[k];
  dropManagedFields(m);
  return { ...obj, metadata: m };
}

function planPull(input: PlanInput): Plan {
  const { target, live, pull, spec } = input;
  const notes: Note[] = input.candidates.map((c) => ({
    on: c.rule.source, type: 'Warning' as const, reason: 'TargetConflict',
    message: `${formatRef(target)} pulls from a source of its own (${pull?.via ?? 'replicate-from'}) and is not overwritten by this push`,
  }));
  if (!live || !pull) return { outcome: 'Nothing', notes };
  if (pull.problem) {
    return { outcome: 'Invalid', notes: [...notes, { on: target, type: 'Warning', reason: 'InvalidAnnotation', message: `${pull.problem.field}: ${pull.problem.message}` }] };
  }
  const src = pull.sourceRef!;
  if (src.namespace === target.namespace && src.name === target.name) {
    return { outcome: 'Invalid', notes: [...notes, { on: target, type: 'Warning', reason: 'InvalidAnnotation', message: `${pull.via ?? 'replicate-from'} names the object itself` }] };
  }
  // Consent first. Until the source's owner consents, the puller learns nothing about the source, not even whether
  // it exists: a missing source and one that does not consent (to this namespace, or validly at all) give the
  // target the same write, outcome and note. Consent is needed for data to stay, not only to flow: what an earlier
  // pull put into the target is removed in both cases, as is whatever forged bookkeeping names. Only the source's
  // owner is told why, on the source (which the puller cannot read).
  const consent = pull.source ? pullConsent(target.kind, pull.source, input.targetNamespace ?? target.namespace, input.settings.allowAll, pull.via) : undefined;
  if (!pull.source || !consent?.allowed) {
    const p = notAvailable(spec, target, live, src, pull.via);
    const why: Note[] = consent ? [{
      on: src, type: 'Warning', reason: 'ReplicationNotPermitted', by: target,
      message: `${formatRef(target)} may not pull from ${src.namespace}/${src.name}: ${consent.reason}`,
    }] : [];
    return { ...p, notes: [...notes, ...p.notes, ...why] };
  }
  const refusal = sourceRefusal(spec, pull.source, input.settings);
  if (refusal) return { outcome: 'Refused', notes: [...notes, { on: target, type: 'Warning', reason: refusal.reason, message: refusal.message }] };
  const desired = desiredPullTarget(spec, live, pull.source, input.now);
  if (!differs(spec, desired, live)) return { outcome: 'InSync', notes };
  return { write: { type: 'update', object: desired }, outcome: 'Written', notes };
}

/**
 * The pull target when its source is missing or does not consent, alike in both cases: the replicated content is
 * removed (once; then nothing is written) and one note says so, in words that do not tell the two cases apart.
 */
function notAvailable(spec: KindSpec, target: ObjectRef, live: KubeObject, src: ObjectRef, via: string | undefined): Plan {
  const cleared = clearedPullTarget(spec, live);
  if (cleared && differs(spec, cleared, live)) {
    return { write: { type: 'update', object: cleared }, outcome: 'Removed', notes: [sourceNotAvailable(target, src, via, removedWhat(spec))] };
  }
  return { outcome: 'Waiting', notes: [sourceNotAvailable(target, src, via)] };
}

/** What clearing a pull target of this kind removes (see clearedPullTarget), for its note. */
function removedWhat(spec: KindSpec): string {
  if (spec.dataMaps) return 'the replicated keys were removed';
  const fields = spec.fields === 'specOrRest' ? [] : spec.fields.filter((f) => f.cleared !== undefined).map((f) => f.name);
  return fields.length ? `the replicated ${fields.join(', ')} were cleared` : 'the replication annotations were removed (the content is kept)';
}

/** One note toward a puller for a source that is missing and for one that does not consent: they must look alike. */
function sourceNotAvailable(target: ObjectRef, src: ObjectRef, via: string | undefined, removed?: string): Note {
  return {
    on: target, type: 'Warning', reason: 'SourceNotAvailable',
    message: `source ${src.namespace}/${src.name} does not exist or does not permit replication into ${target.namespace} `
      + `(it needs ${consentNeeded(via, target.namespace)}); ${removed ? `${removed}, and ` : ''}it is copied here once it does`,
  };
}
