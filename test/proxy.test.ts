// The operator behind a forward proxy: a cluster's proxy-url (http, https, socks5), and HTTPS_PROXY / NO_PROXY
// when the kubeconfig has none. The proxies are real ones written here, in front of the real control plane; the
// proxy-url tests name the API server by a host only the proxy resolves, so nothing reaches it but through a tunnel.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pki } from '../tools/controlplane/pki.ts';
import { OperatorProcess } from '../e2e/support/process.ts';
import { chartIdentity, withChartArgs, type ChartIdentity } from './support/chart-identity.ts';
import { admin, b64, controlPlaneInfo, createNamespace, decoded, deleteNamespace, maybe, uniqueName, waitFor } from './support/cluster.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const c = admin();
const source = uniqueName('proxy-src');
const target = uniqueName('proxy-dst');
/** Resolved by the test proxies only: an operator that reaches the API server at all went through one. */
const proxiedHost = 'kubernetes.proxy-test.invalid';
const apiServer = new URL(controlPlaneInfo().server);
const password = 'pr0xy-S3CR3T';
let identity: ChartIdentity;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  identity = await chartIdentity();
  await createNamespace(c, source);
  await createNamespace(c, target);
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(async () => {
  await deleteNamespace(c, source, false);
  await deleteNamespace(c, target, false);
});

interface Tunnel { target: string; user?: string; password?: string }

/**
 * A forward proxy: HTTP CONNECT (over TLS for `https`) or SOCKS5, recording each tunnel asked for, refusing those
 * without `user`/`password` when given (407, or the SOCKS auth failure). It connects where the client asks, except
 * `proxiedHost`, which it sends to the API server.
 */
