import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { builtinKinds } from './model/kinds.ts';
import { renderMigration } from './migrate-command.ts';
import { migrationFor } from './rules/migrate.ts';
import { defaultSettings } from './rules/types.ts';
import { annotations as A } from './rules/vocabulary.ts';

const obj = (namespace: string, name: string, annotations: Record<string, string>) => ({ spec: builtinKinds.Secret, obj: { metadata: { name, namespace, annotations } } });

describe('renderMigration', () => {
  it('prints ---separated policies, each after a comment naming what it replaces, then what stays annotations', () => {
    const m = migrationFor([
      obj('a', 'x', { [A.replicateTo]: 'b' }), obj('a', 'y', { [A.replicateTo]: 'b' }), obj('a', 'z', { [A.replicateTo]: 'c' }),
      obj('b', 'pulled', { [A.replicateFrom]: 'a/x' }),
    ], defaultSettings);
    const text = renderMigration(m);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; spec?: { source: { names: string[] } } } | null).filter((d) => d?.kind);
    expect(docs.map((d) => d!.spec!.source.names)).toEqual(m.policies.map((p) => p.policy.spec.source.names));
    expect(text).toContain('# Replaces the push annotations of:\n#   Secret a/x\n#   Secret a/y\napiVersion: kube-replicator.io/v1alpha1\n');
    expect(text.endsWith(`# Not expressible as a ReplicationPolicy (1); keep these annotations:\n#   Secret b/pulled: ${m.notExpressible[0]!.reason}\n`)).toBe(true);
    expect(text.startsWith('# kube-replicator migrate: 2 ReplicationPolicies for 3 annotated sources.\n')).toBe(true);
  });

  it('says when everything was expressed', () => {
    expect(renderMigration(migrationFor([], defaultSettings))).toContain('# Everything annotated is expressed above.');
  });
});
