// Lease-based leader election (coordination.k8s.io/v1), as client-go does it: a candidate takes the lease when
// it is free or has not been renewed for leaseDuration *as observed on the local clock* (no trust in other
// machines' clocks), renews it every retryPeriod, and gives up leadership if it cannot renew within renewDeadline.
import { isConflict, isNotFound, type KubeClient } from './client.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly o: LeaderElectionOptions;
  private observed?: { record: string; at: number };
  private lastRenew = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  leading = false;

  constructor(client: KubeClient, o: LeaderElectionOptions) {
    this.client = client;
    this.o = o;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.tryAcquireOrRenew();
      } catch (e) {
        this.o.onError?.(e);
      }
      if (this.leading && this.now() - this.lastRenew > this.o.renewDeadlineMs) {
        this.leading = false; // could not renew in time: another candidate may take over now
        this.o.onStoppedLeading();
      }
      if (!this.stopped) {
        this.timer = setTimeout(tick, this.o.retryPeriodMs * (this.leading ? 1 : 1 + Math.random() * 0.2));
      }
    };
    void tick();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = this.now();
    const spec: LeaseSpec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const created = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } };
      try {
        await this.client.request('POST', this.path, { body: created });
      } catch (err) {
        if (isConflict(err)) return; // someone else created it first
        throw err;
      }
      return this.becameLeader(now);
    }
    const current = lease.spec ?? {};
    const record = JSON.stringify(current);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const held = current.holderIdentity && current.holderIdentity !== this.o.identity;
    const expired = this.observed.at + (current.leaseDurationSeconds ?? 0) * 1000 <= now;
    if (held && !expired) {
      if (this.leading) {
        this.leading = false;
        this.o.onStoppedLeading();
      }
      return;
    }
    const mine = current.holderIdentity === this.o.identity;
    lease.spec = {
      ...spec,
      acquireTime: mine ? current.acquireTime : microTime(now),
      leaseTransitions: (current.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      const updated = await this.client.request<Lease>('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, { body: lease });
      this.observed = { record: JSON.stringify(updated.spec ?? {}), at: now };
    } catch (e) {
      if (isConflict(e)) return; // lost a race; look again next round
      throw e;
    }
    this.becameLeader(now);
  }

  private becameLeader(now: number): void {
    this.lastRenew = now;
    if (!this.leading) {
      this.leading = true;
      this.o.onStartedLeading();
    }
  }

  /** Stops campaigning and, if leading, hands the lease back so a standby can take over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.now()) };
      await this.client.request('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, { body: lease });
    } catch (e) {
      this.o.onError?.(e);
    }
  }
}
