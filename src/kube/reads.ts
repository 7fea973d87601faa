// Reads the controller needs beyond its watches: one object's content, and a namespace's RoleBindings (their roleRef
// is not in the metadata the watches hold).
import { builtinKinds, type KindSpec } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { ApiError, isNotFound, type KubeClient } from './client.ts';
import { acceptMetadataList, collectionPath, objectPath } from './resources.ts';

/** The whole object, or undefined when it does not exist. */
export async function readObject(client: KubeClient, spec: KindSpec, ref: ObjectRef): Promise<KubeObject | undefined> {
  try {
    return await client.request<KubeObject>('GET', objectPath(spec, ref));
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function listRoleBindings(client: KubeClient, namespace: string): Promise<KubeObject[]> {
  return (await client.request<{ items: KubeObject[] }>('GET', collectionPath(builtinKinds.RoleBinding, namespace))).items;
}

/** Whether the client's identity may list `resource` (of `group`; core: '') in every namespace. */
export async function mayListEverywhere(client: KubeClient, group: string, resource: string): Promise<boolean> {
  const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', group, resource } } },
  });
  return review.status?.allowed === true;
}

/** Every object of a kind (in one namespace, or cluster-wide) as metadata only: no data, so no secret value, is read. */
export async function listMetadata(client: KubeClient, spec: KindSpec, namespace?: string): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let cont: string | undefined;
  do {
    const page = await client.request<{ items: KubeObject[] | null; metadata: { continue?: string } }>('GET', collectionPath(spec, namespace), {
      query: { limit: 500, continue: cont }, accept: acceptMetadataList,
    });
    // An empty PartialObjectMetadataList comes with `items: null`.
    items.push(...(page.items ?? []));
    cont = page.metadata.continue || undefined;
  } while (cont);
  return items;
}

/** What a read gives, or 'forbidden' when the client may not make it (explain says so rather than guess). */
export async function unlessForbidden<T>(read: Promise<T>): Promise<T | 'forbidden'> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return 'forbidden';
    throw e;
  }
}

/** The whole object; undefined when it does not exist; 'forbidden' when the client may not read it. */
export const readIfAllowed = (client: KubeClient, spec: KindSpec, ref: ObjectRef): Promise<KubeObject | undefined | 'forbidden'> =>
  unlessForbidden(readObject(client, spec, ref));

/** A namespace's objects of a kind as metadata (no value is read); 'forbidden' when the client may not list them. */
export const listMetadataIfAllowed = (client: KubeClient, spec: KindSpec, namespace: string): Promise<KubeObject[] | 'forbidden'> =>
  unlessForbidden(listMetadata(client, spec, namespace));

export interface CoreEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  eventTime?: string;
  lastTimestamp?: string;
  firstTimestamp?: string;
  involvedObject: { kind?: string; name?: string; namespace?: string };
  source?: { component?: string };
  reportingComponent?: string;
}

/** The Events `component` recorded in a namespace; 'forbidden' when the client may not list Events there. */
export async function listEventsBy(client: KubeClient, namespace: string, component: string): Promise<CoreEvent[] | 'forbidden'> {
  const list = await unlessForbidden(client.request<{ items: CoreEvent[] }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { query: { fieldSelector: `source=${component}` } }));
  return list === 'forbidden' ? list : list.items.filter((e) => e.source?.component === component || e.reportingComponent === component);
}
