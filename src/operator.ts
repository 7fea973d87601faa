// Assembles the operator from its parts: one function for `run`, `npm run dev` and the tests.
import type { Server } from 'node:http';
import type { Options } from './cli/flags.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient, qualifyServiceAccount } from './kube/client.ts';
import type { KubeAccess } from './kube/kubeconfig.ts';
import { EventRecorder } from './kube/events.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { configurePatternBudget, parseExcludePatterns, parseNamespacePatterns } from './rules/patterns.ts';
import { loadPolicySchema } from './policy-schema.ts';
import type { Settings } from './rules/types.ts';
import { startStatusServer } from './server/status-server.ts';
import { LeaderElector } from './kube/lease.ts';
import { discoverExtraKinds } from './kube/discovery.ts';
import { builtinKinds, KindTable } from './model/kinds.ts';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { operatorSettingsLabel, publishedSettings } from './cli/published-settings.ts';
import { publishSettings } from './kube/settings-configmap.ts';
import { version } from './version.ts';

/** The Pod's namespace when running in-cluster. */
function inClusterNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The namespace the operator runs in, which untrusted pushes never touch: POD_NAMESPACE, else in-cluster. */
export const ownNamespace = (): string | undefined => process.env.POD_NAMESPACE || inClusterNamespace();

export function settingsFrom(o: Options, log?: Logger): Settings {
  const exclude = o.excludeNamespaces ? parseExcludePatterns(o.excludeNamespaces) : undefined;
  const whole = (list: string) => (list ? parseNamespacePatterns(list) : undefined);
  const trusted = whole(o.trustedRbacNamespaces);
  const trustedSources = whole(o.trustedSourceNamespaces);
  const protectedList = [o.protectedNamespaces, ownNamespace()].filter(Boolean).join(',');
  const protectedNamespaces = whole(protectedList);
  for (const [flag, p] of [['-exclude-namespaces', exclude], ['-trusted-rbac-namespaces', trusted], ['-trusted-source-namespaces', trustedSources], ['-protected-namespaces', protectedNamespaces]] as const) {
    for (const e of p?.errors ?? []) log?.error(`${flag}: pattern "${e.element}" ignored: ${e.reason}`);
  }
  return {
    allowAll: o.allowAll,
    adoptExisting: o.adoptExisting,
    excludeNamespaces: exclude,
    requireNamespaceOptIn: o.requireNamespaceOptIn,
    trustedRbacNamespaces: trusted,
    trustedSourceNamespaces: trustedSources,
    permissive: o.permissive,
    protectedNamespaces,
    neverReplicateSecretTypes: o.neverReplicateSecretTypes,
  };
}

/** The kinds this operator replicates: the enabled built-ins, and the extras once discovery has checked them. */
export async function kindTableFor(client: KubeClient, o: Options): Promise<KindTable> {
  return new KindTable([...o.kinds.map((k) => builtinKinds[k]), ...await discoverExtraKinds(client, o.extraKinds)]);
}

/**
 * Publishes the planning settings for explain (best effort: explain says when it found none). Only a working
 * operator (the leader) writes, so that during a rolling upgrade the new settings win once the new leader works.
 */
