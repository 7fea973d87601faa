// Where the API server is and how to authenticate to it: kubeconfig files (client-go's lookup and merge rules)
// and in-cluster ServiceAccount configuration. Read here instead of through @kubernetes/client-node, whose import
// alone costs ~85 MiB RSS; client-node is loaded only for credentials we do not read ourselves (exec plugins and
// auth providers). It is a devDependency: production installs and the image (where those never run) leave out
// its 65 MB.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { parseProxyUrl, proxyFromEnvironment, type ProxyServer } from './proxy.ts';

/** TLS settings for new connections. */
export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** An API server and credentials for it. Files are re-read so rotated tokens and certificates are picked up. */
export interface KubeAccess {
  readonly server: string;
  /** For each new connection pool. */
  tls(): Promise<TlsOptions>;
  /** The Authorization header for each request, if any (client certificates authenticate in TLS instead). */
  authorization(): Promise<string | undefined>;
  /** Every connection tunnels through this proxy, if any (proxy.ts: proxy-url, else the environment). */
  readonly proxy?: ProxyServer;
}

interface NamedCluster { name: string; cluster: Record<string, unknown> }
interface NamedUser { name: string; user: Record<string, unknown> }
interface NamedContext { name: string; context: { cluster?: string; user?: string } }
interface KubeConfigFile { 'current-context'?: string; clusters?: NamedCluster[]; users?: NamedUser[]; contexts?: NamedContext[] }

/** One kubeconfig entry with the folder its relative file paths are relative to. */
interface Located<T> { value: T; dir: string }

export const inClusterDir = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is re-read after this long, as client-go does: projected ServiceAccount tokens rotate. */
const tokenFileTtlMs = 60_000;

/**
 * The configuration `run` and `plan` use: `--kubeconfig`, else in-cluster when running in a Pod, else
 * $KUBECONFIG (a list of files, merged) or ~/.kube/config. Never guesses a server.
 */
/** `context`: a context of the kubeconfig to use instead of its current-context (--context). */
export async function loadKubeAccess(kubeconfig?: string, env: NodeJS.ProcessEnv = process.env, context?: string): Promise<KubeAccess> {
  if (kubeconfig) return kubeAccessFromFiles([kubeconfig], context, env);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterAccess(env);
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (!files.length && existsSync(join(homedir(), '.kube', 'config'))) files.push(join(homedir(), '.kube', 'config'));
  const found = files.filter((f) => existsSync(f));
  if (!found.length) throw new Error('no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, or run in a Pod (in-cluster config)');
  return kubeAccessFromFiles(found, context, env);
}

