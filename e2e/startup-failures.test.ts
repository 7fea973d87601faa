// A start that cannot succeed ends with one error that says why, and a non-zero exit: bad credentials (401), a missing
// permission (403), an API server that cannot be reached. A SIGTERM while the caches sync ends the process at once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeconfigYaml } from '../tools/controlplane/controlplane.ts';
import { Pki } from '../tools/controlplane/pki.ts';
import { admin, controlPlaneInfo, createNamespace, deleteNamespace, serviceAccountKubeConfig, uniqueName, waitFor } from '../test/support/cluster.ts';
import { freePort } from './support/process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const c = admin();
const ns = uniqueName('startup');

beforeAll(async () => {
  await createNamespace(c, ns);
  await c.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'no-rights' } } });
});
afterAll(async () => {
  await deleteNamespace(c, ns, false);
});

function kubeconfigFile(name: string, text: string): string {
  const file = join(controlPlaneInfo().dir, `${uniqueName(name)}.kubeconfig`);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** The operator CLI as a Pod runs it; resolves with its exit code and output once it exits. */
function operator(kubeconfig: string, flags: string[] = []) {
  const p = spawn(process.execPath, [join(root, 'src', 'main.ts'), 'run', `--kubeconfig=${kubeconfig}`, '--status-addr=127.0.0.1:0', '--log-format=plain', ...flags], {
    env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  p.stdout.on('data', (d: Buffer) => (output += d.toString()));
  p.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; output: string }>((r) => p.on('exit', (code) => r({ code, output })));
  return { process: p, exited, output: () => output };
}

describe('a start that cannot succeed', () => {
  it('bad credentials (401): exits 1 saying the credentials were rejected', async () => {
    const info = controlPlaneInfo();
    const file = kubeconfigFile('bad-token', kubeconfigYaml(info.server, new Pki(info.pkiDir).caCert, { token: 'not-a-token' }, 'nobody'));
    const { code, output } = await operator(file, ['--cache-sync-timeout=3s']).exited;
    expect(code).toBe(1);
    expect(output).toContain('rejected the credentials (HTTP 401)');
    expect(output).toContain('caches did not sync within 3 s');
  });

  it('a missing permission (403): exits 1 naming the permission the API server refused', async () => {
    const file = kubeconfigFile('no-rights', (await serviceAccountKubeConfig(ns, 'no-rights')).exportConfig());
    const { code, output } = await operator(file, ['--cache-sync-timeout=3s']).exited;
    expect(code).toBe(1);
    expect(output).toContain('a permission is missing (HTTP 403)');
    expect(output).toMatch(/cannot list resource \\?"namespaces\\?"/);
    expect(output.match(/level=error msg="cannot list Namespace/g)).toHaveLength(1); // said once, not per retry
  });

  it('an API server that cannot be reached: exits 1 saying so', async () => {
    const info = controlPlaneInfo();
    const file = kubeconfigFile('unreachable', kubeconfigYaml(`https://127.0.0.1:${await freePort()}`, new Pki(info.pkiDir).caCert, { token: 'x' }, 'nobody'));
    const { code, output } = await operator(file, ['--cache-sync-timeout=3s']).exited;
    expect(code).toBe(1);
    expect(output).toContain('cannot reach the API server at https://127.0.0.1:');
  });

  it('a CA that does not verify the API server: exits 1 pointing at the kubeconfig\'s certificate-authority', async () => {
    const info = controlPlaneInfo();
    const dir = mkdtempSync(join(info.dir, 'other-ca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'), '-days', '1', '-subj', '/CN=other-ca'], { stdio: 'ignore' });
    const file = kubeconfigFile('other-ca', kubeconfigYaml(info.server, join(dir, 'ca.pem'), { token: 'x' }, 'nobody'));
    const { code, output } = await operator(file, ['--cache-sync-timeout=3s']).exited;
    expect(code).toBe(1);
    expect(output).toContain(`TLS to ${info.server} failed`);
    expect(output).toContain("check the kubeconfig's certificate-authority");
    expect(output).not.toContain('--use-system-ca');
  });

  it('SIGTERM while the caches sync: the process ends at once, with 0', async () => {
    const info = controlPlaneInfo();
    const file = kubeconfigFile('sigterm', kubeconfigYaml(`https://127.0.0.1:${await freePort()}`, new Pki(info.pkiDir).caCert, { token: 'x' }, 'nobody'));
    const op = operator(file, ['--cache-sync-timeout=10m']);
    await waitFor('the first failed list', () => op.output().includes('cannot list'));
    op.process.kill('SIGTERM');
    const { code, output } = await op.exited;
    expect(code).toBe(0);
    expect(output).toContain('shutting down');
  });
});
