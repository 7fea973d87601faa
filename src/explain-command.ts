// `kube-replicator explain <kind> <namespace>/<name>` and `explain namespace <name>` (also `kubectl replicator explain …`): reads the cluster with
// the caller's kubeconfig, asks the controller's own planner (Controller.dryRun), and says why. Writes nothing.
import { parseArgs, type Options } from './cli/flags.ts';
import type { KubeClient } from './kube/client.ts';
import { createLogger } from './log.ts';
import { callerClient, readOnlyController } from './read-only-controller.ts';
import { findPublishedSettings } from './kube/settings-configmap.ts';
import { operatorSettingsLabel, versionKey, withPublished } from './cli/published-settings.ts';
import { newestFirst, renderNamespace, renderSource, renderTarget, type RecordedEvent, type SourceExplanation, type TargetExplanation } from './engine/explain.ts';
import type { KindSpec } from './model/kinds.ts';
import { policyGroup } from './api/replication-policy.ts';
import { StartupError } from './kube/startup-error.ts';
import { listEventsBy, listMetadataIfAllowed, mayListEverywhere, readIfAllowed, unlessForbidden } from './kube/reads.ts';
import { eventComponent } from './kube/events.ts';
import { fieldManager } from './kube/writer.ts';
import { ownNamespaceObjects, ownObject, renderOwnView, type OwnInput, type OwnView } from './engine/explain-own.ts';
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
  const allowed = await Promise.all(needed.map((a) => mayListEverywhere(client, a.group, a.resource)));
  return needed.filter((_, i) => !allowed[i]).map((a) => (a.group ? `${a.resource}.${a.group}` : a.resource));
}

/** kube-replicator's Events in a namespace, by the object they are on; 'forbidden' when the caller may not list them. */
async function recordedEvents(client: KubeClient, namespace: string): Promise<((kind: string, name: string) => RecordedEvent[]) | 'forbidden'> {
  const events = await listEventsBy(client, namespace, eventComponent);
  if (events === 'forbidden') return events;
  return (kind, name) => newestFirst(events.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name)
    .map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '', ...(e.count ? { count: e.count } : {}), at: e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp })));
}

/**
 * What the caller's own reads show in one namespace: the object (or, for a namespace, every object of the replicated
 * kinds, as metadata) and kube-replicator's Events there. Undefined when it may read none of it.
 */
async function ownReads(client: KubeClient, specs: readonly KindSpec[], namespace: string, one?: { spec: KindSpec; name: string }): Promise<OwnView['namespaceView']> {
  const unreadable: string[] = [];
  const eventsOn = await recordedEvents(client, namespace);
  if (eventsOn === 'forbidden') unreadable.push(`events in ${namespace}`);
  const inputs: OwnInput[] = [];
  if (one) {
    const ref = { kind: one.spec.kind, namespace, name: one.name };
    const live = await readIfAllowed(client, one.spec, ref);
    if (live === 'forbidden') unreadable.push(`${one.spec.plural} in ${namespace}`);
    inputs.push({ ref, spec: one.spec, live, events: eventsOn === 'forbidden' ? eventsOn : eventsOn(ref.kind, ref.name), salt });
  } else {
    for (const spec of specs) {
      const items = await listMetadataIfAllowed(client, spec, namespace);
      if (items === 'forbidden') { unreadable.push(`${spec.plural} in ${namespace}`); continue; }
      // Metadata only: no content is read, so no key hashes (explain one object for those).
      const meta = { ...spec, dataMaps: undefined };
      for (const live of items) inputs.push({ ref: { kind: spec.kind, namespace, name: live.metadata.name }, spec: meta, live, events: eventsOn === 'forbidden' ? eventsOn : eventsOn(spec.kind, live.metadata.name), salt });
    }
  }
  // One object is shown as it is, even absent; a namespace lists what kube-replicator made or spoke of.
  const objects = one ? inputs.map((i) => ownObject(i, fieldManager)).filter((x) => x !== undefined) : ownNamespaceObjects(inputs, fieldManager);
  if (!objects.length && unreadable.length === (one ? 2 : specs.length + 1)) return undefined;
  return { namespace, objects, unreadable };
}

const groupOf = (spec: KindSpec) => (spec.apiVersion.includes('/') ? spec.apiVersion.split('/')[0]! : '');

/** Whose settings an explanation was planned with. */
export interface SettingsOrigin {
  from: 'operator' | 'flags';
  /** `<namespace>/<name>` of the ConfigMap the operator published them in. */
  configMap?: string;
  operatorVersion?: string;
  /** Planning flags given on this command line, which replace the operator's (a what-if). */
  overridden?: string[];
  message: string;
}

