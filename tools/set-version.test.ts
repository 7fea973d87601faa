// One version everywhere: the files agree today (a version bumped by hand in one place fails here), and
// tools/set-version.ts moves all of them, and the CHANGELOG, in a copy of the repository.
import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageVersion, promoteUnreleased, repoRoot, setVersion, sites, versionProblems, versionsAt } from './set-version.ts';

/** The files set-version touches, copied into a fresh folder. */
function copyOfRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'set-version-'));
  for (const file of new Set([...sites.map((s) => s.file), 'CHANGELOG.md'])) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
  return dir;
}

describe('the version', () => {
  it('is the same in every file that names it', () => {
    expect(versionProblems()).toEqual([]);
    // Each site is found, so a reworded line cannot drop out of the check unnoticed.
    for (const s of versionsAt()) expect({ ...s, found: s.versions.length > 0 }).toMatchObject({ found: true });
  });

  it('a file bumped by hand is named', () => {
    const dir = copyOfRepo();
    const chart = join(dir, 'charts/kube-replicator/Chart.yaml');
    writeFileSync(chart, readFileSync(chart, 'utf8').replace(/^appVersion: .*$/m, 'appVersion: 9.9.9'));
    expect(versionProblems(dir)).toEqual([`charts/kube-replicator/Chart.yaml: appVersion is 9.9.9, package.json says ${packageVersion()}`]);
  });

  it('set-version moves every file to the new version, and the Unreleased notes under it', () => {
    const dir = copyOfRepo();
    const before = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
    const unreleased = /## \[Unreleased\]\n([\s\S]*?)\n## \[/.exec(before)![1]!.trim();
    const changed = setVersion('7.8.9-rc.1', dir, '2030-01-02');
    expect(changed.sort()).toEqual([...new Set([...sites.map((s) => s.file), 'CHANGELOG.md'])].sort());
    expect(versionProblems(dir)).toEqual([]);
    expect(packageVersion(dir)).toBe('7.8.9-rc.1');
    expect(JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')).packages[''].version).toBe('7.8.9-rc.1');
    const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## [Unreleased]\n\n## [7.8.9-rc.1] - 2030-01-02\n\n${unreleased}\n`);
    expect(changelog).toMatch(/^\[Unreleased\]: https:\/\/github.com\/kube-replicator\/kube-replicator\/compare\/v7\.8\.9-rc\.1\.\.\.HEAD$/m);
    expect(changelog).toMatch(new RegExp(`^\\[7\\.8\\.9-rc\\.1\\]: \\S+/compare/v${packageVersion().replaceAll('.', '\\.')}\\.\\.\\.v7\\.8\\.9-rc\\.1$`, 'm'));
    // Run again (npm version, then by hand): nothing more changes.
    expect(setVersion('7.8.9-rc.1', dir, '2030-01-03')).toEqual([]);
  });

  it('refuses what is not a version, and a release without notes', () => {
    expect(() => setVersion('v1.2.3', copyOfRepo())).toThrow('"v1.2.3" is not a version');
    const empty = '# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2030-01-01\n\n- x\n\n[Unreleased]: https://x/compare/v1.0.0...HEAD\n';
    expect(() => promoteUnreleased(empty, '1.1.0', '2030-02-01')).toThrow('nothing under [Unreleased] to release as 1.1.0');
  });
});

