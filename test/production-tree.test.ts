// The image's contents, built here the way the Dockerfile builds them (no Docker engine runs on this machine): `npm ci`
// with the Dockerfile's own flags, and dist compiled with its source maps. The tree has no @kubernetes/client-node, no
// devDependency and no native code (the Dockerfile installs it on the build machine's platform for every target);
// the operator starts from it with the image's Node flags, becomes ready and replicates; and a kubeconfig with an
// exec plugin, which client-node would run, fails saying what to install instead of ERR_MODULE_NOT_FOUND.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageNodeFlags } from '../bench/image-node-flags.ts';
import { freePort } from '../e2e/support/process.ts';
import { compileDist, dockerfileInstallFlags, installProductionTree } from '../tools/production-tree.ts';
import { repoRoot } from '../tools/set-version.ts';
import { chartIdentity, withChartArgs } from './support/chart-identity.ts';
import { admin, b64, createNamespace, decoded, deleteNamespace, maybe, uniqueName, waitFor } from './support/cluster.ts';

const M = 'replicator.v1.mittwald.de/';
const c = admin();
const src = uniqueName('prod-src');
const dst = uniqueName('prod-dst');
const app = mkdtempSync(join(tmpdir(), 'kube-replicator-production-'));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
let operator: ChildProcess | undefined;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Runs `node <imageNodeFlags> <args>` in the production tree, as the image's ENTRYPOINT does. */
function node(args: string[], flags = imageNodeFlags) {
  return spawn(process.execPath, [...flags, ...args], { cwd: app, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function outputOf(p: ChildProcess): { text: () => string; exit: Promise<number | null> } {
  let text = '';
  p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { text: () => text, exit: new Promise((r) => p.on('exit', (code) => r(code))) };
}

beforeAll(async () => {
  installProductionTree(app);
  cpSync(join(repoRoot, 'crds'), join(app, 'crds'), { recursive: true });
  compileDist(join(app, 'dist'));
  await createNamespace(c, src);
  await createNamespace(c, dst);
}, 300_000);

afterAll(async () => {
  operator?.kill('SIGKILL');
  await deleteNamespace(c, src, false);
  await deleteNamespace(c, dst, false);
  rmSync(app, { recursive: true, force: true });
});

describe('the production tree', () => {
  it('installs with the Dockerfile\'s flags: the dependencies, without client-node, devDependencies or native code', () => {
    expect(dockerfileInstallFlags()).toEqual(expect.arrayContaining(['--omit=dev', '--omit=optional']));
    const modules = join(app, 'node_modules');
    expect(Object.keys(pkg.dependencies).filter((d) => !existsSync(join(modules, d)))).toEqual([]);
    expect(pkg.devDependencies['@kubernetes/client-node']).toBeDefined();
    expect(existsSync(join(modules, '@kubernetes'))).toBe(false);
    expect(Object.keys(pkg.devDependencies).filter((d) => existsSync(join(modules, d)))).toEqual([]);
    // Compiled addons are per platform: one here would be wrong in the other platform's image.
    expect(files(modules).filter((f) => f.endsWith('.node') || f.endsWith('binding.gyp'))).toEqual([]);
  });

  it('stack traces name the src/*.ts lines (source maps, with the image\'s flags)', async () => {
    const script = "import { parseArgs } from './dist/cli/flags.js'; try { parseArgs(['run', '--no-such-flag']); } catch (e) { console.log(e.stack); }";
    const mapped = outputOf(node(['--input-type=module', '-e', script]));
    expect(await mapped.exit).toBe(0);
    expect(mapped.text()).toMatch(/flag provided but not defined: -no-such-flag\n\s+at .*src\/cli\/flags\.ts:\d+:\d+/);
    // Without the flag the same trace names the compiled file: the flag is what maps it.
    const unmapped = outputOf(node(['--input-type=module', '-e', script], []));
    expect(await unmapped.exit).toBe(0);
    expect(unmapped.text()).toMatch(/at .*dist\/cli\/flags\.js:\d+:\d+/);
  });

  it('the operator starts from it with the image\'s flags, becomes ready, replicates, and stops on SIGTERM', async () => {
    const identity = await chartIdentity();
    const port = await freePort();
    operator = node(['dist/main.js', 'run', `--kubeconfig=${await identity.kubeconfigFile()}`, `--status-addr=127.0.0.1:${port}`, ...withChartArgs([], identity)]);
    const out = outputOf(operator);
    await waitFor(`the operator to be ready (output so far: ${out.text().slice(-500)})`,
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 60_000);

    await c.core.createNamespacedSecret({ namespace: src, body: { metadata: { name: 'from-the-image', annotations: { [`${M}replicate-to`]: dst } }, data: { token: b64('production') } } });
    const replica = await waitFor('the replica', () => maybe(c.core.readNamespacedSecret({ namespace: dst, name: 'from-the-image' })));
    expect(decoded(replica.data)).toEqual({ token: 'production' });

    operator.kill('SIGTERM');
    expect(await out.exit).toBe(0);
    expect(out.text()).not.toMatch(/ERR_MODULE_NOT_FOUND|client-node/);
  });

  it('a kubeconfig with an exec plugin fails at once, saying what to install', async () => {
    const kubeconfig = join(app, 'exec.kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'cloud', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token'] } } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'cloud' } }],
    }));
    const out = outputOf(node(['dist/main.js', 'run', `--kubeconfig=${kubeconfig}`, '--status-addr=127.0.0.1:0']));
    expect(await out.exit).toBe(1);
    const errors = out.text().trim().split('\n').map((l) => JSON.parse(l) as { level: string; message: string }).filter((l) => l.level === 'error');
    expect(errors.map((e) => e.message)).toEqual([
      'user "cloud" of the kubeconfig authenticates with an exec plugin, which kube-replicator runs through @kubernetes/client-node, '
      + 'and that is not installed (a production install leaves it out): install it next to kube-replicator '
      + `(npm install --no-save @kubernetes/client-node@${pkg.devDependencies['@kubernetes/client-node']}), or use a kubeconfig with a token, a token file or a client certificate`,
    ]);
  });
});
