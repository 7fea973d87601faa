// Checks `--extra-kinds` entries against the API server's discovery at start: each must be served, namespaced and
// support what replication does (watch, create, update, delete). A bad entry is a startup error naming it.
import { genericKind, type KindSpec } from '../model/kinds.ts';
import { apiVersionOf, formatKindRef, type KindRef } from '../model/extra-kinds.ts';
import { isNotFound, type KubeClient } from './client.ts';

interface APIResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

const neededVerbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export class ExtraKindError extends Error {}

/** The specs of the allowed extra kinds, or an ExtraKindError naming every entry that cannot be replicated. */
export async function discoverExtraKinds(client: KubeClient, refs: readonly KindRef[]): Promise<KindSpec[]> {
  const specs: KindSpec[] = [];
  const problems: string[] = [];
  const lists = new Map<string, Promise<APIResource[] | undefined>>();
  for (const ref of refs) {
    const apiVersion = apiVersionOf(ref);
    if (!lists.has(apiVersion)) lists.set(apiVersion, resourcesOf(client, apiVersion));
    const resources = await lists.get(apiVersion)!;
    const entry = formatKindRef(ref);
    // Subresources (`pods/status`) share their parent's Kind: only the resource itself counts.
    const r = resources?.find((x) => x.kind === ref.kind && !x.name.includes('/'));
    if (!resources) problems.push(`${entry}: the API server does not serve ${apiVersion}`);
    else if (!r) problems.push(`${entry}: ${apiVersion} has no kind ${ref.kind} (kinds there: ${resources.filter((x) => !x.name.includes('/')).map((x) => x.kind).join(', ') || 'none'})`);
    else if (!r.namespaced) problems.push(`${entry}: ${ref.kind} is cluster-scoped; only namespaced kinds are replicated between namespaces`);
    else {
      const missing = neededVerbs.filter((v) => !r.verbs.includes(v));
      if (missing.length) problems.push(`${entry}: ${r.name} does not support ${missing.join(', ')}`);
      else specs.push(genericKind(ref.kind, apiVersion, r.name));
    }
  }
  if (problems.length) throw new ExtraKindError(`--extra-kinds: ${problems.join('; ')}`);
  return specs;
}

async function resourcesOf(client: KubeClient, apiVersion: string): Promise<APIResource[] | undefined> {
  try {
    const list = await client.request<{ resources?: APIResource[] }>('GET', apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`);
    return list.resources ?? [];
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
