import { describe, expect, it } from '@jest/globals';
import { parseArgs } from './flags.ts';
import { planningFlags, publishedSettings, versionKey, withPublished } from './published-settings.ts';

const operator = parseArgs(['run', '--exclude-namespaces=^scratch-', '--require-namespace-opt-in', '--replicate-roles=false', '--concurrency=4', '--kubeconfig=/x']);

describe('published settings', () => {
  it('are the planning flags, with the operator\'s own namespace protected, and its version', () => {
    const data = publishedSettings(operator.flags, 'kube-replicator', '1.2.3');
    expect(Object.keys(data).sort()).toEqual([versionKey, ...planningFlags].sort());
    expect(data).toMatchObject({
      [versionKey]: '1.2.3', 'exclude-namespaces': '^scratch-', 'require-namespace-opt-in': 'true', 'replicate-roles': 'false',
      'protected-namespaces': 'kube-system,kube-public,kube-node-lease,kube-replicator',
    });
    // How the operator runs is not what it decides: not published.
    expect(data).not.toHaveProperty('concurrency');
    expect(data).not.toHaveProperty('kubeconfig');
  });

  it('re-parsed by explain, give the operator\'s settings', () => {
    const data = publishedSettings(operator.flags, 'kube-replicator', '1.2.3');
    const explain = parseArgs(['explain', 'secret', 'a/b']);
    const w = withPublished(data, [], explain.given);
    const o = parseArgs(['explain', 'secret', 'a/b', ...w.argv]);
    expect(o).toMatchObject({ excludeNamespaces: '^scratch-', requireNamespaceOptIn: true, protectedNamespaces: 'kube-system,kube-public,kube-node-lease,kube-replicator' });
    expect(o.kinds).not.toContain('Role');
    expect(w).toMatchObject({ overridden: [], unknown: [] });
  });

  it('give way to a planning flag the caller gives (a what-if), which is named', () => {
    const data = publishedSettings(operator.flags, 'kube-replicator', '1.2.3');
    const explain = parseArgs(['explain', 'secret', 'a/b', '--require-namespace-opt-in=false', '-o', 'json']);
    const w = withPublished(data, explain.given.map((g) => `--${g}=${explain.flags[g]}`), explain.given);
    expect(parseArgs(['explain', 'secret', 'a/b', ...w.argv]).requireNamespaceOptIn).toBe(false);
    expect(w.overridden).toEqual(['require-namespace-opt-in']);
  });

  it('from a newer operator: keys this version does not know are left out and named, not a parse error', () => {
    const w = withPublished({ [versionKey]: '9.0.0', 'allow-all': 'false', 'some-future-flag': 'x' }, [], []);
    expect(w.unknown).toEqual(['some-future-flag']);
    expect(() => parseArgs(['explain', 'secret', 'a/b', ...w.argv])).not.toThrow();
  });
});

describe('flags given', () => {
  it('are told apart from defaults', () => {
    const o = parseArgs(['explain', 'secret', 'a/b', '-o=json', '--allow-all']);
    expect(o.given.sort()).toEqual(['allow-all', 'o']);
    expect(o.flags['allow-all']).toBe('true');
    expect(o.flags['exclude-namespaces']).toBe('');
  });
});
