// The control-plane harness leaves nothing behind: not after a normal stop, not after its owner is
// SIGKILLed (a crashed test run), not after Ctrl-C on `npm run dev`.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './support/cluster.ts';

const root = join(import.meta.dirname, '..');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Spawns `args`, waits for a line matching `pattern` on stdout, returns the process and the match. */
async function spawnUntil(args: string[], pattern: RegExp) {
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: proc.stdout! });
  // Kept for the failure message: a control plane that does not start says why (its children's last log lines).
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    lines.on('line', (l) => { const m = l.match(pattern); if (m) resolve(m); });
    proc.once('exit', (code) => reject(new Error(`exited early (${code}): ${stderr}`)));
  });
  return { proc, match };
}

async function expectCleanedUp(dir: string): Promise<void> {
  const pids = readFileSync(join(dir, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
  expect(pids.length).toBeGreaterThanOrEqual(2);
  await waitFor('every control-plane process to exit', () => pids.every((p) => !alive(p)), 60_000);
  await waitFor('the control-plane folder to be removed', () => !existsSync(dir), 30_000);
}

describe('control-plane lifecycle', () => {
  it('stops its processes and removes its folder when the owner is SIGKILLed', async () => {
    const { proc, match } = await spawnUntil([join(root, 'test', 'support', 'owner-process.ts')], /^(\{.*\})$/);
    const { dir } = JSON.parse(match[1]!) as { dir: string };
    const pids = readFileSync(join(dir, 'pids'), 'utf8');
    proc.kill('SIGKILL');
    expect(pids.trim().length).toBeGreaterThan(0);
    await expectCleanedUp(dir);
  });

  it('npm run dev stops the operator and the control plane on Ctrl-C (SIGINT)', async () => {
    const { proc, match } = await spawnUntil([join(root, 'tools', 'dev.ts')], /^export KUBECONFIG=(.*)\/admin\.kubeconfig$/);
    const dir = match[1]!;
    const pids = readFileSync(join(dir, 'pids'), 'utf8');
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(pids.trim().split('\n').length).toBe(3);
    expect(existsSync(dir)).toBe(false);
  });
});
