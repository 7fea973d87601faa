// Watch events → the keys they make worth a reconcile, over explicit indexes: every push rule (from annotations and
// from policies), pull relationships both ways, and replicas by the source in their provenance. No API calls: the
// caches it reads and what it does with a key come in through EventKeysDeps, so every event kind is unit-tested.
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject, Namespace } from '../model/objects.ts';
import { parseRefKey, refKey, refOf } from '../model/objects.ts';
import type { Note } from '../engine/plan.ts';
import type { InformerEvent } from '../kube/informer.ts';
import { forgetPushSource, pullConsent, pullSourceFromAnnotations, pushRuleFromAnnotations } from '../rules/annotation-rules.ts';
import { policyRule, policySelectsSource, type CompiledPolicy } from '../rules/policy-rules.ts';
import { annotationRuleId, policyRuleId, ruleLabel } from '../rules/rule-id.ts';
import { namedTargets, ruleTargetsNamespace, targetsNamespace } from '../rules/targeting.ts';
import type { NamespaceView, PushRule, RuleProblem, Settings, TargetNamespaces } from '../rules/types.ts';
import { annotations, provenance, reflector } from '../rules/vocabulary.ts';
import { addTo, removeFrom, RuleIndex } from './rule-index.ts';

/** What the mapping reads: the caches, by kind. */
export interface KindCaches {
  kinds(): string[];
  spec(kind: string): KindSpec | undefined;
  /** Every object of a kind (metadata). */
  objects(kind: string): Iterable<KubeObject>;
  /** Our replicas of a kind (metadata). */
  replicas(kind: string): Iterable<KubeObject>;
  hasReplica(kind: string, namespace: string, name: string): boolean;
  /** Whether the object's content is at hand (a reconcile would not have to fetch it). */
  hasContent(kind: string, namespace: string, name: string): boolean;
  forgetContent(kind: string, namespace: string, name: string): void;
}

export interface EventKeysDeps {
  settings: Settings;
  namespaces: { get(name: string): Namespace | undefined; values(): Iterable<Namespace> };
  caches: KindCaches;
  /** The compiled form of an active policy (undefined: gone, invalid, suspended or being deleted). */
  activePolicy(name: string): CompiledPolicy | undefined;
  policyNames(): string[];
  /** A key worth a reconcile, in a fairness group (the source's namespace: one tenant cannot starve another). */
  enqueue(key: string, group: string): void;
  /** A source whose content should be fetched before its targets are worth a worker; afterFetch() follows. */
  fetchAhead(sourceKey: string, group: string): void;
  /** Whether work has started: before it, nothing is enqueued (enqueueAll covers every key then). */
  working(): boolean;
  note(n: Note): void;
}

export class EventKeys {
  /** Every push rule, from annotations and from policies. */
  readonly rules = new RuleIndex();
  /** Pull relationships from `replicate-from`: target → source and source → targets. */
  private readonly pullSourceOf = new Map<string, string>();
  private readonly pullTargetsOf = new Map<string, Set<string>>();
  /** Pull targets by their namespace: a namespace's labels can decide a source's consent (Reflector's selector). */
  private readonly pullTargetsIn = new Map<string, Set<string>>();
  /** Replicas by the source in their provenance. */
  private readonly replicasOf = new Map<string, Set<string>>();
  /** Rules whose targets are enqueued once their source's content is in (by source key). */
  private readonly waitingForContent = new Map<string, PushRule[]>();
  private readonly d: EventKeysDeps;

  constructor(deps: EventKeysDeps) {
    this.d = deps;
  }

  /** The pull targets that name `sourceKey` as their source (explain). */
  pullTargetsFor(sourceKey: string): string[] {
    return [...this.pullTargetsOf.get(sourceKey) ?? []].sort();
  }

  /** An object of a replicated kind changed: the rules it declares, the policies that select it, who pulls from it. */
  onObject(kind: string, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const ref = refOf(kind, obj);
    const key = refKey(ref);
    const now = type === 'delete' ? undefined : obj;
    this.indexPush(kind, key, now, old);
    if (type === 'delete') forgetPushSource(kind, ref.namespace, ref.name); // its pattern budget is free again
    this.indexPolicySources(kind, key, now);
    this.indexPull(kind, key, now);
    for (const t of this.pullTargetsOf.get(key) ?? []) if (this.sharesWith(kind, parseRefKey(t).namespace, obj, old)) this.enqueueKey(t, ref.namespace);
    // A Role that appears (or goes) may be what a RoleBinding waits for.
    if (this.d.caches.spec(kind)?.rbac === 'role' && type !== 'update') this.enqueueWaitingBindings(ref.namespace);
  }

  /** One of our replicas changed (by our label): index it under the source its provenance names. */
  onReplica(kind: string, type: InformerEvent, obj: KubeObject, old: KubeObject | undefined): void {
    const key = refKey(refOf(kind, obj));
    const sourceOf = (o: KubeObject | undefined) => {
      const s = o?.metadata.annotations?.[provenance.source];
      return s ? `${kind}/${s}` : undefined;
    };
    const before = sourceOf(old);
    const now = type === 'delete' ? undefined : sourceOf(obj);
    if (before && before !== now) removeFrom(this.replicasOf, before, key);
    if (now) addTo(this.replicasOf, now, key);
  }

