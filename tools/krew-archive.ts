// Krew archives of `kubectl replicator`, one per platform, and the Krew manifest that names them, filled in from the
// template plugins/replicator.yaml. An archive holds everything the plugin runs on, Node.js included, so a user needs
// nothing installed (Krew's guidelines ask plugins not to depend on one):
//
//   kubectl-replicator   a POSIX sh launcher: the bundled node, with --enable-source-maps, on dist/kubectl-replicator.js
//   node/bin/node        Node.js for the archive's platform, the version package.json pins (the npm `node` package),
//   node/LICENSE         with its license
//   dist/                the compiled CLI with its source maps
//   node_modules/        the production dependencies, installed with the Dockerfile's flags (tools/production-tree.ts)
//   package.json, LICENSE
//
//   node tools/krew-archive.ts --out DIR
//       the release: linux and darwin, amd64 and arm64, each with the official Node.js tarball from nodejs.org,
//       checked against its SHASUMS256.txt before use
//   node tools/krew-archive.ts --out DIR --node "$(node -p 'require("fs").realpathSync(process.execPath)')"
//       one platform (this machine's, or --platform os/arch) with the given Node binary: tests and local builds
//
// Writes DIR/kubectl-replicator-<os>-<arch>.tar.gz for each platform and DIR/replicator.yaml, the manifest.
// The production dependencies are plain JavaScript (test/production-tree.test.ts checks there is no native code), so
// one install serves every platform: only node/ differs.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, createReadStream, createWriteStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { isMap, isNode, parseDocument } from 'yaml';
import { compileDist, installProductionTree } from './production-tree.ts';
import { isVersion, packageVersion, repoRoot } from './set-version.ts';

/** A Krew platform (Go's os/arch names, which Krew's selectors match) and Node.js's name for it. */
export interface Platform { os: string; arch: string; node: string }
export const platforms: Platform[] = [
  { os: 'linux', arch: 'amd64', node: 'linux-x64' },
  { os: 'linux', arch: 'arm64', node: 'linux-arm64' },
  { os: 'darwin', arch: 'amd64', node: 'darwin-x64' },
  { os: 'darwin', arch: 'arm64', node: 'darwin-arm64' },
];
export const archiveName = (p: Platform) => `kubectl-replicator-${p.os}-${p.arch}.tar.gz`;
export const manifestName = 'replicator.yaml';

/** The platform this process runs on, when it is one of the four. */
export function hostPlatform(): Platform {
  const node = `${process.platform}-${process.arch}`;
  const p = platforms.find((q) => q.node === node);
  if (!p) throw new Error(`no Krew archive is built for ${node} (only ${platforms.map((q) => q.node).join(', ')})`);
  return p;
}

/** The Node.js version the repository runs on: the npm `node` package's, pinned exactly in package.json. */
export function pinnedNodeVersion(root = repoRoot): string {
  const v = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> }).devDependencies?.node;
  if (!v || !isVersion(v)) throw new Error(`package.json pins no exact version of the npm package "node" (found ${v ?? 'none'})`);
  return v;
}

/**
 * Follows Krew's symlink ($KREW_ROOT/bin/kubectl-replicator → the store) to the real file, whose folder holds the
 * rest. readlink without -f: macOS before 12.3 has no -f.
 */
export const launcher = `#!/bin/sh
# kubectl replicator, from its Krew archive: Node.js and the plugin sit beside this file. Krew puts a symlink to it
# on PATH, so follow links to the real file first.
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=$(dirname "$self")/$link ;;
  esac
done
dir=$(cd "$(dirname "$self")" && pwd -P)
exec "$dir/node/bin/node" --enable-source-maps "$dir/dist/kubectl-replicator.js" "$@"
`;

const sha256 = async (file: string) => {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
};

/**
 * The official Node.js binary (and its LICENSE) for `p`, from `dist` (nodejs.org's layout), extracted into `dir`.
 * The tarball's sha256 must be the one SHASUMS256.txt gives, or nothing is extracted. `cache` keeps verified
 * tarballs across runs.
 */
