// The controller as the one-shot commands (`plan`, `explain`) use it: the caller's kubeconfig, the operator's flags,
// one worker, Events dropped. Building it starts nothing; `syncCaches()` does, and `stop()` ends it.
import type { Options } from './cli/flags.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient } from './kube/client.ts';
import type { EventRecorder } from './kube/events.ts';
import { loadKubeAccess } from './kube/kubeconfig.ts';
import type { Logger } from './log.ts';
import type { KindTable } from './model/kinds.ts';
import { kindTableFor, settingsFrom } from './operator.ts';
import { loadPolicySchema } from './policy-schema.ts';

/** The caller's client, from its kubeconfig (--kubeconfig, --context). */
export async function callerClient(o: Options): Promise<KubeClient> {
  return new KubeClient(await loadKubeAccess(o.kubeconfig, process.env, o.context));
}

export async function readOnlyController(o: Options, log: Logger, caller?: KubeClient): Promise<{ client: KubeClient; kinds: KindTable; controller: Controller }> {
  const client = caller ?? await callerClient(o);
  const kinds = await kindTableFor(client, o);
  const silent = { record: () => undefined } as unknown as EventRecorder;
  const controller = new Controller(client, {
    kinds, validatePolicySpec: loadPolicySchema(), settings: settingsFrom(o, log), concurrency: 1, resyncPeriodMs: o.resyncPeriodMs, log, events: silent,
    cacheSyncTimeoutMs: o.cacheSyncTimeoutMs,
  });
  return { client, kinds, controller };
}