  /** A namespace appeared or changed labels: every rule that targets it now, or has a replica there. */
  onNamespace(type: InformerEvent, ns: Namespace, old: Namespace | undefined): void {
    if (type === 'update' && old && sameLabels(old, ns) && isTerminating(old) === isTerminating(ns)) return;
    if (type === 'delete') return; // the objects inside report their own deletion
    const view = namespaceView(ns);
    for (const rule of this.rules.values()) {
      const hasReplica = this.d.caches.hasReplica(rule.source.kind, view.name, rule.source.name);
      if (hasReplica || ruleTargetsNamespace(rule, view, this.d.settings)) {
        this.enqueueKey(refKey({ kind: rule.source.kind, namespace: view.name, name: rule.source.name }), rule.source.namespace);
      }
    }
    for (const t of this.pullTargetsIn.get(view.name) ?? []) this.enqueueKey(t, view.name);
  }

  /**
   * A policy was added, changed or removed (`compiled`: its active form, if any): its rules are recomputed from the
   * sources in the caches, and its replicas are looked at again (deleted, orphaned or kept by reconcile).
   */
  onPolicy(name: string, compiled: CompiledPolicy | undefined): void {
    const wanted = new Map<string, PushRule>();
    for (const kind of compiled?.kinds ?? []) {
      for (const obj of this.d.caches.objects(kind)) {
        if (policySelectsSource(compiled!, kind, obj)) {
          const rule = policyRule(compiled!, kind, obj);
          wanted.set(rule.id, rule);
        }
      }
    }
    for (const old of this.rules.forPolicy(name)) if (!wanted.has(old.id)) this.replaceRule(old.id, undefined);
    for (const rule of wanted.values()) this.replaceRule(rule.id, rule);
    const label = ruleLabel({ type: 'policy', name });
    for (const kind of this.d.caches.kinds()) {
      for (const r of this.d.caches.replicas(kind)) {
        if (r.metadata.annotations?.[provenance.rule] === label) this.enqueueKey(refKey(refOf(kind, r)), r.metadata.namespace ?? '');
      }
    }
  }

  /** Problems found while caches synced (before anything may be recorded), reported once work starts. */
  reportAnnotationProblems(): void {
    for (const kind of this.d.caches.kinds()) {
      for (const obj of this.d.caches.objects(kind)) {
        for (const p of pushRuleFromAnnotations(kind, obj).problems) this.noteInvalid(kind, obj, p);
      }
    }
  }

  private noteInvalid(kind: string, obj: KubeObject, p: RuleProblem): void {
    this.d.note({ on: refOf(kind, obj), type: 'Warning', reason: 'InvalidAnnotation', message: `${p.field}: ${p.message}` });
  }

  /** A source fetched ahead: the targets of the rules that waited for it. */
  afterFetch(sourceKey: string): void {
    const rules = this.waitingForContent.get(sourceKey) ?? [];
    this.waitingForContent.delete(sourceKey);
    for (const r of rules) this.enqueueRuleTargets(r);
  }

  /** The level-triggered safety net: every key that any rule, replica or pull could concern. */
  forEachKey(visit: (key: string, group: string) => void): void {
    for (const rule of this.rules.values()) this.forEachRuleTarget(rule, visit);
    for (const kind of this.d.caches.kinds()) {
      for (const r of this.d.caches.replicas(kind)) visit(refKey(refOf(kind, r)), r.metadata.namespace ?? '');
    }
    for (const t of this.pullSourceOf.keys()) visit(t, parseRefKey(t).namespace);
  }

  /** Sources, target namespaces and wanted replicas of one policy, for its status. */
  policyCounts(name: string): { sources: number; targetNamespaces: number; expected: number } {
    const rules = this.rules.forPolicy(name);
    const compiled = this.d.activePolicy(name);
    let targetNamespaces = 0;
    let expected = 0;
    for (const ns of this.d.namespaces.values()) {
      const view = namespaceView(ns);
      if (compiled && targetsNamespace(compiled.targets, compiled.sourceNamespace, view, this.d.settings)) targetNamespaces++;
      for (const r of rules) if (ruleTargetsNamespace(r, view, this.d.settings)) expected++;
    }
    return { sources: rules.length, targetNamespaces, expected };
  }

  // ---- indexes ---------------------------------------------------------------------------------

  private indexPush(kind: string, key: string, obj: KubeObject | undefined, old: KubeObject | undefined): void {
    const result = obj ? pushRuleFromAnnotations(kind, obj) : { problems: [] };
    if (obj && result.problems.length > 0 && annotationsChanged(obj, old)) {
      for (const p of result.problems) this.noteInvalid(kind, obj, p);
    }
    this.replaceRule(annotationRuleId(key), result.rule);
    // An object that no longer takes part in replication: its content is not kept.
    if (!result.rule && obj && !this.pullTargetsOf.has(key) && !hasPullConsent(obj) && this.rules.forSource(key).length === 0) {
      this.d.caches.forgetContent(kind, obj.metadata.namespace ?? '', obj.metadata.name);
    }
  }

