// What the release workflow checks before it builds anything (tools/release-info.ts): on this repository as it is,
// and on the ways a release goes wrong.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseImage, changelogSection, githubOutputs, releaseInfo } from './release-info.ts';
import { packageVersion, repoRoot } from './set-version.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('release info', () => {
  it('this repository, tagged with its version, is releasable: notes, base image, prerelease', () => {
    const v = packageVersion();
    const info = releaseInfo(`v${v}`);
    expect(info).toMatchObject({ version: v, prerelease: String(v.includes('-')), 'base-name': expect.stringMatching(/^docker\.io\/library\/node:24\./) });
    expect(info['base-digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.notes).toBe(changelogSection(readFileSync(join(repoRoot, 'CHANGELOG.md'), 'utf8'), v));
    expect(info.notes.length).toBeGreaterThan(0);
  });

  it('refuses a tag that is not the package version, or not a version', () => {
    expect(() => releaseInfo('v99.0.0')).toThrow(`tag v99.0.0, but package.json says ${packageVersion()}`);
    expect(() => releaseInfo(packageVersion())).toThrow('is not v<version>');
  });

  it('the Dockerfile\'s stages share one base image, pinned by digest', () => {
    expect(baseImage(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).name).toBe('docker.io/library/node:24.21.0-bookworm-slim');
    expect(baseImage(`FROM --platform=$BUILDPLATFORM ghcr.io/x/y:1@${digest} AS build\nFROM ghcr.io/x/y:1@${digest}\n`))
      .toEqual({ name: 'ghcr.io/x/y:1', digest });
    expect(() => baseImage(`FROM node:24@${digest} AS build\nFROM node:24@sha256:${'cd'.repeat(32)}\n`)).toThrow('the stages name 2 base images');
    expect(() => baseImage('FROM node:24-slim\n')).toThrow('node:24-slim is not pinned by digest');
  });

  it('the notes are the version\'s section, up to the next section or the links', () => {
    const text = '## [Unreleased]\n\n- next\n\n## [1.1.0] - 2030-02-01\n\n### Fixed\n\n- a\n\n## [1.0.0] - 2030-01-01\n\n- b\n\n[1.1.0]: https://x\n';
    expect(changelogSection(text, '1.1.0')).toBe('### Fixed\n\n- a');
    expect(changelogSection(text, '1.0.0')).toBe('- b');
    expect(() => changelogSection(text, '1.2.0')).toThrow('no section "## [1.2.0]"');
    expect(() => changelogSection('## [2.0.0] - 2030-03-01\n\n## [1.0.0]\n- b\n', '2.0.0')).toThrow('the section of 2.0.0 is empty');
  });

  it('writes GitHub step outputs, multi-line values between a delimiter', () => {
    const out = githubOutputs({ version: '1.0.0', notes: '- a\n- b' });
    const m = /^version=1\.0\.0\nnotes<<(\S+)\n- a\n- b\n(\S+)\n$/.exec(out);
    expect(m?.[1]).toBe(m?.[2]);
  });
});
