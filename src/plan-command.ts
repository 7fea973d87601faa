// `kube-replicator plan`: reads the cluster as the operator would and prints, per target, what a
// reconcile would create, update or delete and why. Writes nothing (not even Events).
import type { Options } from './cli/flags.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient, loadKubeConfig } from './kube/client.ts';
import type { EventRecorder } from './kube/events.ts';
import { createLogger } from './log.ts';
import { settingsFrom } from './operator.ts';
import { loadPolicySchema } from './rules/policy-schema.ts';
import { parseRefKey, formatRef } from './model/objects.ts';

export async function runPlan(o: Options, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const log = createLogger({ level: 'error', format: o.logFormat });
  loadPolicySchema();
  const client = new KubeClient(loadKubeConfig(o.kubeconfig));
  const silent = { record: () => undefined } as unknown as EventRecorder;
  const controller = new Controller(client, {
    kinds: o.kinds, settings: settingsFrom(o, log), concurrency: 1, resyncPeriodMs: o.resyncPeriodMs, log, events: silent,
  });
  await controller.syncCaches();
  const keys = new Set<string>();
  controller.forEachKey((k) => keys.add(k));
  let changes = 0;
  for (const key of [...keys].sort()) {
    const p = await controller.dryRun(key);
    if (!p) continue;
    const target = formatRef(parseRefKey(key));
    if (p.write) {
      changes++;
      out.write(`${p.write.type.padEnd(8)} ${target}${p.owner ? `  (rule ${p.owner})` : ''}\n`);
    }
    for (const n of p.notes.filter((x) => x.type === 'Warning')) out.write(`${'warning'.padEnd(8)} ${target}  ${n.reason}: ${n.message}\n`);
  }
  out.write(`${changes} change(s) planned over ${keys.size} target(s)\n`);
  await controller.stop();
  return changes;
}
