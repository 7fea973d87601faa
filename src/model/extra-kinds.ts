// Kinds an admin allows beyond the built-in five (`--extra-kinds group/version/Kind,...`): how entries are written,
// and the kinds that are never replicated whatever the allow-list says.
import { builtinKinds, isBuiltinKind } from './kinds.ts';

/** One allow-list entry: `networking.k8s.io/v1/NetworkPolicy`, or `v1/LimitRange` for the core group. */
export interface KindRef {
  group: string;
  version: string;
  kind: string;
}

export const formatKindRef = (r: KindRef): string => `${r.group ? `${r.group}/` : ''}${r.version}/${r.kind}`;

/** The apiVersion of an entry's objects (`v1`, `networking.k8s.io/v1`). */
export const apiVersionOf = (r: KindRef): string => (r.group ? `${r.group}/${r.version}` : r.version);

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const versionPattern = /^v[0-9]+((alpha|beta)[0-9]+)?$/;
export const kindNamePattern = /^[A-Z][A-Za-z0-9]{0,62}$/;

/**
 * Kinds that must never be copied, with the reason: objects Kubernetes maintains itself, that run or schedule
 * workloads, or that speak for one object in one namespace. Keyed by `group/Kind` (core group: `/Kind`).
 */
export const deniedKinds: Readonly<Record<string, string>> = {
  '/Pod': 'Pods are run by controllers and scheduled to nodes; a copy would start the workload again in every target namespace',
  '/Binding': 'a Binding assigns a Pod to a node; it is a one-time request, not an object to keep',
  '/Event': 'Events report on one object in its own namespace; a copy would be a false report',
  'events.k8s.io/Event': 'Events report on one object in its own namespace; a copy would be a false report',
  '/Endpoints': 'Endpoints are maintained by Kubernetes from a Service\'s Pods; a copy would send traffic to another namespace\'s Pods',
  'discovery.k8s.io/EndpointSlice': 'EndpointSlices are maintained by Kubernetes from a Service\'s Pods; a copy would send traffic to another namespace\'s Pods',
  'coordination.k8s.io/Lease': 'Leases elect leaders and hold locks; a copy would take part in elections it does not belong to',
  'apps/ControllerRevision': 'ControllerRevisions are the history a StatefulSet or DaemonSet controller keeps of its own objects',
  'apps/ReplicaSet': 'ReplicaSets are made by Deployments and run Pods; a copy would start the workload again in every target namespace',
  '/ReplicationController': 'ReplicationControllers run Pods; a copy would start the workload again in every target namespace',
  '/PodTemplate': 'PodTemplates are kept by controllers for their own Pods',
  'authorization.k8s.io/LocalSubjectAccessReview': 'access reviews are one-time questions to the API server, not objects to keep',
};

export interface ParsedExtraKinds {
  refs: KindRef[];
  /** One message per bad entry, naming it. */
  errors: string[];
}

/** Parses `--extra-kinds`: a comma list of `group/version/Kind` (core group: `version/Kind`). */
export function parseExtraKinds(list: string): ParsedExtraKinds {
  const refs: KindRef[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  for (const entry of list.split(',').map((e) => e.trim()).filter(Boolean)) {
    const parts = entry.split('/');
    const [group, version, kind] = parts.length === 3 ? parts : parts.length === 2 ? ['', ...parts] : [];
    if (group === undefined || version === undefined || kind === undefined) {
      errors.push(`"${entry}": expected group/version/Kind, e.g. networking.k8s.io/v1/NetworkPolicy (core kinds: v1/LimitRange)`);
      continue;
    }
    const ref = { group, version, kind };
    const problem = group && !dnsSubdomain.test(group) ? `API group "${group}" is not a DNS subdomain`
      : !versionPattern.test(version) ? `version "${version}" is not a Kubernetes API version (v1, v1beta1, ...)`
        : !kindNamePattern.test(kind) ? `kind "${kind}" is not a Kind name (CamelCase, e.g. NetworkPolicy)`
          : extraKindRefusal(ref);
    if (problem) errors.push(`"${entry}": ${problem}`);
    else if (seen.has(kind)) errors.push(`"${entry}": kind ${kind} is already allowed as ${seen.get(kind)}; kinds are named by Kind in policies and keys, so one Kind may be allowed once`);
    else {
      seen.set(kind, entry);
      refs.push(ref);
    }
  }
  return { refs, errors };
}

/** Why an entry may not be allowed (a built-in kind, or one on the deny-list); undefined when it may. */
export function extraKindRefusal(ref: KindRef): string | undefined {
  if (isBuiltinKind(ref.kind)) {
    const b = builtinKinds[ref.kind];
    if (b.apiVersion === apiVersionOf(ref)) return `${ref.kind} is built in: it is enabled with --${b.flag}`;
    return `${ref.kind} is the name of a built-in kind; kinds are named by Kind in policies and keys, so it cannot be allowed again`;
  }
  const denied = deniedKinds[`${ref.group}/${ref.kind}`];
  return denied ? `${ref.kind} is never replicated: ${denied}` : undefined;
}