export async function officialNode(p: Platform, version: string, dir: string, cache: string, dist = 'https://nodejs.org/dist'): Promise<{ binary: string; license: string }> {
  const base = `${dist.replace(/\/$/, '')}/v${version}`;
  const get = async (url: string) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${r.statusText}`);
    return Buffer.from(await r.arrayBuffer());
  };
  const stem = `node-v${version}-${p.node}`;
  const sums = (await get(`${base}/SHASUMS256.txt`)).toString('utf8');
  const want = new RegExp(`^([0-9a-f]{64})  ${stem.replaceAll('.', '\\.')}\\.tar\\.gz$`, 'm').exec(sums)?.[1];
  if (!want) throw new Error(`${base}/SHASUMS256.txt lists no ${stem}.tar.gz`);
  mkdirSync(cache, { recursive: true });
  const tarball = join(cache, `${stem}.tar.gz`);
  if (!existsSync(tarball) || await sha256(tarball) !== want) {
    const body = await get(`${base}/${stem}.tar.gz`);
    const got = createHash('sha256').update(body).digest('hex');
    if (got !== want) throw new Error(`${base}/${stem}.tar.gz has sha256 ${got}, but SHASUMS256.txt says ${want}: not used`);
    writeFileSync(tarball, body);
  }
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dir, `${stem}/bin/node`, `${stem}/LICENSE`]);
  return { binary: join(dir, stem, 'bin', 'node'), license: join(dir, stem, 'LICENSE') };
}

/** Every path under `dir`, for the checks below. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => [join(dir, e.name), ...(e.isDirectory() ? walk(join(dir, e.name)) : [])]);
}

/**
 * `stage` as a gzipped tar at `file`: entries sorted, owned by 0:0, one mtime, so the same inputs give the same
 * bytes. Only files and folders: Krew extracts nothing else (a symlink fails the install). GNU tar for --sort.
 */
async function tarGz(stage: string, file: string, mtime: number): Promise<void> {
  const links = walk(stage).filter((f) => lstatSync(f).isSymbolicLink());
  if (links.length) throw new Error(`Krew cannot install symlinks; found ${links.map((f) => relative(stage, f)).join(', ')}`);
  const tar = spawn('tar', ['--create', '--format=gnu', '--sort=name', `--mtime=@${mtime}`, '--owner=0', '--group=0', '--numeric-owner',
    '--hard-dereference', '--mode=u+rw,go-w,a+rX', '-C', stage, '-f', '-', ...readdirSync(stage).sort()], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => tar.on('close', r));
  // zlib writes no name or time into the gzip header.
  await pipeline(tar.stdout, createGzip({ level: 9 }), createWriteStream(file));
  const code = await exited;
  if (code !== 0) throw new Error(`tar exited ${code}: ${err.trim()} (GNU tar is needed: on macOS, gtar)`);
}

/** The manifest for `version` from the template: its one platform entry repeated per built archive, filled in. */
export function manifest(template: string, version: string, built: { platform: Platform; sha256: string }[]): string {
  const doc = parseDocument(template);
  if (doc.errors.length) throw new Error(`plugins/${manifestName}: ${doc.errors[0]!.message}`);
  const want = `v${version}`;
  if (doc.getIn(['spec', 'version']) !== want) throw new Error(`plugins/${manifestName} has spec.version ${String(doc.getIn(['spec', 'version']))}, not ${want} (npm run set-version ${version})`);
  const entries = (doc.toJS() as { spec: { platforms: unknown[] } }).spec.platforms;
  if (entries.length !== 1) throw new Error(`plugins/${manifestName} should have one platform entry, the template for all, not ${entries.length}`);
  const fill = (v: unknown, values: Record<string, string>): unknown =>
    typeof v === 'string' ? v.replace(/\{(os|arch|sha256)\}/g, (_, k: string) => values[k]!)
      : Array.isArray(v) ? v.map((x) => fill(x, values))
        : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, values)])) : v;
  const filled = built.map(({ platform: p, sha256: sum }) => {
    const entry = fill(entries[0], { os: p.os, arch: p.arch, sha256: sum }) as { uri?: string; sha256?: string; selector?: { matchLabels?: Record<string, string> } };
    // The template's uri must name the archive this script writes, for this version.
    const uri = `https://github.com/kube-replicator/kube-replicator/releases/download/${want}/${archiveName(p)}`;
    if (entry.uri !== uri) throw new Error(`plugins/${manifestName}: the uri for ${p.os}/${p.arch} would be ${entry.uri}, not ${uri}`);
    if (entry.sha256 !== sum || entry.selector?.matchLabels?.os !== p.os || entry.selector.matchLabels.arch !== p.arch) {
      throw new Error(`plugins/${manifestName}: the platform entry should have matchLabels {os: "{os}", arch: "{arch}"} and sha256 "{sha256}"`);
    }
    return entry;
  });
  doc.setIn(['spec', 'platforms'], doc.createNode(filled));
  // The template's own comments (on the document, or on its first key when no blank line follows them) are about
  // the template: replaced by what this file is.
  const first = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  if (isNode(first)) first.commentBefore = null;
  doc.commentBefore = ` Krew manifest of kubectl replicator ${want}, written by tools/krew-archive.ts from plugins/${manifestName}.\n`
    + ` kubectl krew install --manifest-url=https://github.com/kube-replicator/kube-replicator/releases/download/${want}/${manifestName}`;
  return doc.toString({ lineWidth: 0 });
}

export interface BuildOptions {
  out: string;
  /** The Node.js binary to bundle (one platform only); otherwise the official one is downloaded per platform. */
  node?: string;
  platforms: Platform[];
  /** Where Node.js tarballs come from (nodejs.org's layout), and where verified ones are kept. */
  nodeDist?: string;
  cache?: string;
  /** The archives' entries' mtime, in seconds (default: SOURCE_DATE_EPOCH, else the HEAD commit's time). */
  mtime?: number;
  root?: string;
}

