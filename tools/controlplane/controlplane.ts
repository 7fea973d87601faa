// A real local Kubernetes control plane: etcd, kube-apiserver (RBAC, client certificates, ServiceAccount
// tokens, an audit log of writes) and kube-controller-manager, on loopback ports picked here.
// It only ever talks to what it started, and stops only the processes it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveBinaries, type Binaries } from './binaries.ts';
import { Pki } from './pki.ts';

export const kcmControllers = [
  'namespace-controller',
  'garbage-collector-controller',
  'clusterrole-aggregation-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
];

export interface ControlPlaneOptions {
  /** Start kube-controller-manager (namespace deletion, GC, aggregated roles). Default true. */
  controllerManager?: boolean;
  /** etcd compaction interval of kube-apiserver; short values make 410 Gone reproducible. */
  compactionInterval?: string;
  startTimeoutMs?: number;
  /** Called with one line per process event (start, ready, exit). */
  log?: (line: string) => void;
}

/** What another process needs to use a running control plane (written as JSON next to the kubeconfig). */
export interface ControlPlaneInfo {
  dir: string;
  server: string;
  kubeconfig: string;
  pkiDir: string;
  auditLog: string;
  ownerPid: number;
}

interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or the deadline passes; the last error is reported. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>, failFast?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const dead = failFast?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await delay(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}

export function kubeconfigYaml(server: string, caFile: string, user: { certFile?: string; keyFile?: string; token?: string }, name = 'admin'): string {
  const auth = user.token
    ? `    token: ${user.token}\n`
    : `    client-certificate: ${user.certFile}\n    client-key: ${user.keyFile}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- name: kube-replicator-local
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: ${name}
  user:
${auth}contexts:
- name: kube-replicator-local
  context:
    cluster: kube-replicator-local
    user: ${name}
current-context: kube-replicator-local
`;
}

export class ControlPlane {
  readonly dir: string;
  readonly pki: Pki;
  readonly binaries: Binaries;
  server = '';
  kubeconfig = '';
  auditLog: string;
  private children: Child[] = [];
  private reaper?: ChildProcess;
  private stopping?: Promise<void>;
  private readonly opts: Required<Omit<ControlPlaneOptions, 'log'>> & Pick<ControlPlaneOptions, 'log'>;

  constructor(opts: ControlPlaneOptions = {}) {
    this.opts = { controllerManager: true, compactionInterval: '5m', startTimeoutMs: 90_000, ...opts };
    this.binaries = resolveBinaries();
    this.dir = mkdtempSync(join(tmpdir(), 'kube-replicator-cp-'));
    this.pki = new Pki(join(this.dir, 'pki'));
    this.auditLog = join(this.dir, 'audit.log');
  }

  get info(): ControlPlaneInfo {
    return { dir: this.dir, server: this.server, kubeconfig: this.kubeconfig, pkiDir: this.pki.dir, auditLog: this.auditLog, ownerPid: process.pid };
  }

  async start(): Promise<this> {
    try {
      this.startReaper();
      this.pki.create();
      const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      await this.startEtcd(etcdPort, peerPort);
      await this.startApiServer(apiPort, etcdPort);
      if (this.opts.controllerManager) await this.startControllerManager();
      writeFileSync(join(this.dir, 'controlplane.json'), JSON.stringify(this.info, null, 2));
      return this;
    } catch (e) {
      const logs = this.children.map((c) => `--- ${c.name} (last lines)\n${this.tail(c.name)}`).join('\n');
      await this.stop();
      throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
    }
  }

  private startReaper(): void {
    this.reaper = spawn('bash', [join(here, 'reaper.sh'), String(process.pid), this.dir], { detached: true, stdio: 'ignore' });
    this.reaper.unref();
  }

  private spawnChild(name: string, bin: string, args: string[]): Child {
    const out = openSync(join(this.dir, `${name}.log`), 'a');
    const proc = spawn(bin, args, { stdio: ['ignore', out, out], cwd: this.dir });
    appendFileSync(join(this.dir, 'pids'), `${proc.pid}\n`);
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const child = { name, proc, exited };
    this.children.push(child);
    this.opts.log?.(`started ${name} (pid ${proc.pid})`);
    return child;
  }

