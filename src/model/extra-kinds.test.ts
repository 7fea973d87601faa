import { describe, expect, it } from '@jest/globals';
import { deniedKinds, extraKindRefusal, formatKindRef, parseExtraKinds } from './extra-kinds.ts';

describe('parseExtraKinds', () => {
  it('reads group/version/Kind, and version/Kind for the core group', () => {
    expect(parseExtraKinds('networking.k8s.io/v1/NetworkPolicy, v1/LimitRange,example.com/v1alpha1/Widget')).toEqual({
      refs: [
        { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
        { group: '', version: 'v1', kind: 'LimitRange' },
        { group: 'example.com', version: 'v1alpha1', kind: 'Widget' },
      ],
      errors: [],
    });
    expect(parseExtraKinds('')).toEqual({ refs: [], errors: [] });
  });

  it.each([
    ['NetworkPolicy', 'expected group/version/Kind'],
    ['a/b/c/d', 'expected group/version/Kind'],
    ['Networking/v1/NetworkPolicy', 'is not a DNS subdomain'],
    ['networking.k8s.io/1/NetworkPolicy', 'is not a Kubernetes API version'],
    ['networking.k8s.io/v1/networkpolicies', 'is not a Kind name'],
    ['v1/Secret', 'built in: it is enabled with --replicate-secrets'],
    ['example.com/v1/Role', 'the name of a built-in kind'],
    ['v1/Pod', 'Pod is never replicated'],
    ['coordination.k8s.io/v1/Lease', 'Lease is never replicated'],
    ['discovery.k8s.io/v1/EndpointSlice', 'EndpointSlice is never replicated'],
  ])('refuses %s, saying why', (entry, why) => {
    const r = parseExtraKinds(`v1/LimitRange,${entry}`);
    expect(r.refs.map((x) => x.kind)).toEqual(['LimitRange']);
    expect(r.errors).toEqual([expect.stringContaining(`"${entry}": `)]);
    expect(r.errors[0]).toContain(why);
  });

  it('refuses the same Kind twice (kinds are named by Kind in keys and policies)', () => {
    const r = parseExtraKinds('example.com/v1/Widget,other.io/v1/Widget');
    expect(r.refs).toHaveLength(1);
    expect(r.errors[0]).toContain('already allowed as example.com/v1/Widget');
  });
});

describe('the deny-list', () => {
  it('gives a reason for every kind it refuses', () => {
    for (const [key, reason] of Object.entries(deniedKinds)) {
      const [group, kind] = key.split('/') as [string, string];
      expect(extraKindRefusal({ group, version: 'v1', kind })).toBe(`${kind} is never replicated: ${reason}`);
    }
  });

  it('lets a kind of the same name in another group through', () => {
    expect(extraKindRefusal({ group: 'example.com', version: 'v1', kind: 'Lease' })).toBeUndefined();
  });
});

it('formatKindRef writes what parseExtraKinds reads', () => {
  for (const e of ['networking.k8s.io/v1/NetworkPolicy', 'v1/LimitRange']) expect(formatKindRef(parseExtraKinds(e).refs[0]!)).toBe(e);
});
