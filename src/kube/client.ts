// The one place that speaks HTTP to the API server (configuration and credentials come from kubeconfig.ts).
// Requests and watch streams are made here so that every call can ask for exactly the representation it needs
// (e.g. metadata-only lists) and is counted.
import { Agent, fetch } from 'undici';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { KubeAccess } from './kubeconfig.ts';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/** A Kubernetes `Status` failure. Its message comes from the API server and never contains object data. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409;
export const isAlreadyExists = (e: unknown) => e instanceof ApiError && e.status === 409 && e.reason === 'AlreadyExists';

export interface Impersonation {
  user: string;
}

/** The identity of a ServiceAccount given as `<namespace>/<name>`. */
export function serviceAccountIdentity(ref: string): Impersonation {
  const [ns, name, ...rest] = ref.split('/');
  if (!ns || !name || rest.length) throw new Error(`"${ref}" is not <namespace>/<serviceaccount>`);
  return { user: `system:serviceaccount:${ns}:${name}` };
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class KubeClient {
  readonly access: KubeAccess;
  readonly server: string;
  private readonly listeners: ((r: RequestRecord) => void)[];
  private readonly impersonation?: Impersonation;
  /** Sent on every request; includes the process identity so audit logs tell replicas apart. */
  userAgent = 'kube-replicator';

  private readonly pool: { dispatcher?: unknown; pending?: Promise<unknown>; until: number };

  constructor(access: KubeAccess, impersonation?: Impersonation, listeners: ((r: RequestRecord) => void)[] = [], pool = { until: 0 }) {
    this.access = access;
    this.server = access.server;
    this.impersonation = impersonation;
    this.listeners = listeners;
    this.pool = pool;
  }

  /** The same connection acting as another identity (Impersonate-User): the API server checks that identity. */
  impersonating(who: Impersonation): KubeClient {
    const c = new KubeClient(this.access, who, this.listeners, this.pool);
    c.userAgent = this.userAgent;
    return c;
  }

  /** Observes every request (method, path without query, status): metrics and write counting. */
  onRequest(listener: (r: RequestRecord) => void): void {
    this.listeners.push(listener);
  }

  private async prepare(method: string, path: string, opts: RequestOptions) {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
    const authorization = await this.access.authorization();
    if (authorization) headers.authorization = authorization;
    headers['user-agent'] = this.userAgent;
    // For a ServiceAccount user the API server adds its groups itself (system:serviceaccounts[:<ns>]).
    if (this.impersonation) headers['impersonate-user'] = this.impersonation.user;
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    return { url, headers, dispatcher: await this.dispatcher() };
  }

  /**
   * One connection pool per client (shared with impersonating clients), renewed every minute so rotated
   * credentials are picked up: connections (and TLS handshakes) are reused across requests. undici 8 speaks
   * HTTP/2 by default, whose sessions emit an 'error' no one can listen to when the API server
   * closes them (an uncaught exception: the operator would crash on an API server restart). HTTP/1.1 only.
   */
  private dispatcher(): Promise<unknown> {
    const now = Date.now();
    // Concurrent callers share one creation: otherwise each would build a pool and close the one before it
    // under a request in flight.
    if (!this.pool.pending || now >= this.pool.until) {
      this.pool.until = now + 60_000;
      const previous = this.pool.dispatcher;
      this.pool.pending = this.newPool().then((next) => {
        this.pool.dispatcher = next;
        // The old pool finishes what it carries (watch streams included), then closes.
        if (previous instanceof Agent && previous !== next) void previous.close().catch(() => undefined);
        return next;
      }, (err: unknown) => {
        this.pool.pending = undefined; // try again on the next request
        throw err;
      });
    }
    return this.pool.pending;
  }

  private async newPool(): Promise<Agent> {
    return new Agent({ connect: await this.access.tls(), allowH2: false });
  }

  private record(method: string, path: string, status: number): void {
    for (const l of this.listeners) l({ method, path, status });
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { url, headers, dispatcher } = await this.prepare(method, path, opts);
    let res;
    try {
      res = await fetch(url, {
        method, headers, dispatcher: dispatcher as never, signal: opts.signal ?? AbortSignal.timeout(60_000),
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (e) {
      this.record(method, path, 0);
      throw e;
    }
    this.record(method, path, res.status);
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw toApiError(res.status, text, method, path);
  }

  /**
   * Opens a watch and calls `onEvent` per event until the stream ends (resolves) or fails (rejects).
   * `inactivityMs` aborts a stream that goes silent (half-open connections); bookmarks keep a healthy one busy.
   */
  async watch<T>(path: string, query: RequestOptions['query'], onEvent: (e: WatchEvent<T>) => void, opts: { accept?: string; signal?: AbortSignal; inactivityMs: number }): Promise<void> {
    // A listener added to an already-aborted signal never fires: check first.
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('watch aborted');
    const controller = new AbortController();
    const abort = () => controller.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', abort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`watch ${path} inactive for ${opts.inactivityMs} ms`)), opts.inactivityMs);
      timer.unref();
    };
    try {
      const { url, headers, dispatcher } = await this.prepare('GET', path, { query: { ...query, watch: true }, accept: opts.accept });
      arm();
      const res = await fetch(url, { method: 'GET', headers, dispatcher: dispatcher as never, signal: controller.signal });
      this.record('WATCH', path, res.status);
      if (res.status !== 200) throw toApiError(res.status, await res.text(), 'WATCH', path);
      const body = Readable.fromWeb(res.body as never);
      body.on('data', arm);
      // Ending the stream early (our abort in `finally`) errors the body; that is expected, not a crash.
      body.on('error', () => undefined);
      const lines = createInterface({ input: body, crlfDelay: Infinity });
      lines.on('error', () => undefined); // readline re-emits the body's error after the loop has ended
      for await (const line of lines) {
        if (!line) continue;
        onEvent(JSON.parse(line) as WatchEvent<T>);
      }
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error('watch aborted');
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      controller.abort();
    }
  }
}

function toApiError(status: number, text: string, method: string, path: string): ApiError {
  let reason = '';
  let message = `${method} ${path}: HTTP ${status}`;
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason ?? '';
    if (s.message) message = `${method} ${path}: ${s.message}`;
  } catch {
    // not a Status object; keep the generic message (never echo an arbitrary body)
  }
  return new ApiError(status, reason, message);
}
