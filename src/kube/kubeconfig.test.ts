import { describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterAccess, kubeAccessFromFiles, kubeAccessFromText, loadClientNode, loadKubeAccess } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function config(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://api.example:6443/' }, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    'current-context': 'ctx',
    clusters: [{ name: 'cl', cluster }],
    users: [{ name: 'me', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'cl', user: 'me' } }],
    ...extra,
  });
}

const folder = () => mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));

describe('kubeconfig', () => {
  it('a kubeconfig file that does not exist is named, not a raw ENOENT', async () => {
    await expect(kubeAccessFromFiles(['/nonexistent/kube/config'])).rejects.toThrow('kubeconfig file /nonexistent/kube/config does not exist');
  });

  it('reads the server, inline CA, client certificate and key; no Authorization header', async () => {
    const a = await kubeAccessFromText(config(
      { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      { server: 'https://api.example:6443/', 'certificate-authority-data': b64('CA'), 'tls-server-name': 'kubernetes' },
    ));
    expect(a.server).toBe('https://api.example:6443');
    const tls = await a.tls();
    expect([tls.ca?.toString(), tls.cert?.toString(), tls.key?.toString(), tls.servername, tls.rejectUnauthorized]).toEqual(['CA', 'CERT', 'KEY', 'kubernetes', true]);
    expect(await a.authorization()).toBeUndefined();
  });

  it('resolves relative file paths against the kubeconfig file, and insecure-skip-tls-verify turns verification off', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'ca.crt'), 'CA-FILE');
    writeFileSync(join(dir, 'token'), 'tok-from-file\n');
    const file = join(dir, 'config');
    writeFileSync(file, config({ tokenFile: 'token' }, { server: 'https://x', 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true }));
    const a = await kubeAccessFromFiles([file]);
    expect((await a.tls()).ca?.toString()).toBe('CA-FILE');
    expect((await a.tls()).rejectUnauthorized).toBe(false);
    expect(await a.authorization()).toBe('Bearer tok-from-file');
  });

  it('a token wins over basic auth; basic auth is encoded', async () => {
    expect(await (await kubeAccessFromText(config({ token: 't1', username: 'u', password: 'p' }))).authorization()).toBe('Bearer t1');
    expect(await (await kubeAccessFromText(config({ username: 'u', password: 'p' }))).authorization()).toBe(`Basic ${b64('u:p')}`);
  });

  it('merges several files as client-go does: the first current-context and the first entry of a name win', async () => {
    const dir = folder();
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    writeFileSync(one, JSON.stringify({ 'current-context': 'ctx', users: [{ name: 'me', user: { token: 'first' } }] }));
    writeFileSync(two, config({ token: 'second' }, { server: 'https://from-two' }, { 'current-context': 'other' }));
    const a = await kubeAccessFromFiles([one, two]);
    expect(a.server).toBe('https://from-two');
    expect(await a.authorization()).toBe('Bearer first');
  });

  it('--context picks another context than the current one, and names one that does not exist', async () => {
    const file = join(folder(), 'config');
    writeFileSync(file, config({ token: 't' }, { server: 'https://current' }, {
      clusters: [{ name: 'cl', cluster: { server: 'https://current' } }, { name: 'staging', cluster: { server: 'https://staging' } }],
      contexts: [{ name: 'ctx', context: { cluster: 'cl', user: 'me' } }, { name: 'stage', context: { cluster: 'staging', user: 'me' } }],
    }));
    expect((await kubeAccessFromFiles([file])).server).toBe('https://current');
    expect((await loadKubeAccess(file, {}, 'stage')).server).toBe('https://staging');
    await expect(loadKubeAccess(file, {}, 'nope')).rejects.toThrow('context "nope" is not defined');
  });

  it('says what is missing instead of guessing a server', async () => {
    await expect(kubeAccessFromText('{}')).rejects.toThrow('has no current-context');
    await expect(kubeAccessFromText(config({}, {}, { contexts: [] }))).rejects.toThrow('context "ctx" is not defined');
    await expect(kubeAccessFromText(config({}, {}))).rejects.toThrow('cluster "cl" has no server');
    await expect(kubeAccessFromText('- a list')).rejects.toThrow('is not a mapping');
    await expect(kubeAccessFromText('a: [')).rejects.toThrow('is not valid YAML');
    // The parser would quote the offending lines: a credential must not reach the message.
    const broken = kubeAccessFromText('users:\n- name: me\n  user:\n    token: sup3r-s3cret\n   bad: [\n');
    await expect(broken).rejects.toThrow('is not valid YAML');
    await expect(broken).rejects.not.toThrow('sup3r-s3cret');
    await expect(loadKubeAccess(undefined, { KUBECONFIG: join(folder(), 'absent') })).rejects.toThrow('no Kubernetes configuration found');
  });

  it('in a Pod: the service host (IPv6 bracketed), the mounted CA and a token file re-read after a minute', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'ca.crt'), 'POD-CA');
    writeFileSync(join(dir, 'token'), 'pod-token');
    const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(a.server).toBe('https://[fd00::1]:443');
    expect((await a.tls()).ca?.toString()).toBe('POD-CA');
    expect(await a.authorization()).toBe('Bearer pod-token');
    writeFileSync(join(dir, 'token'), 'rotated');
    expect(await a.authorization()).toBe('Bearer pod-token'); // cached for up to a minute, as client-go does
    jest.useFakeTimers({ now: Date.now() + 61_000 });
    try {
      expect(await a.authorization()).toBe('Bearer rotated');
    } finally {
      jest.useRealTimers();
    }
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '8443' }, dir).server).toBe('https://10.0.0.1:8443');
  });

  it('hands exec plugins to client-node, with the command resolved against the kubeconfig', async () => {
    const dir = folder();
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\'\n', { mode: 0o755 });
    const file = join(dir, 'config');
    writeFileSync(file, config({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './plugin.sh', interactiveMode: 'Never' } }));
    const a = await kubeAccessFromFiles([file]);
    expect(await a.authorization()).toBe('Bearer from-exec');
  });

  it('without client-node (a production install), an exec kubeconfig fails saying what to install', async () => {
    // Node's own error for a package that is not installed (test/production-tree.test.ts meets the real one).
    const notInstalled = Object.assign(new Error("Cannot find package '@kubernetes/client-node' imported from /app/dist/kube/kubeconfig.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
    const err = await loadClientNode('user "eks" of the kubeconfig authenticates with an exec plugin', () => Promise.reject(notInstalled)).catch((e: Error) => e);
    expect((err as Error).message).toBe('user "eks" of the kubeconfig authenticates with an exec plugin, which kube-replicator runs through @kubernetes/client-node, '
      + 'and that is not installed (a production install leaves it out): install it next to kube-replicator '
      + `(npm install --no-save @kubernetes/client-node@${pkg.devDependencies['@kubernetes/client-node']}), or use a kubeconfig with a token, a token file or a client certificate`);
    // Something missing inside an installed client-node is not reported as client-node missing.
    const inside = Object.assign(new Error("Cannot find package 'undici' imported from /app/node_modules/@kubernetes/client-node/dist/index.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(loadClientNode('x', () => Promise.reject(inside))).rejects.toBe(inside);
  });
});
