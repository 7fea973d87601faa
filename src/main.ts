#!/usr/bin/env node
// kube-replicator CLI: `run` (default), `plan`, `explain`, `migrate`, `version`. Also run as `kubectl-replicator` (a kubectl plugin).
import { parseArgs, usage, UsageError, type Options } from './cli/flags.ts';
import { loadKubeAccess } from './kube/kubeconfig.ts';
import { createLogger } from './log.ts';
import { startOperator, type Operator } from './operator.ts';
import { StartupError } from './kube/startup-error.ts';
import { ExtraKindError } from './kube/discovery.ts';
import { version } from './version.ts';


async function run(o: Options): Promise<void> {
  const log = createLogger({ level: o.logLevel, format: o.logFormat });
  // Signals are handled from the first line: a Pod told to stop while its caches sync stops at once.
  let op: Operator | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    if (!op) process.exit(0); // nothing written yet, nothing to finish
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    op.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  let access;
  try {
    access = await loadKubeAccess(o.kubeconfig, process.env, o.context);
  } catch (e) {
    log.error((e as Error).message);
    process.exit(1);
  }
  try {
    op = await startOperator(access, o, { log });
  } catch (e) {
    // What the cluster cannot serve, or what keeps the caches from syncing: said once, plainly, and the process
    // ends (no stack trace): 2 for a configuration to change, 1 for a start that failed.
    if (e instanceof ExtraKindError) {
      log.error(e.message);
      process.exit(2);
    }
    if (e instanceof StartupError) {
      log.error(e.message);
      process.exit(1);
    }
    throw e;
  }
}

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${usage()}`);
      process.exit(2);
    }
    throw e;
  }
  if (o.command === 'help') process.stdout.write(usage());
  else if (o.command === 'version') process.stdout.write(`kube-replicator ${version()}\n`);
  else if (o.command === 'plan') {
    const { runPlan } = await import('./plan-command.ts');
    await runPlan(o);
  } else if (o.command === 'explain') {
    const { runExplain } = await import('./explain-command.ts');
    process.exitCode = await runExplain(o);
  } else if (o.command === 'migrate') {
    const { runMigrate, MigrateError } = await import('./migrate-command.ts');
    try {
      const m = await runMigrate(o);
      process.stderr.write(`${m.policies.length} ReplicationPolicies written; ${m.notExpressible.length} not expressible (listed at the end)\n`);
    } catch (e) {
      // What the caller can fix (a permission, a kubeconfig), said plainly.
      if (!(e instanceof MigrateError)) throw e;
      process.stderr.write(`kube-replicator migrate: ${(e as Error).message}\n`);
      process.exit(1);
    }
  } else await run(o);
}

main().catch((e: unknown) => {
  process.stderr.write(`kube-replicator: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
