// REST paths of the kinds kube-replicator touches.
import type { KindSpec } from '../model/kinds.ts';
import { policyGroup, policyVersion } from '../api/replication-policy.ts';

function prefix(apiVersion: string): string {
  return apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
}

/** Where a kind is served: its API group/version and plural resource name. */
export type Resource = Pick<KindSpec, 'apiVersion' | 'plural'>;

/** All objects of a kind (cluster-wide), or those of one namespace. */
export function collectionPath(info: Resource, namespace?: string): string {
  return namespace
    ? `${prefix(info.apiVersion)}/namespaces/${encodeURIComponent(namespace)}/${info.plural}`
    : `${prefix(info.apiVersion)}/${info.plural}`;
}

export function objectPath(info: Resource, ref: { namespace: string; name: string }): string {
  return `${collectionPath(info, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

export const namespacesPath = '/api/v1/namespaces';
export const policiesPath = `/apis/${policyGroup}/${policyVersion}/replicationpolicies`;

/** Accept headers asking for objects (watch events, write responses) and lists as metadata only. */
export const acceptMetadata = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
export const acceptMetadataList = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
