// Every push rule the operator knows, whichever way it was asked for, with the reverse lookups that keep
// event handling proportional to what an event affects.
import type { Kind } from '../model/kinds.ts';
import { refKey } from '../model/objects.ts';
import type { PushRule } from '../rules/types.ts';

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

export class RuleIndex {
  private readonly rules = new Map<string, PushRule>();
  /** `Kind/name` → rule ids: a replica has its source's name, so a target key finds its candidates here. */
  private readonly byName = new Map<string, Set<string>>();
  private readonly bySource = new Map<string, Set<string>>();
  private readonly byPolicy = new Map<string, Set<string>>();

  get size(): number {
    return this.rules.size;
  }

  values(): IterableIterator<PushRule> {
    return this.rules.values();
  }

  get(id: string): PushRule | undefined {
    return this.rules.get(id);
  }

  /** Adds or replaces a rule; returns the rule it replaced. */
  set(rule: PushRule): PushRule | undefined {
    const previous = this.delete(rule.id);
    this.rules.set(rule.id, rule);
    addTo(this.byName, nameKey(rule.source.kind, rule.source.name), rule.id);
    addTo(this.bySource, refKey(rule.source), rule.id);
    if (rule.origin.type === 'policy') addTo(this.byPolicy, rule.origin.name, rule.id);
    return previous;
  }

  delete(id: string): PushRule | undefined {
    const rule = this.rules.get(id);
    if (!rule) return undefined;
    this.rules.delete(id);
    removeFrom(this.byName, nameKey(rule.source.kind, rule.source.name), id);
    removeFrom(this.bySource, refKey(rule.source), id);
    if (rule.origin.type === 'policy') removeFrom(this.byPolicy, rule.origin.name, id);
    return rule;
  }

  /** Rules whose source has this kind and name: the candidates for every target of that name. */
  forTargetName(kind: Kind, name: string): PushRule[] {
    return [...(this.byName.get(nameKey(kind, name)) ?? [])].map((id) => this.rules.get(id)!);
  }

  forSource(sourceKey: string): PushRule[] {
    return [...(this.bySource.get(sourceKey) ?? [])].map((id) => this.rules.get(id)!);
  }

  forPolicy(name: string): PushRule[] {
    return [...(this.byPolicy.get(name) ?? [])].map((id) => this.rules.get(id)!);
  }
}

const nameKey = (kind: Kind, name: string) => `${kind}/${name}`;

export { addTo, removeFrom };
