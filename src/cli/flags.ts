// Command-line flags, parsed the way Go's `flag` package does (mittwald's flags keep working as written):
// `-x` and `--x` are the same; `-x=v`, `--x v`; booleans take `-x` or `-x=false`, never `-x false`.
import { builtinKindNames, builtinKinds, type BuiltinKind } from '../model/kinds.ts';
import { parseExtraKinds, type KindRef } from '../model/extra-kinds.ts';
import { parseGoBool } from '../rules/annotation-rules.ts';
import { builtinNeverReplicateSecretTypes } from '../rules/types.ts';

export interface Options {
  command: 'run' | 'plan' | 'explain' | 'migrate' | 'version' | 'help';
  /** `explain`: what to explain (`<kind> <namespace>/<name>`, or `namespace <name>`). */
  args: string[];
  /** `explain -o`: text, or json for scripts. */
  output: 'text' | 'json';
  kubeconfig?: string;
  /** A kubeconfig context other than its current-context (--context). */
  context?: string;
  resyncPeriodMs: number;
  statusAddr: string;
  logLevel: string;
  logFormat: string;
  allowAll: boolean;
  syncByContent: boolean;
  excludeNamespaces: string;
  /** The built-in kinds enabled by their --replicate-… flags. */
  kinds: BuiltinKind[];
  /** Kinds allowed beyond the built-in five (--extra-kinds); checked against discovery at start. */
  extraKinds: KindRef[];
  adoptExisting: boolean;
  permissive: boolean;
  trustedRbacNamespaces: string;
  trustedSourceNamespaces: string;
  protectedNamespaces: string;
  neverReplicateSecretTypes: string[];
  requireNamespaceOptIn: boolean;
  concurrency: number;
  /** Estimated bytes that compiled namespace patterns may take (--pattern-memory-budget). */
  patternMemoryBudget: number;
  watchInactivityMs: number;
  /** Caches not synced after this long: the start fails with what is wrong (--cache-sync-timeout). */
  cacheSyncTimeoutMs: number;
  rbacWriter?: string;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** `plan -f`: ReplicationPolicy manifests to plan as if applied. */
  filename?: string;
  /** `migrate -n`: only the sources of this namespace. */
  namespace?: string;
  /** `run`: the ConfigMap in the operator's own namespace where it publishes its planning settings (explain reads them). */
  settingsConfigMap: string;
  /** `explain`: the namespace of the operator whose published settings to use (default: found by label). */
  operatorNamespace?: string;
  /** Every flag's value as a string (defaults included), and the names given on the command line. */
  flags: Record<string, string>;
  given: string[];
}

interface FlagSpec {
  name: string;
  type: 'bool' | 'string' | 'duration' | 'int';
  help: string;
  default: string;
}

