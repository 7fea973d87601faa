// The production tree as the Dockerfile builds it, for what ships it outside the image (tools/krew-archive.ts) and
// for test/production-tree.test.ts: `npm ci` with the Dockerfile's own flags, read from the Dockerfile so the two
// cannot drift, and dist/ compiled with its source maps.
import { cpSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './set-version.ts';

/** The Dockerfile's production install: `npm ci` with the flags written there. */
export function dockerfileInstallFlags(root = repoRoot): string[] {
  const m = /npm ci (--omit=dev[^&\\\n]*)/.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  if (!m) throw new Error('the Dockerfile has no `npm ci --omit=dev ...` line');
  return m[1]!.trim().split(/\s+/);
}

/** package.json, its lock and the production node_modules in `dir`, installed with the Dockerfile's flags. */
export function installProductionTree(dir: string, root = repoRoot): void {
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(root, f), join(dir, f));
  // npm's cache usually holds every package already (the repository's own npm ci); an outer `npm test` or
  // `npm run`'s settings (npm_config_*) stay out of this install.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  execFileSync('npm', ['ci', ...dockerfileInstallFlags(root), '--prefer-offline'], { cwd: dir, env, stdio: 'pipe' });
}

/** dist/ compiled into `outDir` by the repository's TypeScript, as `npm run build` does (source maps included). */
export function compileDist(outDir: string, root = repoRoot): void {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'pipe' });
}