class SettingsError extends Error {}

/**
 * The options to plan with: the running operator's published planning flags, with the caller's own on top. Without
 * published settings (none readable, or none published) the caller's flags alone, and the answer says so.
 */
async function operatorOptions(client: KubeClient, o: Options): Promise<{ options: Options; origin: SettingsOrigin }> {
  const fallback = (why: string) => ({ options: o, origin: { from: 'flags' as const, message: `${why}: planned with this command's flags` } });
  const all = await unlessForbidden(findPublishedSettings(client, { label: operatorSettingsLabel, namespace: o.operatorNamespace, name: o.given.includes('settings-configmap') ? o.settingsConfigMap : undefined }));
  if (all === 'forbidden') return fallback(`you may not list ConfigMaps${o.operatorNamespace ? ` in ${o.operatorNamespace}` : ' in every namespace'}, where the operator publishes its settings`);
  // Two operators, or a namespace admin's imitation: never pick one by guess.
  if (all.length > 1) return fallback(`${all.length} ConfigMaps labelled ${operatorSettingsLabel}=true (${all.map((f) => f.from).join(', ')}); name the operator's with --operator-namespace`);
  const found = all[0];
  if (!found) {
    if (o.operatorNamespace) throw new SettingsError(`no ConfigMap labelled ${operatorSettingsLabel}=true in namespace ${o.operatorNamespace}: is the operator running there (and at least at version 0.2.0)?`);
    return fallback(`no operator has published its settings (a ConfigMap labelled ${operatorSettingsLabel}=true)`);
  }
  const given = o.given.map((g) => `--${g}=${o.flags[g]}`);
  const w = withPublished(found.data, given, o.given);
  const options = { ...parseArgs([o.command, ...o.args, ...w.argv]), output: o.output };
  const version = found.data[versionKey];
  const message = `the operator's, published in ConfigMap ${found.from}${version ? ` by kube-replicator ${version}` : ''}`
    + (w.overridden.length ? `; replaced here by ${w.overridden.map((f) => `--${f}`).join(', ')}` : '')
    + (w.unknown.length ? `; not known to this version, so not applied: ${w.unknown.join(', ')}` : '');
  return { options, origin: { from: 'operator', configMap: found.from, ...(version ? { operatorVersion: version } : {}), ...(w.overridden.length ? { overridden: w.overridden } : {}), message } };
}

export async function runExplain(given: Options, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  // The caches' retries are noise for a one-shot command (stdout is the explanation, parsed with -o json): a sync
  // that does not complete ends in a StartupError naming each failure, which is printed below.
  const log = createLogger({ level: 'error', format: given.logFormat, stream: new Writable({ write: (_c, _e, done) => done() }) });
  const caller = await callerClient(given);
  let o: Options;
  let settings: SettingsOrigin;
  try {
    ({ options: o, origin: settings } = await operatorOptions(caller, given));
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    process.stderr.write(`explain: ${e.message}\n`);
    return 2;
  }
  const { client, kinds, controller } = await readOnlyController(o, log, caller);
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
    const view: OwnView = { subject, visible: false, notVisible: hidden, message };
    const namespaceView = await ownReads(client, kinds.specs, namespace, spec && { spec, name });
    if (namespaceView) view.namespaceView = namespaceView;
    out.write(o.output === 'json' ? `${JSON.stringify(view, null, 2)}\n` : renderOwnView(view));
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
    const settingsLine = `settings: ${settings.message}\n`;
    if (!spec) {
      const n = await controller.explainNamespace(namespace, salt);
      out.write(o.output === 'json' ? `${JSON.stringify({ ...n, settings }, null, 2)}\n` : renderNamespace(n) + settingsLine);
      return n.visible ? 0 : notVisibleExit;
    }
    const target = { kind: spec.kind, namespace, name };
    const asTarget: TargetExplanation | undefined = await controller.explainTarget(target, salt);
    // How its last writes went: the Events the operator recorded on it (explain's reader may list them everywhere).
    const eventsOn = asTarget?.exists ? await recordedEvents(client, namespace) : 'forbidden';
    if (asTarget && eventsOn !== 'forbidden') asTarget.events = eventsOn(spec.kind, name);
    const asSource: SourceExplanation | undefined = await controller.explainSource(target);
    if (o.output === 'json') out.write(`${JSON.stringify({ target: asTarget, source: asSource ?? null, settings }, null, 2)}\n`);
    else {
      if (asTarget) out.write(renderTarget(asTarget));
      if (asSource) out.write(renderSource(asSource));
      out.write(settingsLine);
    }
  } finally {
    await controller.stop();
  }
  return 0;
}
