// /healthz, /readyz and /metrics on one plain HTTP listener (mittwald's --status-addr, default :9102).
import { createServer, type Server } from 'node:http';

export interface StatusSources {
  /** Empty when healthy; otherwise the reasons (e.g. stale watches). */
  problems: () => string[];
  /** Names of what is not ready yet; empty when ready. */
  notReady: () => string[];
  metrics: () => Promise<{ contentType: string; body: string }>;
}

export function parseListenAddress(addr: string): { host?: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, '') : undefined;
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${addr}": expected [host]:port`);
  return { host, port };
}

export async function startStatusServer(addr: string, src: StatusSources): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      const problems = src.problems();
      res.writeHead(problems.length ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(problems.length ? { problems } : { status: 'ok' }) + '\n');
    } else if (path === '/readyz') {
      const notReady = src.notReady();
      res.writeHead(notReady.length ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ notReady }) + '\n');
    } else if (path === '/metrics') {
      src.metrics().then(({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      }, () => { res.writeHead(500); res.end(); });
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const { host, port } = parseListenAddress(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