export const flagSpecs: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', default: '', help: 'kubeconfig file; empty: in-cluster config, else $KUBECONFIG or ~/.kube/config' },
  { name: 'context', type: 'string', default: '', help: 'the kubeconfig context to use; empty: its current-context' },
  { name: 'resync-period', type: 'duration', default: '30m', help: 'how often every replica is checked again even without events' },
  { name: 'status-addr', type: 'string', default: ':9102', help: 'listen address for /healthz, /readyz and /metrics' },
  { name: 'log-level', type: 'string', default: 'info', help: 'error, warn, info or debug (trace, fatal, panic accepted)' },
  { name: 'log-format', type: 'string', default: 'json', help: 'json, or plain for text' },
  { name: 'allow-all', type: 'bool', default: 'false', help: 'pull without the source\'s consent (replication-allowed annotations)' },
  { name: 'sync-by-content', type: 'bool', default: 'false', help: 'accepted for compatibility; content is always compared' },
  { name: 'exclude-namespaces', type: 'string', default: '', help: 'comma list of unanchored RE2 patterns; matching namespaces never receive replicas (all kinds)' },
  ...builtinKindNames.map((k) => ({ name: builtinKinds[k].flag, type: 'bool' as const, default: 'true', help: `replicate ${k}s` })),
  { name: 'extra-kinds', type: 'string', default: '', help: 'comma list of group/version/Kind (core: version/Kind), e.g. networking.k8s.io/v1/NetworkPolicy,v1/LimitRange: namespaced kinds replicated besides the built-in ones (their spec is copied); Pods, Events, Leases, Endpoints and the like are refused' },
  { name: 'adopt-existing', type: 'bool', default: 'false', help: 'take over existing objects that are not replicas when a push targets them (mittwald did)' },
  { name: 'trusted-rbac-namespaces', type: 'string', default: '', help: 'comma list of RE2 patterns: namespaces whose annotations may push Roles and RoleBindings' },
  { name: 'trusted-source-namespaces', type: 'string', default: '', help: 'comma list of RE2 patterns: namespaces whose annotations are trusted like policies (they win over other annotations and may push into protected namespaces)' },
  { name: 'protected-namespaces', type: 'string', default: 'kube-system,kube-public,kube-node-lease', help: 'comma list of RE2 patterns: untrusted pushes never create, update or delete anything here (the operator\'s own namespace is always added)' },
  { name: 'never-replicate-secret-types', type: 'string', default: builtinNeverReplicateSecretTypes.join(','), help: 'comma list of Secret types that are never replicated; the defaults can be dropped only with -permissive' },
  { name: 'require-namespace-opt-in', type: 'bool', default: 'false', help: 'push only into namespaces labelled kube-replicator.io/replication=allow' },
  { name: 'permissive', type: 'bool', default: 'false', help: 'mittwald-like behaviour for migrations: --adopt-existing, RBAC push from every namespace, every annotation trusted' },
  { name: 'concurrency', type: 'int', default: '8', help: 'targets reconciled in parallel' },
  { name: 'pattern-memory-budget', type: 'string', default: '64Mi', help: 'estimated memory that compiled namespace patterns (replicate-to lists) may take, e.g. 64Mi; each source namespace gets an eighth, and a list beyond its namespace\'s share is refused with an Event' },
  { name: 'rbac-writer', type: 'string', default: '', help: '<namespace>/<serviceaccount> (a bare name: in the operator\'s own namespace) impersonated for every Role/RoleBinding write: replicated RBAC never grants more than it holds' },
  { name: 'cache-sync-timeout', type: 'duration', default: '2m', help: 'the caches not synced after this long (bad credentials, a missing permission, an unreachable API server): the process exits with an error saying which' },
  { name: 'watch-inactivity', type: 'duration', default: '5m', help: 'a watch silent this long (no event or bookmark) is restarted' },
  { name: 'leader-elect', type: 'bool', default: 'false', help: 'run several replicas: only the holder of a Lease works, the others wait with warm caches' },
  { name: 'leader-election-namespace', type: 'string', default: '', help: 'namespace of the Lease; default: the Pod\'s own namespace (in-cluster), else default' },
  { name: 'leader-election-id', type: 'string', default: 'kube-replicator', help: 'name of the Lease' },
  { name: 'leader-election-lease-duration', type: 'duration', default: '15s', help: 'how long a standby waits after the last renewal before taking over' },
  { name: 'leader-election-renew-deadline', type: 'duration', default: '10s', help: 'a leader that cannot renew for this long stops (and exits)' },
  { name: 'leader-election-retry-period', type: 'duration', default: '2s', help: 'how often the lease is renewed or tried' },
  { name: 'settings-configmap', type: 'string', default: 'kube-replicator-settings', help: 'ConfigMap in the operator\'s own namespace where it publishes the settings that decide what it replicates (explain reads them); empty: not published' },
  { name: 'operator-namespace', type: 'string', default: '', help: 'explain only: the namespace of the operator whose published settings to use; default: the one ConfigMap labelled kube-replicator.io/operator-settings' },
  { name: 'f', type: 'string', default: '', help: 'plan only: a YAML file of ReplicationPolicies to plan as if they were applied' },
  { name: 'filename', type: 'string', default: '', help: 'same as -f' },
  { name: 'n', type: 'string', default: '', help: 'migrate only: read the annotated sources of this namespace only' },
  { name: 'namespace', type: 'string', default: '', help: 'same as -n' },
  { name: 'o', type: 'string', default: 'text', help: 'explain only: text, or json' },
  { name: 'output', type: 'string', default: '', help: 'same as -o' },
];

export class UsageError extends Error {}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration (e.g. `30m`, `1h30m`, `500ms`), in milliseconds. */
export function parseGoDuration(value: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  if (value === '0') return 0;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * durationUnits[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (!value || consumed !== value.length) throw new UsageError(`invalid duration "${value}" (examples: 30s, 10m, 1h30m)`);
  return total;
}

const byteUnits: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A byte count as Kubernetes writes memory: `67108864`, `65536Ki`, `64Mi`, `1Gi`. At least 1Mi. */
function parseByteQuantity(name: string, value: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(value);
  const bytes = m ? Number(m[1]) * byteUnits[m[2] ?? '']! : NaN;
  if (!(bytes >= 1024 ** 2 && Number.isSafeInteger(bytes))) throw new UsageError(`invalid -${name} "${value}": a byte count of at least 1Mi (examples: 64Mi, 131072Ki, 1Gi)`);
  return bytes;
}

/** Go's flag package parses booleans with strconv.ParseBool, as mittwald's flags are. */
function parseBoolValue(name: string, v: string): boolean {
  const b = parseGoBool(v);
  if (b === undefined) throw new UsageError(`invalid boolean value "${v}" for flag -${name}`);
  return b;
}

export function parseArgs(argv: string[]): Options {
  const values = new Map<string, string>(flagSpecs.map((f) => [f.name, f.default]));
  const given = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { positional.push(arg); continue; }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === 'h' || name === 'help') return { ...toOptions(values), command: 'help', args: [] };
    if (name === 'version') return { ...toOptions(values), command: 'version', args: [] };
    const spec = flagSpecs.find((f) => f.name === name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.type === 'bool') value = 'true';
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new UsageError(`flag needs an argument: -${name}`);
    values.set(name, value);
    given.add(name);
  }
  const command = positional[0] ?? 'run';
  if (!['run', 'plan', 'explain', 'migrate', 'version', 'help'].includes(command)) throw new UsageError(`unknown command "${command}" (run, plan, explain, migrate, version)`);
  const args = positional.slice(1);
  if (command === 'explain' && args.length !== 2) throw new UsageError('explain needs <kind> <namespace>/<name>, or namespace <name>');
  if (command !== 'explain' && args.length) throw new UsageError(`unexpected arguments: ${args.join(' ')}`);
  const output = values.get('output') || values.get('o')!;
  if (output !== 'text' && output !== 'json') throw new UsageError(`invalid -o "${output}": text or json`);
  return { ...toOptions(values), command: command as Options['command'], args, output, given: [...given] };
}

