// REST paths of the kinds kube-replicator touches.
import { kindInfo, type Kind } from '../model/kinds.ts';
import type { ObjectRef } from '../model/objects.ts';
import { policyGroup, policyVersion } from '../api/replication-policy.ts';

function prefix(apiVersion: string): string {
  return apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
}

/** All objects of a kind (cluster-wide), or those of one namespace. */
export function collectionPath(kind: Kind, namespace?: string): string {
  const info = kindInfo[kind];
  return namespace
    ? `${prefix(info.apiVersion)}/namespaces/${encodeURIComponent(namespace)}/${info.plural}`
    : `${prefix(info.apiVersion)}/${info.plural}`;
}

export function objectPath(ref: ObjectRef): string {
  return `${collectionPath(ref.kind, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

export const namespacesPath = '/api/v1/namespaces';
export const policiesPath = `/apis/${policyGroup}/${policyVersion}/replicationpolicies`;

/** Accept headers asking for objects (watch events, write responses) and lists as metadata only. */
export const acceptMetadata = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
export const acceptMetadataList = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
