// `npm run dev`: a local control plane with the operator running on it, until Ctrl-C.
// It never reads the user's kubeconfig: the operator gets the kubeconfig of the control plane started here.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from './controlplane/controlplane.ts';
import { installCrds } from './controlplane/crds.ts';
import { httpsRequest } from './controlplane/controlplane.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const running: { cp?: Awaited<ReturnType<typeof startControlPlane>>; operator?: ReturnType<typeof spawn> } = {};
let stopping = false;

/** Stops what has been started so far; registered before anything starts, so Ctrl-C is safe at any moment. */
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const { cp, operator } = running;
  if (operator && operator.exitCode === null && operator.signalCode === null) {
    const exited = new Promise((r) => operator.once('exit', r));
    operator.kill('SIGTERM');
    await exited;
  }
  await cp?.stop(); // a control plane still starting is stopped by its reaper when this process exits
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

process.stderr.write('starting etcd, kube-apiserver and kube-controller-manager (the first run builds them: ~10-25 min) ...\n');
const cp = await startControlPlane({ log: (l) => process.stderr.write(`  ${l}\n`) });
running.cp = cp;
if (stopping) await cp.stop();
await installCrds(cp);
// The operator's own namespace, as in a Pod: it publishes its settings there, where `kubectl replicator explain`
// finds them (and, as always, it is protected).
const ownNamespace = 'kube-replicator';
const created = await httpsRequest('POST', `${cp.server}/api/v1/namespaces`, cp.adminTls(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ownNamespace } });
if (created.status !== 201 && created.status !== 409) throw new Error(`creating namespace ${ownNamespace}: HTTP ${created.status}`);
const bin = dirname(cp.binaries.kubectl);
// `kubectl replicator …` (the kubectl plugin) from these sources, for the printed PATH.
const plugins = join(cp.dir, 'plugins');
mkdirSync(plugins, { recursive: true });
writeFileSync(join(plugins, 'kubectl-replicator'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'src', 'kubectl-replicator.ts')}" "$@"\n`, { mode: 0o755 });
const statusAddr = process.env.KR_STATUS_ADDR ?? '127.0.0.1:9102';

const operator = spawn(process.execPath, [join(root, 'src', 'main.ts'), 'run', `--kubeconfig=${cp.kubeconfig}`, '--log-format=plain', `--status-addr=${statusAddr}`, ...process.argv.slice(2)], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, KUBECONFIG: cp.kubeconfig, POD_NAMESPACE: ownNamespace },
});
running.operator = operator;

process.stdout.write(`
control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s; kube-replicator is running on it (status on http://${statusAddr}).
In another terminal:

export KUBECONFIG=${cp.kubeconfig}
export PATH=${bin}:${plugins}:$PATH

kubectl create namespace demo
kubectl create secret generic demo -n default --from-literal=greeting=hello
kubectl annotate secret demo -n default replicator.v1.mittwald.de/replicate-to='.*'
kubectl get secrets -A -l kube-replicator.io/replica=true   # demo/demo: kube-system and friends are protected
kubectl replicator explain secret default/demo             # where it went, and why not into the others

Ctrl-C stops the operator and the control plane.
`);

operator.on('exit', (code) => {
  if (!stopping) {
    process.stderr.write(`kube-replicator exited (${code}); stopping the control plane\n`);
    void shutdown(code ?? 1);
  }
});
