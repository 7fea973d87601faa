// A minimal API client over HTTP/2 for the bench's floors: JSON POSTs multiplexed on one node:http2 session to the
// API server, with the TLS material and credentials of a KubeAccess (the kubeconfig as src/kube reads it).
import http2 from 'node:http2';
import type { KubeAccess } from '../src/kube/kubeconfig.ts';

export interface H2Client {
  /** POSTs `body` as JSON; resolves with the parsed response, rejects on a non-2xx status (named in the message). */
  post(path: string, body: unknown): Promise<unknown>;
  /** Closes the session once its open streams end. */
  close(): void;
}

export function h2Client(access: KubeAccess): H2Client {
  const base = new URL(access.server);
  const prefix = base.pathname.replace(/\/$/, '');
  let closed = false;
  let live: http2.ClientHttp2Session | undefined;
  let pending: Promise<http2.ClientHttp2Session> | undefined;

  const connect = async (): Promise<http2.ClientHttp2Session> => {
    const tls = base.protocol === 'https:' ? await access.tls() : {};
    const options = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined));
    const s = http2.connect(base.origin, options);
    // A session error also fails its streams, which reject their own requests; unheard, it would end the process.
    s.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => {
        s.off('error', reject);
        resolve();
      });
      s.once('error', reject);
    });
    return s;
  };

  /** The open session; a new one if the server closed it (idle timeout, GOAWAY). Concurrent callers share one. */
  const session = (): Promise<http2.ClientHttp2Session> => {
    if (closed) return Promise.reject(new Error('h2Client: closed'));
    if (live && !live.closed && !live.destroyed) return Promise.resolve(live);
    pending ??= connect().then((s) => {
      live = s;
      pending = undefined;
      return s;
    }, (e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
  // Connect now, so the first timed request does not pay the handshake; a failure surfaces on that request.
  void session().catch(() => undefined);

  return {
    async post(path, body) {
      const s = await session();
      const text = JSON.stringify(body);
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST', ':path': prefix + path,
        accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(text),
        'user-agent': 'kube-replicator-bench-h2',
      };
      const authorization = await access.authorization();
      if (authorization) headers.authorization = authorization;
      return new Promise((resolve, reject) => {
        const req = s.request(headers, { signal: AbortSignal.timeout(60_000) });
        let status = 0;
        const chunks: Buffer[] = [];
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const t = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) {
            try {
              resolve(t ? JSON.parse(t) : undefined);
            } catch (e) {
              reject(e as Error);
            }
          } else reject(new Error(`POST ${path}: HTTP ${status}${t ? `: ${t.slice(0, 300)}` : ''}`));
        });
        req.on('error', reject);
        // A stream reset without an error: no-op once settled ('end' comes first).
        req.on('close', () => reject(new Error(`POST ${path}: stream closed (HTTP ${status || 'no response'})`)));
        req.end(text);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      live?.close();
      void pending?.then((s) => s.close(), () => undefined);
    },
  };
}
