// What the controller is configured with, and the hooks it calls as it works (the metrics implement them).
import type { Kind, KindTable } from '../model/kinds.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Logger } from '../log.ts';
import type { SpecValidator } from '../rules/policy-rules.ts';
import type { Settings } from '../rules/types.ts';

export interface ControllerOptions {
  /** The kinds replicated: the enabled built-ins and the allowed extras. */
  kinds: KindTable;
  settings: Settings;
  concurrency: number;
  /** Every key is re-enqueued this often (level-triggered safety net). */
  resyncPeriodMs: number;
  log: Logger;
  events: EventRecorder;
  /** A watch silent for this long is restarted; /healthz fails while one stays stale. */
  watchInactivityMs?: number;
  /** `<namespace>/<serviceaccount>` impersonated for every Role/RoleBinding write (the escalation guard). */
  rbacWriter?: string;
  now?: () => Date;
  observer?: ControllerObserver;
  /** Caches not synced after this long end the start with a StartupError (--cache-sync-timeout; default 2 min). */
  cacheSyncTimeoutMs?: number;
  /** The CRD's schema for a policy's spec (see loadPolicySchema). */
  validatePolicySpec?: SpecValidator;
}

/** Every method is optional. */
export interface ControllerObserver {
  reconciled?(kind: Kind, outcome: string, tier: string, seconds: number): void;
  wrote?(kind: Kind, verb: string, tier: string): void;
  writeFailed?(kind: Kind, status: number): void;
  refused?(kind: Kind, reason: string): void;
  watchRestarted?(informer: string): void;
  queueDone?(waitedMs: number): void;
  statusWritten?(policy: string): void;
}
