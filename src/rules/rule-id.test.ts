import { describe, expect, it } from '@jest/globals';
import { refKey } from '../model/objects.ts';
import { annotationRuleId, policyOfRuleId, policyOfRuleLabel, policyRuleId, ruleLabel } from './rule-id.ts';

const source = refKey({ kind: 'Secret', namespace: 'platform', name: 'registry' });

describe('rule ids', () => {
  it('name the policy of a policy rule, and none for an annotation rule', () => {
    expect(policyOfRuleId(policyRuleId('registry-credentials', source))).toBe('registry-credentials');
    expect(policyOfRuleId(annotationRuleId(source))).toBeUndefined();
    expect(policyOfRuleId(undefined)).toBeUndefined();
  });

  it('tell two policies, and a policy from an annotation rule, apart for the same source', () => {
    const ids = [annotationRuleId(source), policyRuleId('a', source), policyRuleId('b', source)];
    expect(new Set(ids).size).toBe(3);
    expect(ids.map(policyOfRuleId)).toEqual([undefined, 'a', 'b']);
  });
});

describe('rule labels (kube-replicator.io/rule on a replica)', () => {
  it('are `annotation` or `policy/<name>`, and read back', () => {
    expect(ruleLabel({ type: 'annotation' })).toBe('annotation');
    expect(ruleLabel({ type: 'policy', name: 'team-rbac' })).toBe('policy/team-rbac');
    expect(policyOfRuleLabel(ruleLabel({ type: 'policy', name: 'team-rbac' }))).toBe('team-rbac');
    expect(policyOfRuleLabel('annotation')).toBeUndefined();
    expect(policyOfRuleLabel('policy/')).toBeUndefined();
  });
});
