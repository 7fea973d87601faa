// Reads the controller needs beyond its watches: one object's content, and a namespace's RoleBindings (their roleRef
// is not in the metadata the watches hold).
import { builtinKinds, type KindSpec } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import { isNotFound, type KubeClient } from './client.ts';
import { collectionPath, objectPath } from './resources.ts';

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
