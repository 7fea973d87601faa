// `kube-replicator migrate`: reads the annotated sources with the caller's kubeconfig (GET and LIST only, objects as
// metadata: no secret value is read) and prints ReplicationPolicies that do what their push annotations do, then
// what no policy can express. The conversion is rules/migrate.ts, over the operator's own annotation parsers.
import type { Options } from './cli/flags.ts';
import { ApiError, KubeClient } from './kube/client.ts';
import { loadKubeAccess } from './kube/kubeconfig.ts';
import { listMetadata } from './kube/reads.ts';
import { builtinKinds, isBuiltinKind, type KindSpec } from './model/kinds.ts';
import type { KubeObject } from './model/objects.ts';
import { kindTableFor, settingsFrom } from './operator.ts';
import { migrationFor, type Migration } from './rules/migrate.ts';
import { configurePatternBudget } from './rules/patterns.ts';
import { mittwaldPrefix, reflectorPrefix } from './rules/vocabulary.ts';
import { stringify } from 'yaml';

export class MigrateError extends Error {}

const comment = (text: string) => text.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n');

/** The policies as `---`-separated YAML, each after a comment naming what it replaces; then what stays annotations. */
export function renderMigration(m: Migration): string {
  const docs = m.policies.map((p) => `---\n${comment(`Replaces the push annotations of:\n${p.replaces.map((r) => `  ${r}`).join('\n')}`)}\n${stringify(p.policy, { lineWidth: 0 })}`);
  const sources = m.policies.reduce((n, p) => n + p.replaces.length, 0);
  const head = comment(`kube-replicator migrate: ${m.policies.length} ReplicationPolicies for ${sources} annotated sources.\n`
    + 'Apply them, wait until every one is Ready (its replicas then name the policy), then remove the push annotations.');
  const tail = m.notExpressible.length
    ? `\n${comment(`Not expressible as a ReplicationPolicy (${m.notExpressible.length}); keep these annotations:\n${m.notExpressible.map((n) => `  ${n.source}: ${n.reason}`).join('\n')}`)}\n`
    : `\n${comment('Everything annotated is expressed above.')}\n`;
  return `${head}\n${docs.join('')}${tail}`;
}

const mentionsReplication = (obj: KubeObject) => Object.keys(obj.metadata.annotations ?? {}).some((k) => k.startsWith(mittwaldPrefix) || k.startsWith(reflectorPrefix));

export async function runMigrate(o: Options, out: NodeJS.WritableStream = process.stdout): Promise<Migration> {
  let client: KubeClient;
  let specs: KindSpec[];
  try {
    client = new KubeClient(await loadKubeAccess(o.kubeconfig, process.env, o.context));
    specs = (await kindTableFor(client, o)).specs;
  } catch (e) {
    throw new MigrateError((e as Error).message);
  }
  const sources: { spec: KindSpec; obj: KubeObject }[] = [];
  for (const spec of specs) {
    let items: KubeObject[];
    try {
      items = await listMetadata(client, spec, o.namespace);
    } catch (e) {
      const where = o.namespace ? `in namespace ${o.namespace}` : 'cluster-wide';
      if (e instanceof ApiError && e.status === 403) {
        throw new MigrateError(`cannot list ${spec.plural} ${where} (403 Forbidden): migrate needs list on ${spec.plural}; or leave the kind out (${isBuiltinKind(spec.kind) ? `--${builtinKinds[spec.kind].flag}=false` : 'out of --extra-kinds'}). ${e.message}`);
      }
      throw new MigrateError(`listing ${spec.plural} ${where} failed: ${(e as Error).message}`);
    }
    for (const obj of items) if (mentionsReplication(obj)) sources.push({ spec, obj });
  }
  // Lists beyond the operator's pattern budget make no rule there: read them under the same budget (its flag).
  configurePatternBudget(o.patternMemoryBudget);
  const m = migrationFor(sources, settingsFrom(o));
  out.write(renderMigration(m));
  return m;
}
