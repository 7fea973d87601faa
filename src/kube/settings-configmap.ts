// The operator's published settings (cli/published-settings.ts) as a ConfigMap in its own namespace: written by the
// leader when it starts working, only when they changed, and found by `explain` by its label.
import { canonical } from '../model/canonical.ts';
import { builtinKinds } from '../model/kinds.ts';
import { isNotFound, type KubeClient } from './client.ts';
import { collectionPath, objectPath } from './resources.ts';

interface ConfigMap {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  data?: Record<string, string>;
}

const spec = builtinKinds.ConfigMap;

/** Creates or updates the ConfigMap; no write when it already says the same. Returns whether it wrote. */
export async function publishSettings(client: KubeClient, namespace: string, name: string, data: Record<string, string>, label: string): Promise<boolean> {
  const labels = { [label]: 'true', 'app.kubernetes.io/name': 'kube-replicator', 'app.kubernetes.io/component': 'settings' };
  const path = objectPath(spec, { namespace, name });
  let live: ConfigMap | undefined;
  try {
    live = await client.request<ConfigMap>('GET', path);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const body: ConfigMap = { metadata: { name, namespace, labels: { ...live?.metadata.labels, ...labels } }, data };
  if (!live) {
    await client.request('POST', collectionPath(spec, namespace), { body: { apiVersion: 'v1', kind: 'ConfigMap', ...body } });
    return true;
  }
  const same = canonical(live.data ?? {}) === canonical(data)
    && Object.entries(labels).every(([k, v]) => live.metadata.labels?.[k] === v);
  if (same) return false;
  body.metadata.resourceVersion = live.metadata.resourceVersion;
  await client.request('PUT', path, { body: { apiVersion: 'v1', kind: 'ConfigMap', ...body } });
  return true;
}

export interface PublishedSettings {
  /** `<namespace>/<name>` */
  from: string;
  data: Record<string, string>;
}

/**
 * The labelled ConfigMaps (in `namespace` if given, else cluster-wide; named `name` if given), sorted. The caller
 * decides what more than one means: any namespace admin can label a ConfigMap, so none is ever picked by guess.
 */
export async function findPublishedSettings(client: KubeClient, o: { label: string; namespace?: string; name?: string }): Promise<PublishedSettings[]> {
  const list = await client.request<{ items: ConfigMap[] }>('GET', collectionPath(spec, o.namespace), { query: { labelSelector: `${o.label}=true` } });
  return list.items.filter((c) => !o.name || c.metadata.name === o.name)
    .map((c) => ({ from: `${c.metadata.namespace}/${c.metadata.name}`, data: c.data ?? {} }))
    .sort((a, b) => a.from.localeCompare(b.from));
}