  private tail(name: string, lines = 15): string {
    const file = join(this.dir, `${name}.log`);
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  private exitedEarly(child: Child): () => string | undefined {
    return () => (child.proc.exitCode !== null || child.proc.signalCode !== null
      ? `${child.name} exited (${child.proc.exitCode ?? child.proc.signalCode})` : undefined);
  }

  private async startEtcd(port: number, peerPort: number): Promise<void> {
    const client = `http://127.0.0.1:${port}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const etcd = this.spawnChild('etcd', this.binaries.etcd, [
      '--name=kr', `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=kr=${peer}`,
      '--unsafe-no-fsync=true', '--log-level=warn',
    ]);
    await until('etcd /health', this.opts.startTimeoutMs, async () => {
      const res = await fetch(`${client}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }, this.exitedEarly(etcd));
    this.etcdUrl = client;
  }

  private etcdUrl = '';

  private async startApiServer(port: number, _etcdPort: number): Promise<void> {
    const p = this.pki;
    this.server = `https://127.0.0.1:${port}`;
    const auditPolicy = join(this.dir, 'audit-policy.yaml');
    // Writes only, at Metadata level: who wrote what, never a request body (so never a Secret value).
    writeFileSync(auditPolicy, `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`);
    const api = this.spawnChild('kube-apiserver', this.binaries['kube-apiserver'], [
      `--etcd-servers=${this.etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
      `--cert-dir=${p.dir}`, `--tls-cert-file=${p.serverCert}`, `--tls-private-key-file=${p.serverKey}`,
      `--client-ca-file=${p.caCert}`,
      `--service-account-issuer=${this.server}`, `--service-account-key-file=${p.saPub}`,
      `--service-account-signing-key-file=${p.saKey}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24', '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      `--etcd-compaction-interval=${this.opts.compactionInterval}`,
      // PodTemplates skip the watch cache so that tests can watch from a compacted revision and see 410 Gone.
      '--watch-cache-sizes=podtemplates#0',
      // Never rotated during a run (the default rotates at 100 MB): readers keep a byte offset into this one file.
      `--audit-policy-file=${auditPolicy}`, `--audit-log-path=${this.auditLog}`, '--audit-log-maxsize=4096', '--audit-log-maxbackup=1',
      '--v=0',
    ]);
    const admin = this.pki.clientCert('admin', ['system:masters']);
    this.kubeconfig = join(this.dir, 'admin.kubeconfig');
    writeFileSync(this.kubeconfig, kubeconfigYaml(this.server, p.caCert, admin), { mode: 0o600 });
    const tls = { ca: p.read(p.caCert), cert: p.read(admin.certFile), key: p.read(admin.keyFile) };
    await until('kube-apiserver /readyz', this.opts.startTimeoutMs, async () => (await httpsGet(`${this.server}/readyz`, tls)).status === 200, this.exitedEarly(api));
    await until('namespace default', this.opts.startTimeoutMs, async () => (await httpsGet(`${this.server}/api/v1/namespaces/default`, tls)).status === 200, this.exitedEarly(api));
  }

  private async startControllerManager(): Promise<void> {
    const p = this.pki;
    const kcm = this.spawnChild('kube-controller-manager', this.binaries['kube-controller-manager'], [
      `--kubeconfig=${this.kubeconfig}`, '--leader-elect=false', '--secure-port=0',
      `--controllers=${kcmControllers.join(',')}`,
      `--root-ca-file=${p.caCert}`, `--service-account-private-key-file=${p.saKey}`,
      '--use-service-account-credentials=false', '--v=0',
    ]);
    // Ready when it does its job: the aggregated admin role has rules and a canary namespace can be deleted.
    const admin = this.adminTls();
    await until('aggregated ClusterRole admin', this.opts.startTimeoutMs, async () => {
      const r = await httpsGet(`${this.server}/apis/rbac.authorization.k8s.io/v1/clusterroles/admin`, admin);
      return r.status === 200 && (JSON.parse(r.body).rules ?? []).length > 0;
    }, this.exitedEarly(kcm));
    const canary = `canary-${process.pid}`;
    await httpsRequest('POST', `${this.server}/api/v1/namespaces`, admin, { metadata: { name: canary } });
    await until('canary namespace deletion', this.opts.startTimeoutMs, async () => {
      await httpsRequest('DELETE', `${this.server}/api/v1/namespaces/${canary}`, admin);
      return (await httpsGet(`${this.server}/api/v1/namespaces/${canary}`, admin)).status === 404;
    }, this.exitedEarly(kcm));
  }

  adminTls(): TlsMaterial {
    const p = this.pki;
    return { ca: p.read(p.caCert), cert: p.read(join(p.dir, 'client-admin.crt')), key: p.read(join(p.dir, 'client-admin.key')) };
  }

  /** A kubeconfig for a non-admin user authenticated by a client certificate (CN = user, O = groups). */
  userKubeconfig(user: string, groups: string[] = []): string {
    const creds = this.pki.clientCert(user, groups);
    const file = join(this.dir, `user-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}.kubeconfig`);
    writeFileSync(file, kubeconfigYaml(this.server, this.pki.caCert, creds, user), { mode: 0o600 });
    return file;
  }

  /** Stops the processes this control plane started (newest first), then removes its folder. */
  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const child of [...this.children].reverse()) {
        if (child.proc.exitCode === null && child.proc.signalCode === null) {
          child.proc.kill('SIGTERM');
          const timer = setTimeout(() => child.proc.kill('SIGKILL'), 10_000);
          await child.exited;
          clearTimeout(timer);
        }
        this.opts.log?.(`stopped ${child.name}`);
      }
      this.reaper?.kill('SIGKILL');
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

export async function httpsRequest(method: string, url: string, tls: TlsMaterial, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolveReq, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (tls.token) headers.authorization = `Bearer ${tls.token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload) headers['content-type'] = 'application/json';
    const req = request(url, { method, ca: tls.ca, cert: tls.cert, key: tls.key, headers, timeout: 10_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolveReq({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export const httpsGet = (url: string, tls: TlsMaterial) => httpsRequest('GET', url, tls);

/** Starts a control plane and returns it once every component is ready. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  return new ControlPlane(opts).start();
}