function defaultMtime(root: string): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return 0; // not a git checkout
  }
}

/** Builds the archives and the manifest into `out`; returns what it wrote. */
export async function build(o: BuildOptions): Promise<{ archives: Record<string, string>; manifest: string }> {
  const root = o.root ?? repoRoot;
  const version = packageVersion(root);
  const nodeVersion = pinnedNodeVersion(root);
  if (o.node && o.platforms.length !== 1) throw new Error('--node bundles one binary: give one --platform (default: this machine\'s)');
  // Checked before anything is built, so a mistake in the template fails at once.
  manifest(readFileSync(join(root, 'plugins', manifestName), 'utf8'), version, o.platforms.map((platform) => ({ platform, sha256: '0'.repeat(64) })));
  const work = mkdtempSync(join(tmpdir(), 'krew-archive-'));
  try {
    // Node.js first: a tarball that fails its checksum stops the build before anything else runs.
    const runtimes = new Map<Platform, { binary: string; license?: string }>();
    for (const p of o.platforms) {
      runtimes.set(p, o.node ? { binary: realpathSync(o.node), license: nodeLicenseBeside(realpathSync(o.node), p) }
        : await officialNode(p, nodeVersion, join(work, 'node', p.node), o.cache ?? join(work, 'cache'), o.nodeDist));
    }
    const app = join(work, 'app');
    mkdirSync(app);
    installProductionTree(app, root);
    compileDist(join(app, 'dist'), root);
    const mtime = o.mtime ?? defaultMtime(root);
    mkdirSync(o.out, { recursive: true });
    const archives: Record<string, string> = {};
    const built: { platform: Platform; sha256: string }[] = [];
    for (const p of o.platforms) {
      const stage = join(work, 'stage', `${p.os}-${p.arch}`);
      mkdirSync(join(stage, 'node', 'bin'), { recursive: true });
      writeFileSync(join(stage, 'kubectl-replicator'), launcher);
      chmodSync(join(stage, 'kubectl-replicator'), 0o755);
      cpSync(join(app, 'dist'), join(stage, 'dist'), { recursive: true });
      // node_modules/.bin holds symlinks (Krew cannot install them) to executables nothing here runs.
      cpSync(join(app, 'node_modules'), join(stage, 'node_modules'), { recursive: true, filter: (f) => relative(join(app, 'node_modules'), f) !== '.bin' });
      cpSync(join(app, 'package.json'), join(stage, 'package.json'));
      cpSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
      const runtime = runtimes.get(p)!;
      cpSync(runtime.binary, join(stage, 'node', 'bin', 'node'));
      chmodSync(join(stage, 'node', 'bin', 'node'), 0o755);
      if (runtime.license) cpSync(runtime.license, join(stage, 'node', 'LICENSE'));
      const file = join(o.out, archiveName(p));
      await tarGz(stage, file, mtime);
      archives[`${p.os}/${p.arch}`] = file;
      built.push({ platform: p, sha256: await sha256(file) });
    }
    const manifestFile = join(o.out, manifestName);
    writeFileSync(manifestFile, manifest(readFileSync(join(root, 'plugins', manifestName), 'utf8'), version, built));
    return { archives, manifest: manifestFile };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Node.js's LICENSE for a binary laid out as in its tarball (<prefix>/bin/node beside <prefix>/LICENSE), or as the npm
 * `node` package installs it (node/bin/node, with node/node_modules/node-<os>-<arch>/LICENSE).
 */
function nodeLicenseBeside(binary: string, p: Platform): string | undefined {
  const prefix = join(binary, '..', '..');
  return [join(prefix, 'LICENSE'), join(prefix, 'node_modules', `node-${p.node}`, 'LICENSE')].find((f) => existsSync(f));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const usage = 'usage: node tools/krew-archive.ts --out DIR [--platform os/arch ...] [--node BINARY] [--node-dist URL] [--cache DIR]';
  try {
    const { values } = parseArgs({
      options: {
        out: { type: 'string' }, platform: { type: 'string', multiple: true }, node: { type: 'string' },
        'node-dist': { type: 'string' }, cache: { type: 'string' },
      },
    });
    if (!values.out) throw new Error(usage);
    const chosen = values.platform?.map((name) => {
      const p = platforms.find((q) => `${q.os}/${q.arch}` === name);
      if (!p) throw new Error(`unknown platform ${name} (one of ${platforms.map((q) => `${q.os}/${q.arch}`).join(', ')})`);
      return p;
    }) ?? (values.node ? [hostPlatform()] : platforms);
    const r = await build({ out: values.out, node: values.node, platforms: chosen, nodeDist: values['node-dist'], cache: values.cache });
    for (const file of [...Object.values(r.archives), r.manifest]) console.log(file);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
