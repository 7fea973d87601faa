// The linters the tests run (actionlint, promtool, the Dockerfile linter, ...) and Krew: each built once from its pinned
// Go module in tools/linters/<name>/ by tools/build-linters.sh, then taken from the cache.
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A cold build takes minutes (promtool is the largest): give the caller's beforeAll this much. */
export const linterBuildTimeoutMs = 20 * 60_000;

/** The path of a linter's binary, building it first when it is not cached. */
export function linterPath(name: string): string {
  const out = execFileSync('bash', [join(repoRoot, 'tools', 'build-linters.sh'), name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = out.trim().split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`tools/build-linters.sh printed no path for ${name}`);
  return line.slice(name.length + 1);
}
