// Finds the control-plane binaries the way envtest does (TEST_ASSET_<NAME>, then $KUBEBUILDER_ASSETS),
// and otherwise builds them from pinned Go modules into a cache folder (tools/build-testbin.sh).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const binaryNames = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kubectl', 'helm'] as const;
export type BinaryName = (typeof binaryNames)[number];
export type Binaries = Record<BinaryName, string>;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function assetVar(name: string): string {
  return `TEST_ASSET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function fromEnvironment(name: BinaryName): string | undefined {
  const explicit = process.env[assetVar(name)];
  if (explicit && existsSync(explicit)) return explicit;
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (assets && existsSync(join(assets, name))) return join(assets, name);
  return undefined;
}

let cached: Binaries | undefined;

/** Resolves every binary, building the missing ones once (minutes when cold, instant when cached). */
export function resolveBinaries(): Binaries {
  if (cached) return cached;
  const found = Object.fromEntries(binaryNames.map((n) => [n, fromEnvironment(n)]));
  if (binaryNames.some((n) => !found[n])) {
    const out = execFileSync('bash', [join(repoRoot, 'tools', 'build-testbin.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const dir = out.trim().split('\n').pop()!;
    for (const n of binaryNames) found[n] ??= join(dir, n);
  }
  cached = found as Binaries;
  return cached;
}
