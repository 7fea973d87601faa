import { describe, expect, it } from '@jest/globals';
import { flagSpecs, parseArgs, parseGoDuration, usage, UsageError, type Options } from './flags.ts';

const allKinds = ['Secret', 'ConfigMap', 'Role', 'RoleBinding', 'ServiceAccount'];

describe('parseArgs: defaults', () => {
  it('runs with mittwald\'s defaults and our safe ones', () => {
    const { flags, ...o } = parseArgs([]);
    expect(flags).toEqual(Object.fromEntries(flagSpecs.map((f) => [f.name, f.default])));
    expect(o).toEqual({
      command: 'run',
      given: [],
      settingsConfigMap: 'kube-replicator-settings',
      operatorNamespace: undefined,
      kubeconfig: undefined,
      context: undefined,
      resyncPeriodMs: 30 * 60_000,
      statusAddr: ':9102',
      logLevel: 'info',
      logFormat: 'json',
      allowAll: false,
      syncByContent: false,
      excludeNamespaces: '',
      extraKinds: [],
      kinds: allKinds,
      adoptExisting: false,
      permissive: false,
      trustedRbacNamespaces: '',
      trustedSourceNamespaces: '',
      protectedNamespaces: 'kube-system,kube-public,kube-node-lease',
      neverReplicateSecretTypes: ['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token', 'helm.sh/release.v1'],
      requireNamespaceOptIn: false,
      concurrency: 8,
      patternMemoryBudget: 64 * 1024 * 1024,
      watchInactivityMs: 5 * 60_000,
      cacheSyncTimeoutMs: 120_000,
      filename: undefined,
      args: [],
      output: 'text',
      namespace: undefined,
      rbacWriter: undefined,
      leaderElect: false,
      leaderElectionNamespace: undefined,
      leaderElectionId: 'kube-replicator',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });
});

describe('parseArgs: trust settings', () => {
  it('adds Secret types to the never-replicated ones', () => {
    const o = parseArgs(['--never-replicate-secret-types=kubernetes.io/service-account-token,bootstrap.kubernetes.io/token,helm.sh/release.v1, example.com/cred ']);
    expect(o.neverReplicateSecretTypes).toContain('example.com/cred');
  });

  it('refuses to drop a built-in never-replicated type without --permissive, and names it', () => {
    expect(() => parseArgs(['--never-replicate-secret-types=helm.sh/release.v1'])).toThrow(/kubernetes.io\/service-account-token, bootstrap.kubernetes.io\/token can only be left out with -permissive/);
    expect(parseArgs(['--permissive', '--never-replicate-secret-types=']).neverReplicateSecretTypes).toEqual([]);
  });

  it('takes trusted source namespaces and protected namespaces as given', () => {
    const o = parseArgs(['--trusted-source-namespaces=platform,infra-.*', '--protected-namespaces=kube-system']);
    expect(o).toMatchObject({ trustedSourceNamespaces: 'platform,infra-.*', protectedNamespaces: 'kube-system' });
  });
});

describe('parseArgs: Go flag syntax', () => {
  it.each<[string[], Partial<Options>]>([
    [['-allow-all'], { allowAll: true }],
    [['--allow-all'], { allowAll: true }],
    [['-allow-all=true'], { allowAll: true }],
    [['--allow-all=false'], { allowAll: false }],
    [['-allow-all=1'], { allowAll: true }],
    [['-allow-all=T'], { allowAll: true }],
    [['-allow-all=TRUE'], { allowAll: true }],
    [['-allow-all=True'], { allowAll: true }],
    [['-allow-all=0'], { allowAll: false }],
    [['-allow-all=f'], { allowAll: false }],
    [['-allow-all=F'], { allowAll: false }],
    [['-allow-all=FALSE'], { allowAll: false }],
    [['-allow-all=False'], { allowAll: false }],
    [['-allow-all', '-allow-all=false'], { allowAll: false }], // the last one wins
    [['-sync-by-content'], { syncByContent: true }],
    [['-kubeconfig', '/k'], { kubeconfig: '/k' }],
    [['--kubeconfig', '/k'], { kubeconfig: '/k' }],
    [['-kubeconfig=/k'], { kubeconfig: '/k' }],
    [['--kubeconfig=/k'], { kubeconfig: '/k' }],
    [['--kubeconfig='], { kubeconfig: undefined }],
    [['--kubeconfig', '-weird-file'], { kubeconfig: '-weird-file' }], // a value flag takes the next argument as is
    [['--kubeconfig=a=b'], { kubeconfig: 'a=b' }], // split at the first '='
    [['--status-addr', ':8080'], { statusAddr: ':8080' }],
    [['-log-level=debug', '-log-format', 'plain'], { logLevel: 'debug', logFormat: 'plain' }],
    [['--exclude-namespaces', 'kube-.*,openshift'], { excludeNamespaces: 'kube-.*,openshift' }],
    [['--resync-period=1h30m'], { resyncPeriodMs: 5_400_000 }],
    [['-resync-period', '15s'], { resyncPeriodMs: 15_000 }],
    [['-resync-period=1s'], { resyncPeriodMs: 1000 }],
    [['--watch-inactivity=90s'], { watchInactivityMs: 90_000 }],
    [['--concurrency=1'], { concurrency: 1 }],
    [['--concurrency', '256'], { concurrency: 256 }],
    [['--require-namespace-opt-in'], { requireNamespaceOptIn: true }],
    [['--trusted-rbac-namespaces=platform,infra-.*'], { trustedRbacNamespaces: 'platform,infra-.*' }],
  ])('%j', (argv, expected) => {
    expect(parseArgs(argv)).toMatchObject({ command: 'run', ...expected });
  });

  it('does not let a bool flag consume a following "false": it becomes a positional and is rejected', () => {
    expect(() => parseArgs(['-allow-all', 'false'])).toThrow(UsageError);
    expect(() => parseArgs(['-allow-all', 'false'])).toThrow(/unknown command "false"/);
    expect(() => parseArgs(['run', '-allow-all', 'false'])).toThrow(/unexpected arguments: false/);
  });

  it('takes a command before or after flags', () => {
    expect(parseArgs(['plan', '--allow-all'])).toMatchObject({ command: 'plan', allowAll: true });
    expect(parseArgs(['--allow-all', 'plan'])).toMatchObject({ command: 'plan', allowAll: true });
    expect(parseArgs(['-kubeconfig', '/k', 'plan'])).toMatchObject({ command: 'plan', kubeconfig: '/k' });
    expect(parseArgs(['version'])).toMatchObject({ command: 'version' });
    expect(parseArgs(['migrate', '-n', 'team-a'])).toMatchObject({ command: 'migrate', namespace: 'team-a' });
    expect(parseArgs(['--namespace=team-b', 'migrate'])).toMatchObject({ command: 'migrate', namespace: 'team-b' });
    expect(parseArgs(['run'])).toMatchObject({ command: 'run' });
    expect(parseArgs(['help'])).toMatchObject({ command: 'help' });
  });

  it.each([['-h'], ['--h'], ['-help'], ['--help']])('%s asks for help, even after other flags or before a bad one', (flag) => {
    expect(parseArgs([flag]).command).toBe('help');
    expect(parseArgs(['--allow-all', flag, '--no-such-flag']).command).toBe('help');
  });

  it('treats everything after -- as positional', () => {
    expect(parseArgs(['--', 'plan']).command).toBe('plan');
    expect(() => parseArgs(['--', '-allow-all'])).toThrow(/unknown command "-allow-all"/);
  });

  it.each<[string[], RegExp]>([
    [['--no-such-flag'], /flag provided but not defined: -no-such-flag/],
    [['-no-such-flag=1'], /flag provided but not defined: -no-such-flag/],
    [['-Allow-all'], /flag provided but not defined/], // names are case-sensitive
    [['---allow-all'], /flag provided but not defined/],
    [['-=x'], /flag provided but not defined/],
    [['--kubeconfig'], /flag needs an argument: -kubeconfig/],
    [['-resync-period'], /flag needs an argument: -resync-period/],
    [['-allow-all=yes'], /invalid boolean value "yes" for flag -allow-all/],
    [['-allow-all='], /invalid boolean value "" for flag -allow-all/],
    [['-replicate-secrets=nope'], /invalid boolean value/],
    [['deploy'], /unknown command "deploy"/],
    [['-'], /unknown command "-"/],
    [['run', 'plan'], /unexpected arguments: plan/],
    [['--concurrency=0'], /invalid -concurrency "0"/],
    [['--concurrency=257'], /invalid -concurrency/],
    [['--concurrency=1.5'], /invalid -concurrency/],
    [['--concurrency=eight'], /invalid -concurrency/],
    [['--concurrency='], /invalid -concurrency/],
    [['--concurrency=-1'], /invalid -concurrency/],
    [['--resync-period=500ms'], /-resync-period must be at least 1s/],
    [['--resync-period=0'], /-resync-period must be at least 1s/],
    [['--resync-period=30'], /invalid duration "30"/],
    [['--watch-inactivity=soon'], /invalid duration "soon"/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('parseArgs: kinds from --replicate-*', () => {
  it.each<[string, string]>([
    ['replicate-secrets', 'Secret'],
    ['replicate-configmaps', 'ConfigMap'],
    ['replicate-roles', 'Role'],
    ['replicate-role-bindings', 'RoleBinding'],
    ['replicate-service-accounts', 'ServiceAccount'],
  ])('-%s=false drops %s and keeps the others in order', (flag, kind) => {
    expect(parseArgs([`-${flag}=false`]).kinds).toEqual(allKinds.filter((k) => k !== kind));
    expect(parseArgs([`--${flag}`]).kinds).toEqual(allKinds);
  });

  it('can switch every kind off, and back on', () => {
    const off = ['secrets', 'configmaps', 'roles', 'role-bindings', 'service-accounts'].map((k) => `--replicate-${k}=0`);
    expect(parseArgs(off).kinds).toEqual([]);
    expect(parseArgs([...off, '--replicate-roles=t']).kinds).toEqual(['Role']);
  });
});

describe('parseArgs: --permissive', () => {
  it('implies --adopt-existing and RBAC push from every namespace', () => {
    expect(parseArgs(['--permissive'])).toMatchObject({ permissive: true, adoptExisting: true, trustedRbacNamespaces: '*' });
  });

  it('overrides --trusted-rbac-namespaces and --adopt-existing=false', () => {
    expect(parseArgs(['--trusted-rbac-namespaces=infra', '--permissive', '--adopt-existing=false']))
      .toMatchObject({ adoptExisting: true, trustedRbacNamespaces: '*' });
  });

  it('--adopt-existing alone does not make it permissive', () => {
    expect(parseArgs(['--adopt-existing'])).toMatchObject({ permissive: false, adoptExisting: true, trustedRbacNamespaces: '' });
  });

  it('--permissive=false changes nothing', () => {
    expect(parseArgs(['--permissive=false', '--trusted-rbac-namespaces=infra']))
      .toMatchObject({ permissive: false, adoptExisting: false, trustedRbacNamespaces: 'infra' });
  });
});

describe('parseGoDuration', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['0s', 0],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['90s', 90_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['2m3s4ms', 123_004],
    ['3s2m', 123_000], // units in any order, as in Go
    ['1000us', 1],
    ['1000µs', 1],
    ['2000000ns', 2],
    ['1500000ns', 1.5],
    ['10m10m', 1_200_000],
  ])('%s → %d ms', (value, ms) => {
    expect(parseGoDuration(value)).toBeCloseTo(ms, 9);
  });

  it.each([
    '', ' ', '30', '00', '1d', '1w', '1h 30m', ' 1h', '1h ', 'h', '.s', '1.2.3s', 'ms', '1H', '1M', 'abc', '1m-', '-', '5mm',
    // Go accepts a sign ("-1s", "+5m"); negative or signed periods make no sense here, so they are refused.
    '-1s', '+5m',
  ])('%j is invalid', (value) => {
    expect(() => parseGoDuration(value)).toThrow(UsageError);
    expect(() => parseGoDuration(value)).toThrow(`invalid duration "${value}"`);
  });
});

describe('usage', () => {
  it('lists every flag with its default', () => {
    const text = usage();
    for (const f of flagSpecs) {
      expect(text).toContain(`-${f.name}`);
      expect(text).toContain(`(default ${f.default === '' ? '""' : f.default})`);
    }
    expect(text).toMatch(/-resync-period duration/);
    expect(text).not.toMatch(/-allow-all bool/);
  });

  it('every default parses (the flag table is consistent)', () => {
    for (const f of flagSpecs) expect(() => parseArgs([`--${f.name}=${f.default}`])).not.toThrow();
  });
});

describe('--pattern-memory-budget', () => {
  it.each<[string, number]>([['64Mi', 64 * 1024 ** 2], ['131072Ki', 128 * 1024 ** 2], ['1Gi', 1024 ** 3], ['1048576', 1024 ** 2]])('%s → %d bytes', (value, bytes) => {
    expect(parseArgs([`--pattern-memory-budget=${value}`]).patternMemoryBudget).toBe(bytes);
  });

  it.each(['', '0', '64M', '64MB', '-1Mi', '1.5Gi', '1023Ki', 'lots'])('refuses %j', (value) => {
    expect(() => parseArgs([`--pattern-memory-budget=${value}`])).toThrow(/invalid -pattern-memory-budget/);
  });
});

describe('--extra-kinds', () => {
  it('reads group/version/Kind entries', () => {
    expect(parseArgs(['--extra-kinds=networking.k8s.io/v1/NetworkPolicy,v1/LimitRange']).extraKinds).toEqual([
      { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
      { group: '', version: 'v1', kind: 'LimitRange' },
    ]);
  });

  it('refuses a bad or denied entry as a usage error naming it', () => {
    expect(() => parseArgs(['--extra-kinds=v1/Pod'])).toThrow(UsageError);
    expect(() => parseArgs(['--extra-kinds=v1/Pod,NetworkPolicy'])).toThrow(/invalid -extra-kinds: "v1\/Pod": Pod is never replicated: .*; "NetworkPolicy": expected group\/version\/Kind/);
  });
});

it('--version and -version print the version, as the version command does', () => {
  expect(parseArgs(['--version']).command).toBe('version');
  expect(parseArgs(['-version']).command).toBe('version');
});


it('explain takes what to explain and -o; other commands still refuse extra arguments', () => {
  expect(parseArgs(['explain', 'secret', 'team/creds', '-o', 'json'])).toMatchObject({ command: 'explain', args: ['secret', 'team/creds'], output: 'json' });
  expect(parseArgs(['explain', 'secret', 'team/creds'])).toMatchObject({ output: 'text' });
  expect(parseArgs(['explain', '--output=json', 'secret', 'team/creds'])).toMatchObject({ output: 'json' });
  expect(() => parseArgs(['explain', 'secret'])).toThrow(/explain needs <kind> <namespace>\/<name>/);
  expect(() => parseArgs(['explain', 'secret', 'a/b', '-o', 'yaml'])).toThrow(/invalid -o "yaml"/);
  expect(() => parseArgs(['plan', 'secret'])).toThrow(/unexpected arguments: secret/);
});
