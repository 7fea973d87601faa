// `kube-replicator plan`: reads the cluster as the operator would and prints, per target, what a
// reconcile would create, update or delete and why. Writes nothing (not even Events). An update that only moves a
// replica to another rule (provenance and bookkeeping) is a take-over, not a change of what it holds.
import type { Options } from './cli/flags.ts';
import { createLogger } from './log.ts';
import { readOnlyController } from './read-only-controller.ts';
import { parseRefKey, formatRef } from './model/objects.ts';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { ReplicationPolicy } from './api/replication-policy.ts';
import { actionOf } from './engine/plan.ts';
import { changesOnlyProvenance } from './engine/provenance-only.ts';
import { readObject } from './kube/reads.ts';

export async function runPlan(o: Options, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const log = createLogger({ level: 'error', format: o.logFormat });
  const { client, kinds, controller } = await readOnlyController(o, log);
  await controller.syncCaches();
  let invalid = 0;
  if (o.filename) {
    let policies = 0;
    for (const doc of parseAllDocuments(readFileSync(o.filename, 'utf8'))) {
      const obj = doc.toJS() as ReplicationPolicy | null;
      if (obj?.kind !== 'ReplicationPolicy') continue;
      policies++;
      // As the API server would see it: the same identity as a live policy of that name, and a new generation.
      const live = controller.policy(obj.metadata.name)?.metadata;
      obj.metadata = { ...obj.metadata, uid: live?.uid ?? 'planned', generation: (live?.generation ?? 0) + 1 };
      const result = controller.assumePolicy(obj);
      if (result.ok) out.write(`policy   ${obj.metadata.name}: valid\n`);
      else {
        invalid++;
        for (const p of result.problems) out.write(`invalid  policy ${obj.metadata.name}: ${p.field}: ${p.message}\n`);
      }
    }
    // A file without a policy would otherwise plan the cluster as it is and look like "nothing to do".
    if (policies === 0) {
      out.write(`invalid  ${o.filename} holds no ReplicationPolicy (kind: ReplicationPolicy, apiVersion: kube-replicator.io/v1alpha1)\n`);
      invalid++;
    }
  }
  const keys = new Set<string>();
  controller.forEachKey((k) => keys.add(k));
  let changes = 0;
  let takeOvers = 0;
  for (const key of [...keys].sort()) {
    const p = await controller.dryRun(key);
    if (!p) continue;
    const ref = parseRefKey(key);
    const target = formatRef(ref);
    if (p.write) {
      const takeOver = (p.write.type === 'update' || p.write.type === 'patch')
        && changesOnlyProvenance(kinds.spec(ref.kind), p.write, await readObject(client, kinds.spec(ref.kind), ref));
      if (takeOver) takeOvers++;
      else changes++;
      out.write(`${(takeOver ? 'take-over' : actionOf(p.write)).padEnd(8)} ${target}${p.owner ? `  (rule ${p.owner}, ${p.tier ?? 'untrusted'})` : ''}\n`);
    }
    for (const n of p.notes.filter((x) => x.type === 'Warning')) out.write(`${'warning'.padEnd(8)} ${target}  ${n.reason}: ${n.message}\n`);
  }
  out.write(`${changes} change(s) planned over ${keys.size} target(s)${takeOvers ? `; ${takeOvers} take-over(s) change only provenance` : ''}\n`);
  await controller.stop();
  if (invalid) process.exitCode = 1;
  return changes;
}