  /** Which policies select a source-side object now. */
  private indexPolicySources(kind: string, key: string, obj: KubeObject | undefined): void {
    for (const name of this.d.policyNames()) {
      const compiled = this.d.activePolicy(name);
      if (!compiled) continue;
      const id = policyRuleId(name, key);
      if (obj && policySelectsSource(compiled, kind, obj)) this.replaceRule(id, policyRule(compiled, kind, obj));
      else if (this.rules.get(id)) this.replaceRule(id, undefined);
    }
  }

  private indexPull(kind: string, key: string, obj: KubeObject | undefined): void {
    const before = this.pullSourceOf.get(key);
    const parsed = obj ? pullSourceFromAnnotations(kind, obj) : {};
    const now = parsed.source ? refKey(parsed.source) : undefined;
    if (before === now) return;
    const namespace = parseRefKey(key).namespace;
    if (before) {
      removeFrom(this.pullTargetsOf, before, key);
      removeFrom(this.pullTargetsIn, namespace, key);
      this.pullSourceOf.delete(key);
    }
    if (now) {
      this.pullSourceOf.set(key, now);
      addTo(this.pullTargetsOf, now, key);
      addTo(this.pullTargetsIn, namespace, key);
    }
  }

  /**
   * Sets (or removes) one rule and enqueues the targets of both its old and new form: at once, or, when the source's
   * content is not at hand yet, once it has been fetched (see afterFetch).
   */
  private replaceRule(id: string, rule: PushRule | undefined): void {
    const previous = rule ? this.rules.set(rule) : this.rules.delete(id);
    const changed = [previous, rule].filter((r): r is PushRule => r !== undefined);
    if (rule && this.d.working() && !this.d.caches.hasContent(rule.source.kind, rule.source.namespace, rule.source.name)) {
      const key = refKey(rule.source);
      this.waitingForContent.set(key, [...(this.waitingForContent.get(key) ?? []), ...changed]);
      this.d.fetchAhead(key, rule.source.namespace);
      return;
    }
    for (const r of changed) this.enqueueRuleTargets(r);
  }

  /** Every namespace the rule targets now, plus every replica its source made before (which may be unwanted now). */
  private enqueueRuleTargets(rule: PushRule): void {
    // Before work starts nothing would be enqueued: spare the walk over every namespace for each source listed.
    if (!this.d.working()) return;
    this.forEachRuleTarget(rule, (key, g) => this.d.enqueue(key, g));
  }

  private forEachRuleTarget(rule: PushRule, visit: (key: string, group: string) => void): void {
    for (const ns of this.namespacesFor(rule.targets)) {
      if (ruleTargetsNamespace(rule, namespaceView(ns), this.d.settings)) {
        visit(refKey({ kind: rule.source.kind, namespace: ns.metadata.name, name: rule.source.name }), rule.source.namespace);
      }
    }
    for (const t of this.replicasOf.get(refKey(rule.source)) ?? []) visit(t, rule.source.namespace);
  }

  /** The namespaces `targets` may reach: those it names, when it names them; otherwise all of them. */
  private namespacesFor(targets: TargetNamespaces): Iterable<Namespace> {
    const names = namedTargets(targets);
    if (!names) return this.d.namespaces.values();
    const found: Namespace[] = [];
    for (const name of names) {
      const ns = this.d.namespaces.get(name);
      if (ns) found.push(ns);
    }
    return found;
  }

  /**
   * Whether a change of a pull source concerns its targets in `namespace`: only when the source consents to that
   * namespace before or after the change. A source that does not consent looks to the puller exactly like a missing
   * one, and that includes when the puller is looked at again (and its Event repeated): not at each edit of a
   * source it cannot read, only at its own changes and the resync.
   */
  private sharesWith(kind: string, namespace: string, ...versions: (KubeObject | undefined)[]): boolean {
    // Reflector's consent may select the namespace by its labels: ask with the namespace as the cache has it.
    const ns = this.d.namespaces.get(namespace);
    const target = ns ? namespaceView(ns) : namespace;
    return versions.some((o) => o !== undefined && pullConsent(kind, o, target, this.d.settings.allowAll).allowed);
  }

  private enqueueWaitingBindings(namespace: string): void {
    for (const rule of this.rules.values()) {
      if (this.d.caches.spec(rule.source.kind)?.rbac === 'binding') this.enqueueKey(refKey({ kind: rule.source.kind, namespace, name: rule.source.name }), rule.source.namespace);
    }
  }

  private enqueueKey(key: string, group: string): void {
    if (this.d.working()) this.d.enqueue(key, group);
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
  const a = obj.metadata.annotations ?? {};
  return annotations.replicationAllowed in a || reflector.allowed in a;
}

