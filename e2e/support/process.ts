// The built operator as a separate process, and kubectl, as a user would run them.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveBinaries } from '../../tools/controlplane/binaries.ts';
import { replicatorAuditEntries, type AuditEntry } from '../../tools/controlplane/audit-log.ts';
import { controlPlaneInfo, waitFor } from '../../test/support/cluster.ts';
import { chartIdentity, withChartArgs } from '../../test/support/chart-identity.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function kubectl(args: string[], input?: string, kubeconfig = controlPlaneInfo().kubeconfig): string {
  // HOME and the discovery cache point into the control plane's folder: never the user's ~/.kube.
  const dir = controlPlaneInfo().dir;
  const env = { PATH: process.env.PATH, KUBECONFIG: kubeconfig, HOME: dir, KUBECACHEDIR: join(dir, 'kubectl-cache') };
  return execFileSync(resolveBinaries().kubectl, args, { input, encoding: 'utf8', env, stdio: ['pipe', 'pipe', 'pipe'] });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export class OperatorProcess {
  proc?: ChildProcess;
  readonly logFile: string;
  statusUrl = '';
  private readonly args: string[];
  private readonly kubeconfig?: string;
  private readonly nodeArgs: string[];

  /**
   * `kubeconfig`: the identity the operator runs as, with `args` as given. Default: the Helm chart's ServiceAccount
   * and RBAC writer (test/support/chart-identity.ts), never admin. `nodeArgs` go to Node itself (e.g. a heap limit).
   */
  /** More environment (e.g. POD_NAMESPACE: what a Pod's operator knows as its own namespace). */
  env: Record<string, string> = {};

  constructor(name: string, args: string[] = [], kubeconfig?: string, nodeArgs: string[] = []) {
    this.logFile = join(controlPlaneInfo().dir, `operator-${name}-${process.pid}.log`);
    this.args = args;
    this.kubeconfig = kubeconfig;
    this.nodeArgs = nodeArgs;
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.statusUrl = `http://127.0.0.1:${port}`;
    const identity = this.kubeconfig ? undefined : await chartIdentity();
    const kubeconfig = this.kubeconfig ?? await identity!.kubeconfigFile();
    const args = identity ? withChartArgs(this.args, identity) : this.args;
    const out = openSync(this.logFile, 'a');
    this.proc = spawn(process.execPath, [...this.nodeArgs, join(root, 'src', 'main.ts'), 'run', `--kubeconfig=${kubeconfig}`, `--status-addr=127.0.0.1:${port}`, '--log-level=debug', ...args], {
      stdio: ['ignore', out, out], env: { PATH: process.env.PATH, ...this.env },
    });
    closeSync(out);
    await waitFor('the operator to be ready', async () => (await fetch(`${this.statusUrl}/readyz`)).status === 200, 60_000);
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill(signal);
    return exited;
  }

  logs(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

/** Counts write requests made by kube-replicator (its User-Agent) in the API server's audit log. */
export class AuditWrites {
  private offset = 0;
  /** Starts counting from now. */
  mark(): void {
    this.offset = statSync(controlPlaneInfo().auditLog).size;
  }

  /** The audit entries of kube-replicator's completed writes since mark(). */
  private ours(): AuditEntry[] {
    return replicatorAuditEntries(controlPlaneInfo().auditLog, this.offset);
  }

  /** Every write by any kube-replicator process since mark(), with who (User-Agent, authenticated and impersonated user) and when. */
  entries(): { verb: string; resource: string; namespace?: string; userAgent: string; user: string; impersonatedUser?: string; at: number }[] {
    return this.ours().map((e) => ({ verb: e.verb, resource: e.objectRef?.resource ?? '', namespace: e.objectRef?.namespace, userAgent: e.userAgent!, user: e.user.username,
      impersonatedUser: e.impersonatedUser?.username, at: Date.parse(e.requestReceivedTimestamp) }));
  }

  /** `subresource` is set for writes to a subresource (e.g. `status`), absent otherwise. */
  writes(): { verb: string; resource: string; subresource?: string; namespace?: string; name?: string }[] {
    return this.ours().map((e) => ({
      verb: e.verb, resource: e.objectRef?.resource ?? '', namespace: e.objectRef?.namespace, name: e.objectRef?.name,
      ...(e.objectRef?.subresource ? { subresource: e.objectRef.subresource } : {}),
    }));
  }
}
