// Assembles the operator from its parts: one function for `run`, `npm run dev` and the tests.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import type { Options } from './cli/flags.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient } from './kube/client.ts';
import { EventRecorder } from './kube/events.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { parseExcludePatterns, parseNamespacePatterns } from './rules/patterns.ts';
import { loadPolicySchema } from './rules/policy-schema.ts';
import type { Settings } from './rules/types.ts';
import { startStatusServer } from './server/status-server.ts';

export function settingsFrom(o: Options, log?: Logger): Settings {
  const exclude = o.excludeNamespaces ? parseExcludePatterns(o.excludeNamespaces) : undefined;
  const trusted = o.trustedRbacNamespaces ? parseNamespacePatterns(o.trustedRbacNamespaces) : undefined;
  for (const [flag, p] of [['-exclude-namespaces', exclude], ['-trusted-rbac-namespaces', trusted]] as const) {
    for (const e of p?.errors ?? []) log?.error(`${flag}: pattern "${e.element}" ignored: ${e.reason}`);
  }
  return {
    allowAll: o.allowAll,
    adoptExisting: o.adoptExisting,
    excludeNamespaces: exclude,
    requireNamespaceOptIn: o.requireNamespaceOptIn,
    trustedRbacNamespaces: trusted,
  };
}

export interface Operator {
  controller: Controller;
  client: KubeClient;
  metrics: Metrics;
  server?: Server;
  log: Logger;
  stop(): Promise<void>;
}

/** Starts the operator and resolves once its caches are synced and it is reconciling. */
export async function startOperator(kc: KubeConfig, o: Options, extra: { log?: Logger; statusServer?: boolean } = {}): Promise<Operator> {
  const log = extra.log ?? createLogger({ level: o.logLevel, format: o.logFormat });
  loadPolicySchema();
  const client = new KubeClient(kc);
  const metrics = new Metrics();
  const events = new EventRecorder(client);
  events.onError = (err, e) => log.warn('could not record an Event', { reason: e.reason, error: (err as Error).message });
  const controller = new Controller(client, {
    kinds: o.kinds, settings: settingsFrom(o, log), concurrency: o.concurrency, resyncPeriodMs: o.resyncPeriodMs,
    log, events, watchInactivityMs: o.watchInactivityMs, observer: metrics, rbacWriter: o.rbacWriter,
  });
  if (!o.rbacWriter && o.kinds.some((k) => k === 'Role' || k === 'RoleBinding')) {
    log.warn('Roles and RoleBindings are replicated with the operator\'s own permissions; set --rbac-writer so that replicated RBAC never grants more than an identity you scope');
  }
  let server: Server | undefined;
  if (extra.statusServer !== false) {
    server = await startStatusServer(o.statusAddr, {
      problems: () => controller.staleWatches(o.watchInactivityMs * 2).map((n) => `watch ${n} is stale`),
      notReady: () => (controller.ready ? [] : ['caches']),
      metrics: async () => {
        metrics.queueDepth.set(controller.queue.depth);
        for (const [kind, s] of controller.states) metrics.replicas.set({ kind }, s.replicas.size);
        if (controller.lastSyncTime) metrics.lastSync.set(controller.lastSyncTime.getTime() / 1000);
        return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
      },
    });
  }
  log.info('starting', { kinds: o.kinds, statusAddr: o.statusAddr, server: client.server });
  await controller.start();
  return {
    controller, client, metrics, server, log,
    async stop() {
      await controller.stop();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
  };
}
