// The kubectl plugin as Krew installs it, with Krew itself (v0.4.3, built from tools/linters/krew) and the test
// control plane's kubectl. tools/krew-archive.ts builds this machine's archive with the repository's own Node binary
// and writes the manifest; Krew validates the manifest, checks the archive's sha256 and installs it under a KREW_ROOT
// and HOME of the test's own (never ~/.krew or a kubeconfig of the machine's); kubectl finds `kubectl replicator` on
// PATH. The release's path, where Node.js is downloaded per platform and checked against SHASUMS256.txt, runs against
// a stand-in for nodejs.org on loopback that serves a small stand-in for node: four archives, a manifest Krew accepts,
// and a tarball that does not match its checksum refused. In the integration project because Krew is built from Go;
// kubectl talks to no API server here (it only hands `replicator …` to the plugin).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { archiveName, hostPlatform, launcher, manifestName, pinnedNodeVersion, platforms } from '../tools/krew-archive.ts';
import { linterBuildTimeoutMs, linterPath } from '../tools/linters.ts';
import { resolveBinaries } from '../tools/controlplane/binaries.ts';
import { packageVersion, repoRoot } from '../tools/set-version.ts';

const work = mkdtempSync(join(tmpdir(), 'kube-replicator-krew-'));
const version = packageVersion();
const nodeVersion = pinnedNodeVersion();
const host = hostPlatform();
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const out = { local: join(work, 'local'), release: join(work, 'release'), tampered: join(work, 'tampered') };
let krew = '';
let kubectl = '';
let nodejsOrg: Server | undefined;
const built = {} as Record<keyof typeof out, { status: number | null; stderr: string }>;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** tools/krew-archive.ts as the release runs it; asynchronous, so the stand-in nodejs.org here can answer it. */
function krewArchive(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const p = spawn(process.execPath, [join(repoRoot, 'tools', 'krew-archive.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stderr })));
}

/**
 * nodejs.org's layout (/v<version>/SHASUMS256.txt and the tarballs), each "node" a script that prints its platform and
 * arguments; under /tampered the checksum listed for darwin-arm64 is not its tarball's.
 */
function standInNodejsOrg(): Promise<string> {
  const files = new Map<string, Buffer>();
  const sums: string[] = [];
  for (const p of platforms) {
    const stem = `node-v${nodeVersion}-${p.node}`;
    mkdirSync(join(work, 'dist', stem, 'bin'), { recursive: true });
    writeFileSync(join(work, 'dist', stem, 'bin', 'node'), `#!/bin/sh\necho "stand-in node ${p.node}: $*"\n`);
    chmodSync(join(work, 'dist', stem, 'bin', 'node'), 0o755);
    writeFileSync(join(work, 'dist', stem, 'LICENSE'), `Node.js license (${p.node})\n`);
    execFileSync('tar', ['-czf', join(work, 'dist', `${stem}.tar.gz`), '-C', join(work, 'dist'), stem]);
    const body = readFileSync(join(work, 'dist', `${stem}.tar.gz`));
    files.set(`/v${nodeVersion}/${stem}.tar.gz`, body);
    sums.push(`${createHash('sha256').update(body).digest('hex')}  ${stem}.tar.gz`, `${'1'.repeat(64)}  ${stem}.tar.xz`);
  }
  const text = `${sums.join('\n')}\n`;
  files.set(`/v${nodeVersion}/SHASUMS256.txt`, Buffer.from(text));
  const tamperedStem = `node-v${nodeVersion}-darwin-arm64.tar.gz`;
  files.set(`/tampered/v${nodeVersion}/SHASUMS256.txt`, Buffer.from(text.replace(new RegExp(`^[0-9a-f]{64}(?=  ${tamperedStem.replaceAll('.', '\\.')}$)`, 'm'), 'f'.repeat(64))));
  for (const [path, body] of [...files]) if (path.endsWith('.tar.gz')) files.set(`/tampered${path}`, body);
  nodejsOrg = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body);
  });
  return new Promise((resolve) => nodejsOrg!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(nodejsOrg!.address() as AddressInfo).port}`)));
}

/** A Krew installation of its own: KREW_ROOT and HOME in the test's folder. */
function krewRoot(name: string): { root: string; env: NodeJS.ProcessEnv } {
  const root = join(work, name);
  mkdirSync(join(root, 'home'), { recursive: true });
  // A `node` first on PATH that fails: the plugin must run the Node.js of its archive, not one it finds.
  mkdirSync(join(root, 'shadow'));
  writeFileSync(join(root, 'shadow', 'node'), '#!/bin/sh\necho "node from PATH was run" >&2\nexit 97\n');
  chmodSync(join(root, 'shadow', 'node'), 0o755);
  return {
    root,
    env: {
      KREW_ROOT: join(root, 'krew'), HOME: join(root, 'home'), KUBECONFIG: join(root, 'home', 'no-kubeconfig'), KREW_NO_UPGRADE_CHECK: '1',
      PATH: `${join(root, 'krew', 'bin')}:${join(root, 'shadow')}:/usr/local/bin:/usr/bin:/bin`,
    },
  };
}

const runIn = (env: NodeJS.ProcessEnv, bin: string, args: string[]) => {
  const r = spawnSync(bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const install = (env: NodeJS.ProcessEnv, manifest: string, archive: string) => runIn(env, krew, ['install', `--manifest=${manifest}`, `--archive=${archive}`]);

/** The archive's entries: type ('-' file, 'd' folder, anything else is neither), mode, mtime and path. */
function entries(archive: string): { type: string; mode: string; mtime: string; path: string }[] {
  return execFileSync('tar', ['-tvzf', archive, '--full-time', '--numeric-owner'], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n').map((l) => {
    const [mode, , , date, time, ...path] = l.split(/\s+/);
    return { type: mode![0]!, mode: mode!.slice(1), mtime: `${date} ${time}`, path: path.join(' ').replace(/\/$/, '') };
  });
}

beforeAll(async () => {
  krew = linterPath('krew');
  kubectl = resolveBinaries().kubectl;
  const dist = await standInNodejsOrg();
  // The repository's Node (the npm `node` package), as a local build bundles it.
  built.local = await krewArchive(['--out', out.local, '--node', realpathSync(process.execPath)]);
  built.release = await krewArchive(['--out', out.release, '--node-dist', dist]);
  built.tampered = await krewArchive(['--out', out.tampered, '--node-dist', `${dist}/tampered`]);
}, linterBuildTimeoutMs);

afterAll(async () => {
  await new Promise((r) => (nodejsOrg ? nodejsOrg.close(r) : r(undefined)));
  rmSync(work, { recursive: true, force: true });
});

describe('the Krew plugin', () => {
  it('Krew installs the archive built with this machine\'s Node, and kubectl runs it as `kubectl replicator`', () => {
    expect(built.local).toEqual({ status: 0, stderr: '' });
    const { root, env } = krewRoot('installed');
    const r = install(env, join(out.local, manifestName), join(out.local, archiveName(host)));
    expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: expect.stringContaining('Installed plugin: replicator') });
    // Krew links its bin folder to the plugin's folder in its store; the launcher follows the link.
    const store = join(root, 'krew', 'store', 'replicator', `v${version}`);
    expect(lstatSync(join(root, 'krew', 'bin', 'kubectl-replicator')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'krew', 'bin', 'kubectl-replicator'))).toBe(join(store, 'kubectl-replicator'));

    expect(runIn(env, kubectl, ['replicator', 'version'])).toEqual({ status: 0, stdout: `kube-replicator ${version}\n`, stderr: '' });
    // Bare, the plugin prints its usage rather than starting an operator.
    const usage = runIn(env, kubectl, ['replicator']);
    expect(usage).toMatchObject({ status: 0, stderr: '' });
    expect(usage.stdout).toContain('explain <kind> <namespace>/<name>');
    // The Node.js it runs is the one the repository pins, which is also the image's.
    expect(runIn(env, join(store, 'node', 'bin', 'node'), ['--version']).stdout).toBe(`v${nodeVersion}\n`);
    expect(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`^FROM node:${nodeVersion.replaceAll('.', '\\.')}-`, 'm'));
  });

  it('the archive holds the launcher, dist, Node.js and the production dependencies, no devDependency, only plain files', () => {
    const list = entries(join(out.local, archiveName(host)));
    const paths = list.map((e) => e.path);
    expect([...new Set(paths.map((p) => p.split('/')[0]))].sort()).toEqual(['LICENSE', 'dist', 'kubectl-replicator', 'node', 'node_modules', 'package.json']);
    expect(paths).toEqual(expect.arrayContaining(['dist/kubectl-replicator.js', 'dist/kubectl-replicator.js.map', 'dist/main.js', 'node/bin/node', 'node/LICENSE']));
    expect(Object.keys(pkg.dependencies).filter((d) => !paths.includes(`node_modules/${d}/package.json`))).toEqual([]);
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['@kubernetes/client-node', 'typescript', 'jest']));
    expect(Object.keys(pkg.devDependencies).filter((d) => paths.some((p) => p.startsWith(`node_modules/${d}/`)))).toEqual([]);
    expect(paths.filter((p) => /^node_modules\/(@kubernetes|typescript|jest|@jest)\//.test(p) || p.endsWith('.node'))).toEqual([]);
    // Krew extracts files and folders only: a symlink or hard link would fail the install.
    expect(list.filter((e) => e.type !== '-' && e.type !== 'd').map((e) => e.path)).toEqual([]);
    expect(list.filter((e) => ['kubectl-replicator', 'node/bin/node'].includes(e.path)).map((e) => [e.path, e.mode])).toEqual([['kubectl-replicator', 'rwxr-xr-x'], ['node/bin/node', 'rwxr-xr-x']]);
    // Reproducible: one mtime for every entry.
    expect(new Set(list.map((e) => e.mtime)).size).toBe(1);
  });

  it('the release\'s manifest names all four platforms, each with its archive\'s uri and sha256, and Krew installs from it', () => {
    expect(built.release).toEqual({ status: 0, stderr: '' });
    const manifest = parse(readFileSync(join(out.release, manifestName), 'utf8')) as { metadata: { name: string }; spec: { version: string; platforms: unknown[] } };
    expect(manifest.metadata.name).toBe('replicator');
    expect(manifest.spec.version).toBe(`v${version}`);
    expect(readdirSync(out.release).sort()).toEqual([...platforms.map(archiveName), manifestName].sort());
    expect(manifest.spec.platforms).toEqual(platforms.map((p) => ({
      selector: { matchLabels: { os: p.os, arch: p.arch } },
      uri: `https://github.com/kube-replicator/kube-replicator/releases/download/v${version}/kubectl-replicator-${p.os}-${p.arch}.tar.gz`,
      sha256: sha256(join(out.release, archiveName(p))),
      bin: 'kubectl-replicator',
    })));
    // Each archive carries its own platform's Node.js.
    for (const p of platforms) {
      expect(execFileSync('tar', ['-xzOf', join(out.release, archiveName(p)), 'node/bin/node'], { encoding: 'utf8' })).toContain(`stand-in node ${p.node}:`);
    }

    // Krew validates the whole manifest, picks this machine's entry, and checks the archive against its sha256.
    const { root, env } = krewRoot('release');
    const wrong = install(env, join(out.release, manifestName), join(out.local, archiveName(host)));
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/checksum does not match/);
    expect(install(env, join(out.release, manifestName), join(out.release, archiveName(host)))).toMatchObject({ status: 0 });
    // The launcher, reached through Krew's symlink, runs its archive's node with source maps on the plugin's entry point.
    const store = realpathSync(join(root, 'krew', 'store', 'replicator', `v${version}`));
    expect(runIn(env, kubectl, ['replicator', 'explain', 'secret', 'a/b'])).toEqual({
      status: 0, stderr: '', stdout: `stand-in node ${host.node}: --enable-source-maps ${store}/dist/kubectl-replicator.js explain secret a/b\n`,
    });
  });

  it('a Node.js tarball that does not match SHASUMS256.txt is refused, and nothing is written', () => {
    expect(built.tampered.status).toBe(1);
    expect(built.tampered.stderr).toMatch(new RegExp(`/tampered/v${nodeVersion.replaceAll('.', '\\.')}/node-v${nodeVersion.replaceAll('.', '\\.')}-darwin-arm64\\.tar\\.gz has sha256 [0-9a-f]{64}, but SHASUMS256\\.txt says f{64}: not used`));
    expect(existsSync(out.tampered) ? readdirSync(out.tampered) : []).toEqual([]);
  });

  it('the launcher is POSIX sh (shellcheck)', () => {
    const shellcheck = spawnSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).stdout.trim();
    // .ci/run installs it.
    if (!shellcheck && process.env.CI) throw new Error('shellcheck is required in CI (apt-get install shellcheck)');
    if (!shellcheck) return;
    const r = spawnSync(shellcheck, ['--shell=sh', '-'], { input: launcher, encoding: 'utf8' });
    expect({ status: r.status, out: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, out: '' });
    expect(execFileSync('tar', ['-xzOf', join(out.local, archiveName(host)), 'kubectl-replicator'], { encoding: 'utf8' })).toBe(launcher);
  });
});
