// A newcomer's path: `npm run dev` (tools/dev.ts) as the README says, the commands it prints, then every command
// block of README.md top to bottom, as written, against that dev control plane. A command that fails, or whose
// output differs from what a ```console block shows, fails the test. The few commands that cannot run here are
// listed below with the reason, and the list may name only commands the README still has.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../test/support/helm.ts';
import { waitFor } from '../test/support/cluster.ts';
import { freePort } from './support/process.ts';
import { readmeCommands, type ReadmeCommand } from '../tools/readme-commands.ts';

/** Blocks that cannot run on this machine (matched on their first line), and why. Everything else runs. */
const notRunHere: [RegExp, string][] = [
  [/^npm ci && npm run dev/, 'this test runs `npm run dev` (tools/dev.ts) itself, from the tree `npm ci` installed; `npm test` is what runs this test'],
  [/^docker build /, 'no Docker engine here: test/release.test.ts lints the Dockerfile, test/production-tree.test.ts starts the operator from the image\'s production tree'],
  [/\bcosign verify\b/, 'verifies signatures of published artifacts in ghcr.io and Sigstore\'s log, which this machine cannot reach'],
  [/^kubectl krew install /m, 'needs Krew installed as a kubectl plugin, and the release\'s manifest and archives on GitHub, which this machine cannot reach: test/krew.test.ts builds the archive with tools/krew-archive.ts and installs it with Krew itself'],
];
/** Published artifacts this machine cannot reach (ghcr.io), and what runs instead. */
const published: [RegExp, string][] = [
  // The chart the release workflow publishes is charts/kube-replicator, packaged.
  [/oci:\/\/ghcr\.io\/kube-replicator\/charts\/kube-replicator --version \S+/g, 'charts/kube-replicator'],
];
const reasonNotRun = (c: ReadmeCommand) => notRunHere.find(([re]) => re.test(c.command))?.[1];

const commands = readmeCommands(readFileSync(join(repoRoot, 'README.md'), 'utf8'));
let dev: ChildProcess | undefined;
let home = '';
const env: Record<string, string> = {};

/**
 * Runs one command as a user's shell would, in the repository, with only what `npm run dev` told them to export;
 * HOME is an empty folder, so no ~/.kube or helm settings of the machine's can leak in.
 */
function sh(command: string): { status: number | null; out: string } {
  const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', command], { cwd: repoRoot, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Output as a table: whitespace-separated words per line, the AGE column (a duration) dropped. */
const table = (text: string) => text.trim().split('\n').map((l) => l.trim().split(/\s+/).filter((w, i, all) => !(i === all.length - 1 && /^(AGE|\d+[smhd])$/.test(w))).join(' '));

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'kr-readme-home-'));
  const port = await freePort();
  // `npm run dev` as a user runs it (its binaries come from the user's build cache), with no KUBECONFIG to lean on.
  const devEnv: NodeJS.ProcessEnv = { ...process.env, KR_STATUS_ADDR: `127.0.0.1:${port}` };
  delete devEnv.KUBECONFIG;
  delete devEnv.KR_TEST_CONTROLPLANE;
  dev = spawn(process.execPath, [join(repoRoot, 'tools', 'dev.ts')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'], env: devEnv });
  const lines = createInterface({ input: dev.stdout! });
  const printed: string[] = [];
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => {
      printed.push(l);
      if (l.startsWith('Ctrl-C')) resolve();
    });
    dev!.once('exit', (code) => reject(new Error(`npm run dev exited early (${code}): ${printed.join('\n')}`)));
  });
  Object.assign(env, { HOME: home, PATH: process.env.PATH ?? '' });
  for (const l of printed) {
    const m = /^export (\w+)=(.*)$/.exec(l);
    if (m) env[m[1]!] = m[2]!.replace(/\$PATH\b/, env.PATH!);
  }
  expect(Object.keys(env).sort()).toEqual(['HOME', 'KUBECONFIG', 'PATH']);
  devExample.push(...printed.filter((l) => l.startsWith('kubectl ')));
}, 15 * 60_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev!.once('exit', r));
    dev.kill('SIGINT');
    await exited;
  }
  if (home) rmSync(home, { recursive: true, force: true });
});

const devExample: string[] = [];

describe('the README, top to bottom, on `npm run dev`', () => {
  it('the commands `npm run dev` prints work: the demo Secret is replicated', async () => {
    expect(devExample.length).toBeGreaterThanOrEqual(5);
    for (const c of devExample) {
      // The replica list: the demo Secret, copied into the namespace the example created, once the operator has.
      if (c.startsWith('kubectl get secrets')) await waitFor('the demo Secret\'s replica to be listed', () => /^demo\s+demo\s/m.test(sh(c).out), 60_000);
      else expect({ c, ...sh(c) }).toMatchObject({ c, status: 0 });
    }
    // The plugin on the printed PATH explains it, with the settings the dev operator published.
    const explained = sh(devExample.find((c) => c.startsWith('kubectl replicator explain'))!).out;
    expect(explained).toMatch(/^Secret default\/demo: source of 1 rule\(s\); 1 in sync, 0 pending, \d+ refused\n/m);
    expect(explained).toContain('refused (ProtectedNamespace): ');
    expect(explained).toContain('settings: the operator\'s, published in ConfigMap kube-replicator/kube-replicator-settings');
  });

  it('every block not run here has its reason, and each reason still matches a block of the README', () => {
    const skipped = commands.filter(reasonNotRun);
    expect(skipped.map((c) => reasonNotRun(c))).toEqual(skipped.map(() => expect.stringMatching(/\w/)));
    for (const [re] of notRunHere) expect(commands.some((c) => re.test(c.command))).toBe(true);
    expect(commands.length - skipped.length).toBeGreaterThanOrEqual(8);
  });

  const runnable = commands.filter((c) => !reasonNotRun(c));
  it.each(runnable.map((c, i) => [`${i + 1}. line ${c.line}: ${c.command.split('\n')[0]}`, c] as [string, ReadmeCommand]))('%s', async (_title, c) => {
    let command = c.command;
    for (const [re, local] of published) command = command.replace(re, local);
    if (c.output === undefined) {
      const r = sh(command);
      expect({ command, status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ command, status: 0, out: '' });
      return;
    }
    // Output as the README shows it: the operator may need a moment to get there.
    const want = table(c.output);
    let got: string[] = [];
    await waitFor(`\`${command}\` to print what the README shows`, () => {
      const r = sh(command);
      got = r.status === 0 ? table(r.out) : [r.out];
      return JSON.stringify(got) === JSON.stringify(want);
    }, 60_000).catch(() => undefined);
    expect({ command, out: got }).toEqual({ command, out: want });
  });
});
