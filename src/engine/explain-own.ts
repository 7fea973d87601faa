// `explain` for an identity that may not read every namespace (a tenant): the planner's answer needs rules from
// everywhere, so it is not given. What is given is what the caller's own reads show: the object, what it says of
// itself (provenance, the pull it asks for) and the Events kube-replicator recorded on it. Those were written for
// the namespace's owner (a refused pull says only "not available", never why: see planPull), so nothing here tells
// a tenant more than it could read with kubectl. Pure: the shell hands over what the caller could read.
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { formatRef } from '../model/objects.ts';
import { annotations as A, provenance as P } from '../rules/vocabulary.ts';
import { hashKeys, newestFirst, pullAsked, renderEvents, roleOf, type KeyHashes, type RecordedEvent as OwnEvent, type TargetExplanation } from './explain.ts';
import { classify } from './ownership.ts';

export type { RecordedEvent as OwnEvent } from './explain.ts';

export interface OwnObject {
  target: string;
  exists: boolean;
  role: TargetExplanation['role'];
  /** From the replica's own provenance. */
  replicaOf?: { source?: string; rule?: string; tier?: string; lastWrite?: string; contentHash?: string };
  pull?: { via: 'replicate-from' | 'reflects'; source?: string; lastCopy?: string };
  /** Key names and salted hashes of what the object holds (never a value). */
  keys?: KeyHashes;
  /** kube-replicator's Events on it, newest first. */
  events: OwnEvent[];
  summary: string;
}

/** What a caller who may read only some namespaces is told, and what it is not. */
export interface OwnView {
  subject: string;
  /** The planner's whole answer is not visible: it needs what `notVisible` names in every namespace. */
  visible: false;
  notVisible: string[];
  message: string;
  /** What the caller's own reads show (absent: it may not read even that). */
  namespaceView?: { namespace: string; objects: OwnObject[]; unreadable: string[] };
}

export interface OwnInput {
  ref: ObjectRef;
  spec: KindSpec;
  /** undefined: absent; 'forbidden': the caller may not read it. */
  live: KubeObject | undefined | 'forbidden';
  /** kube-replicator's Events on the object; 'forbidden': the caller may not list Events there. */
  events: OwnEvent[] | 'forbidden';
  salt: string;
}

/** Whether kube-replicator's field manager ever wrote the object: provenance copied by someone else proves nothing. */
function writtenByOperator(obj: KubeObject, fieldManager: string): boolean {
  const entries = (obj.metadata as { managedFields?: { manager?: string; subresource?: string }[] }).managedFields ?? [];
  return entries.some((e) => e.manager === fieldManager && !e.subresource);
}

export function ownObject(input: OwnInput, fieldManager: string): OwnObject | undefined {
  if (input.live === 'forbidden') return undefined;
  const live = input.live;
  const target = formatRef(input.ref);
  const events = input.events === 'forbidden' ? [] : newestFirst(input.events);
  const role = roleOf(classify(live, live ? writtenByOperator(live, fieldManager) : true, input.ref.kind));
  const a = live?.metadata.annotations ?? {};
  const out: OwnObject = { target, exists: Boolean(live), role, events, summary: '' };
  if (role === 'replica') out.replicaOf = { source: a[P.source], rule: a[P.rule], tier: a[P.tier], lastWrite: a[A.replicatedAt], contentHash: a[P.contentHash] };
  if (role === 'pullTarget') {
    out.pull = { ...pullAsked(a), lastCopy: a[A.replicatedAt] };
  }
  const keys = hashKeys(input.spec, live, input.salt);
  if (keys) out.keys = keys;
  const latest = events[0];
  const word = latest ? `; kube-replicator's latest Event on it: ${latest.type} ${latest.reason}: ${latest.message}` : '';
  const eventsHidden = input.events === 'forbidden' ? ' (you may not list its Events)' : '';
  const summaries: Record<OwnObject['role'], string> = {
    replica: `a replica of ${out.replicaOf?.source ?? '?'} by the ${out.replicaOf?.rule ?? '?'} rule (${out.replicaOf?.tier ?? '?'}), last written ${out.replicaOf?.lastWrite ?? '?'}`,
    pullTarget: `pulls from ${out.pull?.source ?? '?'} (${out.pull?.via ?? ''})${out.pull?.lastCopy ? `, last copied ${out.pull.lastCopy}` : ', nothing copied yet'}`,
    legacyReplica: 'a replica made by another replicator (mittwald or Reflector)',
    other: 'not a replica',
    absent: 'does not exist',
  };
  out.summary = `${summaries[role]}${word}${eventsHidden}`;
  return out;
}

/** One namespace as the caller's reads show it: its replicas and pull targets, and objects kube-replicator spoke of. */
export function ownNamespaceObjects(objects: readonly OwnInput[], fieldManager: string): OwnObject[] {
  return objects.map((o) => ownObject(o, fieldManager))
    .filter((o): o is OwnObject => o !== undefined && (o.role !== 'other' && o.role !== 'absent' || o.events.length > 0))
    .sort((a, b) => a.target.localeCompare(b.target));
}

export function renderOwnView(v: OwnView): string {
  const lines = [v.message];
  const n = v.namespaceView;
  if (n) {
    lines.push(`what your own reads in namespace ${n.namespace} show (whether a replica matches its source, and which rules reach it, is not visible to you):`);
    for (const o of n.objects) {
      lines.push(`  ${o.target}: ${o.summary}`);
      if (o.keys) lines.push(`    keys: ${Object.entries(o.keys).map(([k, h]) => `${k} ${h}`).join(', ') || 'none'}`);
      if (o.replicaOf?.contentHash) lines.push(`    content hash at the last write: ${o.replicaOf.contentHash}`);
      lines.push(...renderEvents(o.events, '    '));
    }
    if (!n.objects.length) lines.push('  nothing kube-replicator made or spoke of');
    for (const u of n.unreadable) lines.push(`  not visible: ${u}`);
  }
  return `${lines.join('\n')}\n`;
}
