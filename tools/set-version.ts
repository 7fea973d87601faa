// One version wherever a release names it: package.json and its lock, the chart's version and appVersion, the
// kustomize image tag and version label, the image and chart references in README.md, and the Dockerfile's build
// comment; the CHANGELOG's Unreleased section becomes the new version's.
//
//   npm version 0.2.0          npm bumps package.json and the lock, runs this as its `version` script (which stages
//                              the files it changed), then commits and tags v0.2.0
//   npm run set-version 0.2.0  the same by hand, package.json included, nothing staged
//
// tools/set-version.test.ts fails when the files disagree (a version bumped by hand in one place).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const V = String.raw`\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?`;
export const isVersion = (v: string) => new RegExp(`^${V}$`).test(v);

/** A place naming the version: `VERSION` in `source` marks it (the rest is matched literally as a regex). */
interface Site { file: string; what: string; pattern: RegExp }
const site = (file: string, what: string, source: string, flags = ''): Site =>
  ({ file, what, pattern: new RegExp(source.replace('VERSION', `(?<v>${V})`), `gd${flags}`) });

export const sites: Site[] = [
  site('package.json', 'version', '^  "version": "VERSION"', 'm'),
  site('package-lock.json', 'the version of the package and of its root entry', String.raw`"name": "kube-replicator",\n\s+"version": "VERSION"`),
  site('charts/kube-replicator/Chart.yaml', 'version', '^version: VERSION$', 'm'),
  site('charts/kube-replicator/Chart.yaml', 'appVersion', '^appVersion: VERSION$', 'm'),
  site('config/base/deployment.yaml', 'the image tag', String.raw`image: ghcr\.io/kube-replicator/kube-replicator:VERSION$`, 'm'),
  site('config/base/kustomization.yaml', 'the version label', String.raw`app\.kubernetes\.io/version: "VERSION"`),
  site('README.md', 'image and chart references', String.raw`ghcr\.io/kube-replicator/(?:charts/)?kube-replicator:VERSION\b`),
  site('README.md', 'helm install --version', String.raw`charts/kube-replicator --version VERSION\b`),
  site('README.md', 'the signing identity', String.raw`release\.yml@refs/tags/vVERSION\b`),
  site('README.md', 'the Krew manifest URL', String.raw`releases/download/vVERSION/replicator\.yaml\b`),
  site('plugins/replicator.yaml', 'the Krew plugin version', '^  version: vVERSION$', 'm'),
  site('plugins/replicator.yaml', 'the Krew archive', String.raw`releases/download/vVERSION/kubectl-replicator-\{os\}-\{arch\}\.tar\.gz`),
  site('Dockerfile', 'the build command', String.raw`docker build -t ghcr\.io/kube-replicator/kube-replicator:VERSION \.`),
];

const read = (root: string, file: string) => readFileSync(join(root, file), 'utf8');
export const packageVersion = (root = repoRoot) => (JSON.parse(read(root, 'package.json')) as { version: string }).version;

/** Every site with the versions it names (none: the site is gone, which is a problem too). */
export function versionsAt(root = repoRoot): { file: string; what: string; versions: string[] }[] {
  return sites.map((s) => ({ file: s.file, what: s.what, versions: [...read(root, s.file).matchAll(s.pattern)].map((m) => m.groups!.v!) }));
}

/** What disagrees with package.json's version, one line each; empty when everything agrees. */
export function versionProblems(root = repoRoot): string[] {
  const want = packageVersion(root);
  return versionsAt(root).flatMap(({ file, what, versions }) =>
    !versions.length ? [`${file}: ${what} not found`]
      : versions.filter((v) => v !== want).map((v) => `${file}: ${what} is ${v}, package.json says ${want}`));
}

function replaceAt(text: string, pattern: RegExp, version: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    const [start, end] = m.indices!.groups!.v!;
    out += text.slice(last, start) + version;
    last = end;
  }
  return out + text.slice(last);
}

const changelogUrl = 'https://github.com/kube-replicator/kube-replicator';

/**
 * The Unreleased section becomes `version`'s, dated `today`, under a new empty Unreleased, and the compare links
 * follow. A CHANGELOG that already has the version is left as it is (the command may run twice).
 */
export function promoteUnreleased(text: string, version: string, today: string): string {
  if (text.includes(`\n## [${version}]`)) return text;
  const m = /\n## \[Unreleased\]\n([\s\S]*?)(?=\n## \[|\n\[Unreleased\]:|$)/.exec(text);
  if (!m) throw new Error('CHANGELOG.md has no "## [Unreleased]" section');
  if (!m[1]!.trim()) throw new Error(`CHANGELOG.md: nothing under [Unreleased] to release as ${version}`);
  const link = /^\[Unreleased\]: \S+\/compare\/v(.+)\.\.\.HEAD$/m.exec(text);
  if (!link) throw new Error('CHANGELOG.md has no "[Unreleased]: .../compare/v<previous>...HEAD" link');
  const withSection = text.replace(m[0], `\n## [Unreleased]\n\n## [${version}] - ${today}\n${m[1]}`);
  return withSection.replace(link[0],
    `[Unreleased]: ${changelogUrl}/compare/v${version}...HEAD\n[${version}]: ${changelogUrl}/compare/v${link[1]}...v${version}`);
}

/** Sets `version` everywhere (package.json and its lock too); returns the files it changed. */
export function setVersion(version: string, root = repoRoot, today = new Date().toISOString().slice(0, 10)): string[] {
  if (!isVersion(version)) throw new Error(`"${version}" is not a version (1.2.3 or 1.2.3-rc.1, without a "v")`);
  const changed: string[] = [];
  const write = (file: string, text: string) => {
    if (text === read(root, file)) return;
    writeFileSync(join(root, file), text);
    changed.push(file);
  };
  for (const file of new Set(sites.map((s) => s.file))) {
    write(file, sites.filter((s) => s.file === file).reduce((text, s) => replaceAt(text, s.pattern, version), read(root, file)));
  }
  write('CHANGELOG.md', promoteUnreleased(read(root, 'CHANGELOG.md'), version, today));
  const problems = versionProblems(root);
  if (problems.length) throw new Error(`after setting ${version}:\n${problems.join('\n')}`);
  return changed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // npm's `version` script: npm has bumped package.json and the lock, and commits what is staged.
  const underNpmVersion = process.env.npm_lifecycle_event === 'version';
  const version = process.argv[2] ?? (underNpmVersion ? packageVersion() : undefined);
  if (!version) {
    console.error('usage: npm run set-version <version>   (or npm version <version>)');
    process.exit(2);
  }
  try {
    const changed = setVersion(version);
    if (underNpmVersion && changed.length) execFileSync('git', ['add', '--', ...changed], { cwd: repoRoot, stdio: 'inherit' });
    console.log(changed.length ? `${version}: ${changed.join(', ')}` : `${version}: every file already says so`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
