// The one place that speaks HTTP to the API server (configuration and credentials come from kubeconfig.ts).
// Requests and watch streams are made here so that every call can ask for exactly the representation it needs
// (e.g. metadata-only lists) and is counted.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeAccess } from './kubeconfig.ts';
import { tunnellingAgent } from './proxy.ts';

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

export interface Impersonation {
  user: string;
}

/**
 * <namespace>/<serviceaccount>, or a bare <serviceaccount> in `ownNamespace` (the operator's own): manifests then
 * need not spell out the namespace, so a kustomize overlay that moves the operator moves its writer with it.
 */
export function qualifyServiceAccount(ref: string, ownNamespace: string | undefined): string {
  if (ref.includes('/')) return ref;
  if (!ownNamespace) throw new Error(`--rbac-writer=${ref} names no namespace, and the operator's own is unknown (not in a Pod, no POD_NAMESPACE): give <namespace>/${ref}`);
  return `${ownNamespace}/${ref}`;
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

  private readonly pool: ConnectionPool;

  constructor(access: KubeAccess, impersonation?: Impersonation, listeners: ((r: RequestRecord) => void)[] = [], pool: ConnectionPool = { until: 0 }) {
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

  /**
   * Opens `connections` keep-alive connections now, so that the first burst of writes (a fresh push) does not wait
   * for their TLS handshakes. Failures are left to the requests that follow.
   */
  async warm(connections: number): Promise<void> {
    await Promise.allSettled(Array.from({ length: connections }, () => this.request('GET', '/version')));
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
    return { url, headers, agent: await this.agent() };
  }

  /**
   * One keep-alive connection pool per client (shared with impersonating clients), so connections and TLS
   * sessions are reused across requests. Every minute the TLS material is read again: a rotated certificate gets a
   * new pool, the same material keeps the pool and its warm connections (a new pool would make the next burst of
   * writes wait for TLS handshakes). node:http
   * rather than fetch: HTTP/1.1 only (undici's HTTP/2 sessions emit errors no one can listen to when the API
   * server closes them), streams without WHATWG conversion, and no second HTTP stack in memory.
   */
  private agent(): Promise<http.Agent> {
    const now = Date.now();
    // Concurrent callers share one creation: otherwise each would build a pool and retire the one before it.
    if (!this.pool.pending || now >= this.pool.until) {
      this.pool.until = now + 60_000;
      const previous = this.pool.agent;
      this.pool.pending = this.agentFor(previous).then((next) => {
        this.pool.agent = next;
        // The old pool finishes what it carries (watch streams included) and keeps no idle connection.
        if (previous && previous !== next) retire(previous);
        return next;
      }, (err: unknown) => {
        this.pool.pending = undefined; // try again on the next request
        throw err;
      });
    }
    return this.pool.pending;
  }

  /** `previous` while the TLS material is the same; otherwise a new pool. With a proxy, every connection is a tunnel. */
  private async agentFor(previous: http.Agent | undefined): Promise<http.Agent> {
    const secure = this.server.startsWith('https:');
    const proxy = this.access.proxy;
    if (!secure && !proxy) return previous ?? namedAgent(new http.Agent({ keepAlive: true }));
    // Read for an http API server behind a proxy too: an https:// proxy is verified with the kubeconfig's CA.
    const tls = await this.access.tls();
    const h = createHash('sha256');
    for (const m of [tls.ca, tls.cert, tls.key]) h.update(`${m?.length ?? -1}:`).update(m ?? '');
    const fingerprint = h.update(`${tls.rejectUnauthorized}/${tls.servername}`).digest('hex');
    if (previous && fingerprint === this.pool.tls) return previous;
    this.pool.tls = fingerprint;
    const options = { keepAlive: true, ...tls };
    return namedAgent(proxy ? tunnellingAgent(proxy, secure, options) : new https.Agent(options));
  }

  private record(method: string, path: string, status: number): void {
    for (const l of this.listeners) l({ method, path, status });
  }

  /** Sends a request and resolves with the response head; the body is the caller's to read. */
  private send(method: string, url: URL, headers: Record<string, string>, agent: http.Agent, signal: AbortSignal, body?: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent, signal }, (res) => {
        // From here on errors surface on the response; a late one on the request must not go unheard.
        req.on('error', () => undefined);
        resolve(res);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { url, headers, agent } = await this.prepare(method, path, opts);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    let res: http.IncomingMessage;
    let text: string;
    try {
      res = await this.send(method, url, headers, agent, opts.signal ?? AbortSignal.timeout(60_000), body);
      text = await readText(res);
    } catch (e) {
      this.record(method, path, 0);
      throw e;
    }
    const status = res.statusCode ?? 0;
    this.record(method, path, status);
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw toApiError(status, text, method, path);
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
      const { url, headers, agent } = await this.prepare('GET', path, { query: { ...query, watch: true }, accept: opts.accept });
      arm();
      const res = await this.send('GET', url, headers, agent, controller.signal);
      this.record('WATCH', path, res.statusCode ?? 0);
      if (res.statusCode !== 200) throw toApiError(res.statusCode ?? 0, await readText(res), 'WATCH', path);
      res.on('data', arm);
      // Ending the stream early (our abort in `finally`) errors the response; that is expected, not a crash.
      res.on('error', () => undefined);
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      lines.on('error', () => undefined); // readline re-emits the response's error after the loop has ended
      for await (const line of lines) {
        if (!line) continue;
        onEvent(JSON.parse(line) as WatchEvent<T>);
      }
      if (controller.signal.aborted) throw controller.signal.reason ?? new Error('watch aborted');
      if (!res.complete) throw new Error(`watch ${path}: the connection closed mid-stream`);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      controller.abort();
    }
  }
}

/** `tls`: a digest of the TLS material the current agent was made with. */
interface ConnectionPool { agent?: http.Agent; pending?: Promise<http.Agent>; until: number; tls?: string }

/**
 * One agent serves one API server with fixed TLS settings: its pool needs no per-request name, which https.Agent
 * would otherwise build by stringifying the CA, certificate and key on every request.
 */
function namedAgent<A extends http.Agent>(agent: A): A {
  agent.getName = () => 'api-server';
  return agent;
}

async function readText(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Stops an agent from keeping connections: idle ones close now, busy ones when their request ends. `keepAlive`
 * is read when a socket is freed, so turning it off lets in-flight requests and watches finish undisturbed.
 */
function retire(agent: http.Agent): void {
  (agent as http.Agent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/**
 * The API server's message, except where it can quote the object: a 400/422 message may echo a field's value
 * (a Secret's, say), so for those only the reason and the causes' field paths and kinds are kept.
 */
function toApiError(status: number, text: string, method: string, path: string): ApiError {
  let reason = '';
  let message = `${method} ${path}: HTTP ${status}`;
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string; details?: { causes?: { field?: string; reason?: string }[] } };
    reason = s.reason ?? '';
    if (status === 400 || status === 422) {
      const causes = (s.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.reason ?? ''}`.slice(0, 200));
      message = `${method} ${path}: HTTP ${status} ${reason}${causes.length ? ` (${causes.join(', ')})` : ''}`;
    } else if (s.message) message = `${method} ${path}: ${s.message}`;
  } catch {
    // not a Status object; keep the generic message (never echo an arbitrary body)
  }
  return new ApiError(status, reason, message);
}