/** In a Pod: the ServiceAccount token and CA the kubelet mounts, and the API server from the service env. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = inClusterDir): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return makeAccess(server, { 'certificate-authority': join(dir, 'ca.crt') }, { tokenFile: join(dir, 'token') }, proxyFromEnvironment(env, server), '/');
}

/** A kubeconfig given as text (relative paths resolve against `dir`); `env` has the proxy variables. */
export async function kubeAccessFromText(text: string, dir = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<KubeAccess> {
  return fromMerged([{ config: parseConfig(text, '<text>'), dir }], env);
}

export async function kubeAccessFromFiles(files: string[], context?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeAccess> {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`kubeconfig file ${missing.join(', ')} does not exist`);
  return fromMerged(files.map((f) => ({ config: parseConfig(readFileSync(f, 'utf8'), f), dir: dirname(f) })), env, files, context);
}

function parseConfig(text: string, where: string): KubeConfigFile {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    // Only the first line (the position): the parser's message goes on to quote the file, which holds credentials.
    // eslint-disable-next-line preserve-caught-error -- the cause would carry that quote
    throw new Error(`kubeconfig ${where} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`kubeconfig ${where} is not a mapping`);
  return doc as KubeConfigFile;
}

/** client-go's merge: the first file that sets current-context, or names a cluster/user/context, wins. */
async function fromMerged(parts: { config: KubeConfigFile; dir: string }[], env: NodeJS.ProcessEnv, files?: string[], contextName?: string): Promise<KubeAccess> {
  const where = files ? files.join(delimiter) : 'the kubeconfig';
  const first = <T extends { name: string }>(list: (c: KubeConfigFile) => T[] | undefined, name: string): Located<T> | undefined => {
    for (const p of parts) {
      const hit = (list(p.config) ?? []).find((e) => e?.name === name);
      if (hit) return { value: hit, dir: p.dir };
    }
    return undefined;
  };
  const current = contextName || parts.map((p) => p.config['current-context']).find(Boolean);
  if (!current) throw new Error(`${where} has no current-context`);
  const context = first((c) => c.contexts, current)?.value.context;
  if (!context) throw new Error(`${where}: context "${current}" is not defined`);
  const cluster = context.cluster ? first((c) => c.clusters, context.cluster) : undefined;
  if (!cluster?.value.cluster) throw new Error(`${where}: cluster "${context.cluster ?? ''}" of context "${current}" is not defined`);
  const user = context.user ? first((c) => c.users, context.user) : undefined;
  const server = cluster.value.cluster.server;
  if (typeof server !== 'string' || !server) throw new Error(`${where}: cluster "${context.cluster}" has no server`);
  // As client-go: the cluster's proxy-url wins, else the environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY.
  const proxyUrl = cluster.value.cluster['proxy-url'];
  const proxy = typeof proxyUrl === 'string' && proxyUrl ? parseProxyUrl(proxyUrl, where, context.cluster!) : proxyFromEnvironment(env, server);
  const u = user?.value.user ?? {};
  if (user && (u.exec || u['auth-provider'])) return clientNodeAccess(server, cluster, user, proxy);
  return makeAccess(server, cluster.value.cluster, u, proxy, cluster.dir, user?.dir ?? cluster.dir);
}

function makeAccess(server: string, cluster: Record<string, unknown>, user: Record<string, unknown>, proxy: ProxyServer | undefined, clusterDir: string, userDir = clusterDir): KubeAccess {
  const clusterFile = (k: string) => pathIn(cluster[k], clusterDir);
  const userFile = (k: string) => pathIn(user[k], userDir);
  const material = (data: unknown, file: string | undefined) => data ? Promise.resolve(Buffer.from(String(data), 'base64')) : file ? readFile(file) : Promise.resolve(undefined);
  const tokenFile = userFile('tokenFile');
  let cached: { token: string; until: number } | undefined;
  const token = async (): Promise<string | undefined> => {
    if (typeof user.token === 'string' && user.token) return user.token;
    if (!tokenFile) return undefined;
    if (!cached || Date.now() >= cached.until) cached = { token: (await readFile(tokenFile, 'utf8')).trim(), until: Date.now() + tokenFileTtlMs };
    return cached.token;
  };
  return {
    server: server.replace(/\/$/, ''),
    proxy,
    async tls() {
      return {
        ca: await material(cluster['certificate-authority-data'], clusterFile('certificate-authority')),
        cert: await material(user['client-certificate-data'], userFile('client-certificate')),
        key: await material(user['client-key-data'], userFile('client-key')),
        rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
        servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
      };
    },
    async authorization() {
      const t = await token();
      if (t) return `Bearer ${t}`;
      if (typeof user.username === 'string' && typeof user.password === 'string') return basic(`${user.username}:${user.password}`);
      return undefined;
    },
  };
}

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

function pathIn(value: unknown, dir: string): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  return isAbsolute(value) ? value : join(dir, value);
}

/**
 * Exec plugins and auth providers (cloud logins): client-node runs them, given just the resolved cluster, user and
 * context with file paths made absolute. Loaded only here, so the common cases (token, client certificate,
 * in-cluster) do not pay for it.
 */
async function clientNodeAccess(server: string, cluster: Located<NamedCluster>, user: Located<NamedUser>, proxy: ProxyServer | undefined): Promise<KubeAccess> {
  const how = user.value.user.exec ? 'an exec plugin' : 'an auth provider';
  const k8s = await loadClientNode(`user "${user.value.name}" of the kubeconfig authenticates with ${how}`);
  const absolute = (entry: Record<string, unknown>, dir: string, keys: string[]) =>
    Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, keys.includes(k) ? pathIn(v, dir) : v]));
  const u = absolute(user.value.user, user.dir, ['client-certificate', 'client-key', 'tokenFile']);
  const exec = u.exec as { command?: string } | undefined;
  // client-go resolves a relative exec command that names a path (not a bare program) against the kubeconfig.
  if (exec?.command?.includes('/')) u.exec = { ...exec, command: pathIn(exec.command, user.dir) };
  const kc = new k8s.KubeConfig();
  kc.loadFromString(JSON.stringify({
    'current-context': 'c',
    clusters: [{ name: 'c', cluster: absolute(cluster.value.cluster, cluster.dir, ['certificate-authority']) }],
    users: [{ name: 'u', user: u }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }));
  const apply = async () => {
    const o: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string; auth?: string; headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(o as never);
    return o;
  };
  return {
    server: server.replace(/\/$/, ''),
    proxy,
    async tls() {
      const o = await apply();
      return { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized !== false, servername: o.servername };
    },
    async authorization() {
      const o = await apply();
      return o.headers?.Authorization ?? (o.auth ? basic(o.auth) : undefined);
    },
  };
}

type ClientNode = typeof import('@kubernetes/client-node');

/**
 * client-node, or an error that says what to install: a production install (`npm ci --omit=dev`, the image) does
 * not have it, and a bare ERR_MODULE_NOT_FOUND would not say why it is wanted. `load` is replaced only by tests.
 */
export async function loadClientNode(why: string, load: () => Promise<ClientNode> = () => import('@kubernetes/client-node')): Promise<ClientNode> {
  try {
    return await load();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Only client-node itself missing; a broken install inside it keeps Node's own error.
    if (err.code !== 'ERR_MODULE_NOT_FOUND' || !err.message.includes("'@kubernetes/client-node'")) throw e;
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { devDependencies?: Record<string, string> };
    const version = pkg.devDependencies?.['@kubernetes/client-node'] ?? '2';
    throw new Error(`${why}, which kube-replicator runs through @kubernetes/client-node, and that is not installed (a production install leaves it out): `
      + `install it next to kube-replicator (npm install --no-save @kubernetes/client-node@${version}), `
      + 'or use a kubeconfig with a token, a token file or a client certificate', { cause: e });
  }
}