function publish(client: KubeClient, o: Options, log: Logger): void {
  if (!o.settingsConfigMap) return;
  const namespace = ownNamespace();
  if (!namespace) {
    log.info('settings not published for explain: the operator\'s own namespace is unknown (not in a Pod, no POD_NAMESPACE)');
    return;
  }
  const where = { configMap: `${namespace}/${o.settingsConfigMap}` };
  publishSettings(client, namespace, o.settingsConfigMap, publishedSettings(o.flags, namespace, version()), operatorSettingsLabel).then(
    (wrote) => log.info(wrote ? 'published the settings for explain' : 'the published settings are current', where),
    (e: unknown) => log.warn('could not publish the settings for explain (it will use its own flags)', { ...where, error: (e as Error).message }),
  );
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
export async function startOperator(access: KubeAccess, o: Options, extra: { log?: Logger; statusServer?: boolean; onLostLeadership?: () => void } = {}): Promise<Operator> {
  const log = extra.log ?? createLogger({ level: o.logLevel, format: o.logFormat });
  configurePatternBudget(o.patternMemoryBudget);
  const client = new KubeClient(access);
  const identity = `${hostname()}_${process.pid}`;
  client.userAgent = `kube-replicator/${identity}`;
  const metrics = new Metrics();
  client.onRequest((r) => metrics.apiRequests.inc({ method: r.method, code: r.status ? `${Math.floor(r.status / 100)}xx` : 'none' }));
  const events = new EventRecorder(client);
  events.onError = (err, e) => log.warn('could not record an Event', { reason: e.reason, error: (err as Error).message });
  const rbacWriter = o.rbacWriter ? qualifyServiceAccount(o.rbacWriter, ownNamespace()) : undefined;
  const kinds = await kindTableFor(client, o);
  const controller = new Controller(client, {
    kinds, validatePolicySpec: loadPolicySchema(), settings: settingsFrom(o, log), concurrency: o.concurrency, resyncPeriodMs: o.resyncPeriodMs,
    log, events, watchInactivityMs: o.watchInactivityMs, cacheSyncTimeoutMs: o.cacheSyncTimeoutMs, observer: metrics, rbacWriter,
  });
  metrics.start(kinds.kinds, controller.informerNames());
  if (!rbacWriter && kinds.specs.some((s) => s.rbac)) {
    log.warn('Roles and RoleBindings are replicated with the operator\'s own permissions; set --rbac-writer so that replicated RBAC never grants more than an identity you scope');
  }
  let server: Server | undefined;
  if (extra.statusServer !== false) {
    server = await startStatusServer(o.statusAddr, {
      problems: () => controller.staleWatches(o.watchInactivityMs * 2).map((n) => `watch ${n} is stale`),
      notReady: () => (controller.ready ? [] : ['caches']),
      metrics: async () => {
        metrics.queueDepth.set(controller.queueDepth);
        for (const [kind, n] of controller.replicaCounts()) metrics.replicas.set({ kind }, n);
        for (const [kind, n] of controller.failingCounts()) metrics.failing.set({ kind }, n);
        if (controller.lastSyncTime) metrics.lastSync.set(controller.lastSyncTime.getTime() / 1000);
        return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
      },
    });
  }
  log.info('starting', { kinds: kinds.kinds, statusAddr: o.statusAddr, server: client.server, ...(access.proxy ? { proxy: String(access.proxy) } : {}), identity });
  let elector: LeaderElector | undefined;
  if (o.leaderElect) {
    await controller.start(false); // warm standby: caches synced and ready, no writes
    elector = new LeaderElector(client, {
      namespace: o.leaderElectionNamespace ?? ownNamespace() ?? 'default', name: o.leaderElectionId, identity,
      leaseDurationMs: o.leaseDurationMs, renewDeadlineMs: o.renewDeadlineMs, retryPeriodMs: o.retryPeriodMs,
      onStartedLeading: () => {
        log.info('became the leader', { identity, lease: o.leaderElectionId });
        metrics.leader.set(1);
        controller.startWorking();
        publish(client, o, log);
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        log.error('lost the leader lease; exiting so that only the new leader writes', { identity });
        (extra.onLostLeadership ?? (() => process.exit(1)))();
      },
      onError: (e) => log.warn('leader election: could not reach the lease', { error: (e as Error).message }),
    });
    elector.start();
  } else {
    await controller.start();
    metrics.leader.set(1);
    publish(client, o, log);
  }
  void client.warm(o.concurrency);
  return {
    controller, client, metrics, server, log,
    async stop() {
      await controller.stop(); // finishes the keys in flight
      await elector?.release();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
  };
}