function toOptions(v: Map<string, string>): Omit<Options, 'command' | 'args'> {
  const bool = (n: string) => parseBoolValue(n, v.get(n)!);
  const kinds: BuiltinKind[] = builtinKindNames.filter((k) => bool(builtinKinds[k].flag));
  const extra = parseExtraKinds(v.get('extra-kinds')!);
  if (extra.errors.length) throw new UsageError(`invalid -extra-kinds: ${extra.errors.join('; ')}`);
  const concurrency = Number(v.get('concurrency'));
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError(`invalid -concurrency "${v.get('concurrency')}": 1 to 256`);
  const resync = parseGoDuration(v.get('resync-period')!);
  if (resync < 1000) throw new UsageError('-resync-period must be at least 1s');
  return {
    kubeconfig: v.get('kubeconfig') || undefined,
    context: v.get('context') || undefined,
    resyncPeriodMs: resync,
    statusAddr: v.get('status-addr')!,
    logLevel: v.get('log-level')!,
    logFormat: v.get('log-format')!,
    allowAll: bool('allow-all'),
    syncByContent: bool('sync-by-content'),
    excludeNamespaces: v.get('exclude-namespaces')!,
    kinds,
    extraKinds: extra.refs,
    adoptExisting: bool('adopt-existing') || bool('permissive'),
    permissive: bool('permissive'),
    trustedRbacNamespaces: bool('permissive') ? '*' : v.get('trusted-rbac-namespaces')!,
    trustedSourceNamespaces: v.get('trusted-source-namespaces')!,
    protectedNamespaces: v.get('protected-namespaces')!,
    neverReplicateSecretTypes: secretTypes(v.get('never-replicate-secret-types')!, bool('permissive')),
    requireNamespaceOptIn: bool('require-namespace-opt-in'),
    concurrency,
    patternMemoryBudget: parseByteQuantity('pattern-memory-budget', v.get('pattern-memory-budget')!),
    watchInactivityMs: parseGoDuration(v.get('watch-inactivity')!),
    cacheSyncTimeoutMs: parseGoDuration(v.get('cache-sync-timeout')!),
    rbacWriter: v.get('rbac-writer') || undefined,
    leaderElect: bool('leader-elect'),
    leaderElectionNamespace: v.get('leader-election-namespace') || undefined,
    leaderElectionId: v.get('leader-election-id')!,
    ...leaseTimings(v),
    filename: v.get('f') || v.get('filename') || undefined,
    namespace: v.get('n') || v.get('namespace') || undefined,
    settingsConfigMap: v.get('settings-configmap')!,
    operatorNamespace: v.get('operator-namespace') || undefined,
    output: 'text',
    flags: Object.fromEntries(v),
    given: [],
  };
}

function secretTypes(list: string, permissive: boolean): string[] {
  const types = [...new Set(list.split(',').map((t) => t.trim()).filter(Boolean))];
  const dropped = builtinNeverReplicateSecretTypes.filter((t) => !types.includes(t));
  if (dropped.length && !permissive) {
    throw new UsageError(`-never-replicate-secret-types: ${dropped.join(', ')} can only be left out with -permissive (they are credentials or release state)`);
  }
  return types;
}

function leaseTimings(v: Map<string, string>): { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number } {
  const leaseDurationMs = parseGoDuration(v.get('leader-election-lease-duration')!);
  const renewDeadlineMs = parseGoDuration(v.get('leader-election-renew-deadline')!);
  const retryPeriodMs = parseGoDuration(v.get('leader-election-retry-period')!);
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs && renewDeadlineMs < leaseDurationMs)) {
    throw new UsageError('leader election needs 0 < retry-period < renew-deadline < lease-duration');
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

export function usage(): string {
  const lines = flagSpecs.map((f) => `  -${f.name}${f.type === 'bool' ? '' : ` ${f.type}`}\n\t${f.help} (default ${f.default === '' ? '""' : f.default})`);
  return `Usage: kube-replicator [run|plan|explain|migrate|version] [flags]\n\n  run      replicate (default)\n  plan     print what would be created, updated and deleted, and why; writes nothing\n  explain <kind> <namespace>/<name> | explain namespace <name>\n           why an object is (or is not) a replica, where a source is replicated to, what a namespace holds; writes nothing\n  migrate  print ReplicationPolicies that do what the push annotations do, and what they cannot; writes nothing\n  version  print the version\n\nFlags:\n${lines.join('\n')}\n`;
}
