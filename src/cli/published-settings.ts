// The operator publishes the flags that decide what it replicates (a ConfigMap in its own namespace, written by
// kube/settings-configmap.ts) so that `explain` plans with the running operator's settings instead of guessing them.
// Pure: which flags those are, what is published, and the command line explain re-parses with them.
import { flagSpecs } from './flags.ts';

/** The label that marks a published-settings ConfigMap; explain finds the operator's by it. */
export const operatorSettingsLabel = 'kube-replicator.io/operator-settings';
/** Data key of the publishing operator's version (every other key is a flag name). */
export const versionKey = 'operator-version';

/** Flags that change what the planner decides (the kinds, trust, exclusions, consent); the rest are how it runs. */
export const planningFlags: readonly string[] = [
  'allow-all', 'exclude-namespaces', ...flagSpecs.filter((f) => f.name.startsWith('replicate-')).map((f) => f.name), 'extra-kinds',
  'adopt-existing', 'trusted-rbac-namespaces', 'trusted-source-namespaces', 'protected-namespaces', 'never-replicate-secret-types',
  'require-namespace-opt-in', 'permissive', 'pattern-memory-budget',
];

/**
 * What the operator publishes: its planning flags as given (defaults included), with its own namespace added to the
 * protected ones as settingsFrom adds it (a reader elsewhere does not know that namespace).
 */
export function publishedSettings(flags: Record<string, string>, ownNamespace: string | undefined, version: string): Record<string, string> {
  const data: Record<string, string> = { [versionKey]: version };
  for (const f of planningFlags) data[f] = flags[f] ?? '';
  data['protected-namespaces'] = [flags['protected-namespaces'], ownNamespace].filter(Boolean).join(',');
  return data;
}

export interface WithPublished {
  /** The published flags, then the caller's own: a flag the caller gives wins (a what-if). */
  argv: string[];
  /** Planning flags the caller gave, which replace the operator's. */
  overridden: string[];
  /** Published keys this version does not know (a newer operator): left out, and said. */
  unknown: string[];
}

export function withPublished(data: Record<string, string>, argv: readonly string[], given: readonly string[]): WithPublished {
  const known = new Set(planningFlags);
  const keys = Object.keys(data).filter((k) => k !== versionKey).sort();
  return {
    argv: [...keys.filter((k) => known.has(k)).map((k) => `--${k}=${data[k]}`), ...argv],
    overridden: given.filter((g) => known.has(g)).sort(),
    unknown: keys.filter((k) => !known.has(k)),
  };
}
