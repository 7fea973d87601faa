// `kube-replicator explain <kind> <namespace>/<name>` and `explain namespace <name>` (also `kubectl replicator explain …`): reads the cluster with
// the caller's kubeconfig, asks the controller's own planner (Controller.dryRun), and says why. Writes nothing.
import type { Options } from './cli/flags.ts';
import type { KubeClient } from './kube/client.ts';
import { mayListEverywhere } from './kube/reads.ts';
import { createLogger } from './log.ts';
import { readOnlyController } from './read-only-controller.ts';
import { renderNamespace, renderSource, renderTarget, type SourceExplanation, type TargetExplanation } from './engine/explain.ts';
import type { KindSpec } from './model/kinds.ts';
import { policyGroup } from './api/replication-policy.ts';
import { StartupError } from './kube/startup-error.ts';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';

/** Salts the content hashes this run prints (see KeyHashes in engine/explain.ts). */
const salt = randomBytes(16).toString('hex');

/** Exit code when the caller may not read what an explanation needs: said, never guessed. */
export const notVisibleExit = 3;

interface Access {
  resource: string;
  group: string;
}

/**
 * What the planner reads cluster-wide that the caller may not list. The planner's answer depends on rules in every
 * namespace: with part of them hidden it could be wrong, so explain says what is not visible instead.
 */
async function invisible(client: KubeClient, needed: Access[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of needed) if (!await mayListEverywhere(client, a.group, a.resource)) out.push(a.group ? `${a.resource}.${a.group}` : a.resource);
  return out;
}

const groupOf = (spec: KindSpec) => (spec.apiVersion.includes('/') ? spec.apiVersion.split('/')[0]! : '');

export async function runExplain(o: Options, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  // The caches' retries are noise for a one-shot command (stdout is the explanation, parsed with -o json): a sync
  // that does not complete ends in a StartupError naming each failure, which is printed below.
  const log = createLogger({ level: 'error', format: o.logFormat, stream: new Writable({ write: (_c, _e, done) => done() }) });
  const { client, kinds, controller } = await readOnlyController(o, log);
  const [what, ref] = o.args as [string, string];
  const namespaceMode = ['namespace', 'namespaces', 'ns'].includes(what.toLowerCase());
  const spec = kinds.specs.find((s) => [s.kind.toLowerCase(), s.plural].includes(what.toLowerCase()) || `${s.kind.toLowerCase()}s` === what.toLowerCase());
  if (!spec && !namespaceMode) {
    process.stderr.write(`explain: "${what}" is not a replicated kind (${kinds.specs.map((s) => s.kind).join(', ')}) nor namespace\n`);
    return 2;
  }
  const [namespace, name, ...rest] = namespaceMode ? [ref, ref] : ref.split('/');
  if (!namespace || !name || rest.length) {
    process.stderr.write(`explain: "${ref}" is not <namespace>/<name>\n`);
    return 2;
  }
  const subject = spec ? `${spec.kind} ${namespace}/${name}` : `namespace ${namespace}`;
  const hidden = await invisible(client, [
    { resource: 'namespaces', group: '' }, { resource: 'replicationpolicies', group: policyGroup },
    ...kinds.specs.map((s) => ({ resource: s.plural, group: groupOf(s) })),
  ]);
  if (hidden.length) {
    const message = `not visible: explaining ${subject} needs to list ${hidden.join(', ')} in every namespace, and your identity may not; nothing is guessed`;
    out.write(o.output === 'json' ? `${JSON.stringify({ subject, visible: false, notVisible: hidden, message }, null, 2)}\n` : `${message}\n`);
    return notVisibleExit;
  }
  try {
    try {
      await controller.syncCaches();
    } catch (e) {
      if (!(e instanceof StartupError)) throw e;
      process.stderr.write(`explain: ${e.message}\n`);
      return 1;
    }
    if (!spec) {
      const n = await controller.explainNamespace(namespace, salt);
      out.write(o.output === 'json' ? `${JSON.stringify(n, null, 2)}\n` : renderNamespace(n));
      return n.visible ? 0 : notVisibleExit;
    }
    const target = { kind: spec.kind, namespace, name };
    const asTarget: TargetExplanation | undefined = await controller.explainTarget(target, salt);
    const asSource: SourceExplanation | undefined = await controller.explainSource(target);
    if (o.output === 'json') out.write(`${JSON.stringify({ target: asTarget, source: asSource ?? null }, null, 2)}\n`);
    else {
      if (asTarget) out.write(renderTarget(asTarget));
      if (asSource) out.write(renderSource(asSource));
    }
  } finally {
    await controller.stop();
  }
  return 0;
}