async function startProxy(kind: 'http' | 'https' | 'socks5', credentials?: { user: string; password: string }) {
  const tunnels: Tunnel[] = [];
  const sockets = new Set<net.Socket>();
  const splice = (client: net.Socket, host: string, port: number, established: (upstream: net.Socket) => void, failed: () => void) => {
    const upstream = host === proxiedHost ? net.connect(Number(apiServer.port), apiServer.hostname) : net.connect(port, host);
    sockets.add(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      established(upstream);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => (connected ? client.destroy() : failed()));
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  };
  let server: net.Server;
  if (kind === 'socks5') {
    server = net.createServer((client) => {
      client.once('data', (greeting: Buffer) => {
        if (credentials && !greeting.subarray(2).includes(2)) return client.end(Buffer.from([5, 0xff])); // no user/password offered
        client.write(Buffer.from([5, credentials ? 2 : 0]));
        const connect = (seen: Omit<Tunnel, 'target'>) => client.once('data', (req: Buffer) => {
          const host = req[3] === 3 ? req.subarray(5, 5 + req[4]!).toString() : [...req.subarray(4, 8)].join('.');
          const port = req.readUInt16BE(req.length - 2);
          tunnels.push({ target: `${host}:${port}`, ...seen });
          splice(client, host, port, () => client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0])), () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
        });
        if (!credentials) return connect({});
        client.once('data', (auth: Buffer) => {
          const user = auth.subarray(2, 2 + auth[1]!).toString();
          const pass = auth.subarray(3 + auth[1]!, 3 + auth[1]! + auth[2 + auth[1]!]!).toString();
          if (user !== credentials.user || pass !== credentials.password) {
            tunnels.push({ target: '', user, password: pass });
            return client.end(Buffer.from([1, 1]));
          }
          client.write(Buffer.from([1, 0]));
          connect({ user, password: pass });
        });
      });
    });
  } else {
    const pki = new Pki(controlPlaneInfo().pkiDir);
    // The https proxy serves the API server's certificate (127.0.0.1, from the test CA the kubeconfig trusts).
    const web = kind === 'https' ? https.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }) : http.createServer();
    web.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const [user, pass] = Buffer.from((req.headers['proxy-authorization'] ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
      tunnels.push({ target: req.url!, ...(req.headers['proxy-authorization'] ? { user, password: pass } : {}) });
      if (credentials && (user !== credentials.user || pass !== credentials.password)) {
        return client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      }
      const url = new URL(`http://${req.url!}`);
      splice(client, url.hostname.replace(/^\[|\]$/g, ''), Number(url.port), (upstream) => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
      }, () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    });
    server = web;
  }
  server.on('connection', (s: net.Socket) => sockets.add(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const auth = credentials ? `${credentials.user}:${credentials.password}@` : '';
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { tunnels, url: (userinfo = auth) => `${kind}://${userinfo}127.0.0.1:${port}`, port };
}

/** A kubeconfig for the chart's ServiceAccount with `cluster` merged in; TLS checks the name the certificate has. */
async function kubeconfig(cluster: Record<string, unknown>): Promise<string> {
  const config = JSON.parse((await identity.kubeConfig()).exportConfig()) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  Object.assign(config.clusters[0]!.cluster, { 'tls-server-name': 'localhost' }, cluster);
  const file = join(controlPlaneInfo().dir, `${uniqueName('proxied')}.kubeconfig`);
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

async function operator(name: string, file: string, env: Record<string, string> = {}): Promise<OperatorProcess> {
  const op = new OperatorProcess(name, withChartArgs([], identity), file);
  op.env = env;
  cleanup.push(() => op.kill());
  await op.start();
  return op;
}

/** A Secret created now (so the operator learns of it from its watch) reaches the target namespace. */
async function replicates(): Promise<void> {
  const name = uniqueName('pushed');
  await c.core.createNamespacedSecret({ namespace: source, body: {
    metadata: { name, annotations: { 'replicator.v1.mittwald.de/replicate-to': target } }, data: { value: b64(name) },
  } });
  await waitFor(`${name} in ${target}`, async () => decoded((await maybe(c.core.readNamespacedSecret({ namespace: target, name })))?.data).value === name);
}

describe('proxy-url in the kubeconfig', () => {
  it('an http proxy with credentials: every connection is a tunnel, watches included, and the password is never logged', async () => {
    const proxy = await startProxy('http', { user: 'op', password });
    const op = await operator('proxy-http', await kubeconfig({ server: `https://${proxiedHost}`, 'proxy-url': proxy.url() }));
    await replicates();
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(2); // lists and watches hold connections of their own
    expect(new Set(proxy.tunnels.map((t) => `${t.target} ${t.user}:${t.password}`))).toEqual(new Set([`${proxiedHost}:443 op:${password}`]));
    const logs = op.logs();
    expect(logs).toContain(`"proxy":"http://***@127.0.0.1:${proxy.port} (proxy-url of cluster \\"kube-replicator-local\\")"`);
    expect(logs).not.toContain(password);
  });

  it.each(['https', 'socks5'] as const)('a %s proxy', async (kind) => {
    const proxy = await startProxy(kind, kind === 'socks5' ? { user: 'op', password } : undefined);
    const op = await operator(`proxy-${kind}`, await kubeconfig({ server: `https://${proxiedHost}`, 'proxy-url': proxy.url() }));
    await replicates();
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.tunnels.map((t) => t.target))).toEqual(new Set([`${proxiedHost}:443`]));
    expect(op.logs()).not.toContain(password);
  });

  it('a wrong proxy password: the start fails naming the proxy (redacted) and the 407', async () => {
    const proxy = await startProxy('http', { user: 'op', password });
    const file = await kubeconfig({ server: `https://${proxiedHost}`, 'proxy-url': proxy.url('op:wr0ng-S3CR3T@') });
    const p = spawn(process.execPath, [join(root, 'src', 'main.ts'), 'run', `--kubeconfig=${file}`, '--status-addr=127.0.0.1:0', '--log-format=plain', '--cache-sync-timeout=3s'], {
      env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => p.kill());
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const [code] = await once(p, 'exit') as [number | null];
    expect(code).toBe(1);
    expect(output).toContain('caches did not sync within 3 s (--cache-sync-timeout)');
    expect(output).toContain(`the proxy http://***@127.0.0.1:${proxy.port} (proxy-url of cluster \\"kube-replicator-local\\") `
      + `refused a tunnel to ${proxiedHost}:443 (HTTP 407 Proxy Authentication Required): it rejected the user and password in its URL`);
    expect(output).not.toContain('wr0ng-S3CR3T');
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(proxy.tunnels.every((t) => t.password === 'wr0ng-S3CR3T')).toBe(true);
  });
});

describe('HTTPS_PROXY and NO_PROXY when the kubeconfig has no proxy-url', () => {
  // Loopback addresses never use an environment proxy (as in Go), so the API server is offered on a non-loopback
  // address of this machine, by a plain TCP relay that counts the connections it passes on.
  const address = Object.values(networkInterfaces()).flat().find((i) => i?.family === 'IPv4' && !i.internal)?.address;
  async function relay() {
    if (!address) throw new Error('this test needs a non-loopback IPv4 address on this machine');
    const sockets = new Set<net.Socket>();
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      const upstream = net.connect(Number(apiServer.port), apiServer.hostname);
      for (const x of [s, upstream]) {
        sockets.add(x);
        x.on('error', () => undefined);
        x.on('close', () => (x === s ? upstream : s).destroy());
      }
      s.pipe(upstream).pipe(s);
    });
    server.listen(0, address);
    await once(server, 'listening');
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      server.close();
    });
    return { server: `https://${address}:${(server.address() as net.AddressInfo).port}`, connections: () => connections };
  }

  it('HTTPS_PROXY is used', async () => {
    const proxy = await startProxy('http');
    const api = await relay();
    await operator('proxy-env', await kubeconfig({ server: api.server }), { HTTPS_PROXY: proxy.url() });
    await replicates();
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.tunnels.map((t) => t.target))).toEqual(new Set([api.server.slice('https://'.length)]));
  });

  it('NO_PROXY naming the API server\'s address bypasses it', async () => {
    const proxy = await startProxy('http');
    const api = await relay();
    await operator('proxy-no-proxy', await kubeconfig({ server: api.server }), { HTTPS_PROXY: proxy.url(), NO_PROXY: `.example.com,${address}` });
    await replicates();
    expect(proxy.tunnels).toEqual([]);
    expect(api.connections()).toBeGreaterThanOrEqual(2);
  });
});
