// The release cannot run here (no GitHub runner, no Docker engine, no registry), so what it runs is linted: the
// workflows by actionlint (with shellcheck on their scripts), the Dockerfile by the checks `docker build --check`
// runs (BuildKit's own linter, tools/linters/dockerfile-lint). Each linter is also shown a mistake, so a linter that
// checks nothing cannot pass for a clean file. In the integration project because the linters are built from Go.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linterBuildTimeoutMs, linterPath } from '../tools/linters.ts';
import { repoRoot } from '../tools/set-version.ts';

let actionlint = '';
let dockerfileLint = '';
let shellcheck = '';

beforeAll(() => {
  actionlint = linterPath('actionlint');
  dockerfileLint = linterPath('dockerfile-lint');
  try {
    shellcheck = execFileSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).trim();
  } catch {
    // .ci/run installs it; a machine without it still gets actionlint's own checks.
    if (process.env.CI) throw new Error('shellcheck is required in CI (apt-get install shellcheck): actionlint checks the workflows\' scripts with it');
  }
}, linterBuildTimeoutMs);

const run = (bin: string, args: string[], cwd = repoRoot) => {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};
// Explicit either way, so the result does not depend on a shellcheck found some other way.
const actionlintArgs = () => [`-shellcheck=${shellcheck}`, '-pyflakes='];

describe('GitHub workflows', () => {
  it('pass actionlint', () => {
    const workflows = readdirSync(join(repoRoot, '.github', 'workflows')).filter((f) => /\.ya?ml$/.test(f));
    expect(workflows).toEqual(expect.arrayContaining(['ci.yml', 'release.yml']));
    expect(run(actionlint, [...actionlintArgs(), ...workflows.map((f) => join('.github', 'workflows', f))])).toEqual({ status: 0, output: '' });
  });

  it('actionlint reports a mistake in a workflow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, [
      'on: push',
      'permissions:',
      '  packages: writ',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: echo "${{ steps.nope.outputs.digest }}"',
      '      - run: cp $HOME/a b',
      '',
    ].join('\n'));
    const r = run(actionlint, [...actionlintArgs(), '-format', '{{range $err := .}}{{$err.Line}} {{$err.Kind}}\n{{end}}', file], dir);
    expect(r.status).toBe(1);
    // The unquoted $HOME is shellcheck's to find (SC2086).
    expect(r.output.trim().split('\n').sort()).toEqual(['3 permissions', '8 expression', ...(shellcheck ? ['9 shellcheck'] : [])]);
  });

});

describe('Dockerfile', () => {
  it('passes the checks docker build --check runs', () => {
    expect(run(dockerfileLint, ['Dockerfile'])).toEqual({ status: 0, output: '' });
  });

  it('a Dockerfile that breaks the rules gets each warning with its rule and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockerfile-lint-'));
    writeFileSync(join(dir, 'Dockerfile'), [
      'FROM node:24 as build',
      'ENV API_TOKEN=x',
      'WORKDIR app',
      'CMD node main.js',
      '',
    ].join('\n'));
    const r = run(dockerfileLint, ['Dockerfile'], dir);
    expect(r.status).toBe(1);
    expect(r.output.trim().split('\n').map((l) => l.split(': ').slice(0, 2).join(': ')).sort()).toEqual([
      'Dockerfile:1: FromAsCasing',
      'Dockerfile:2: SecretsUsedInArgOrEnv',
      'Dockerfile:3: WorkdirRelativePath',
      'Dockerfile:4: JSONArgsRecommended',
    ]);
  });
});
