// Writes replicas. Every update carries the resourceVersion it was computed from (optimistic concurrency)
// and every delete carries uid + resourceVersion preconditions, so nothing is written over a change we
// have not seen.
import type { KindSpec } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/objects.ts';
import type { KubeClient } from './client.ts';
import type { PolicyStatus, ReplicationPolicy } from '../api/replication-policy.ts';
import { acceptMetadata, collectionPath, objectPath, policiesPath } from './resources.ts';

export const fieldManager = 'kube-replicator';

type Answer = 'object' | 'metadata';
const accept = (answer: Answer) => (answer === 'metadata' ? acceptMetadata : undefined);

export class Writer {
  private readonly client: KubeClient;
  private readonly rbacClient: KubeClient;
  /** `rbacClient` writes Roles and RoleBindings (the escalation guard: an identity holding only what may be granted). */
  constructor(client: KubeClient, rbacClient: KubeClient = client) {
    this.client = client;
    this.rbacClient = rbacClient;
  }

  private clientFor(spec: KindSpec): KubeClient {
    return spec.rbac ? this.rbacClient : this.client;
  }

  // `answer`: 'metadata' when only the written object's metadata is needed back (a replica, whose content is not
  // kept): the API server then sends no content, and there is less to read.

  create(spec: KindSpec, obj: KubeObject, answer: Answer = 'object'): Promise<KubeObject> {
    return this.clientFor(spec).request<KubeObject>('POST', collectionPath(spec, obj.metadata.namespace), { body: obj, query: { fieldManager }, accept: accept(answer) });
  }

  update(spec: KindSpec, obj: KubeObject, answer: Answer = 'object'): Promise<KubeObject> {
    const ref = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
    return this.clientFor(spec).request<KubeObject>('PUT', objectPath(spec, ref), { body: obj, query: { fieldManager }, accept: accept(answer) });
  }

  /** A JSON merge patch; a resourceVersion in its metadata makes it conditional like an update. */
  patch(spec: KindSpec, ref: ObjectRef, patch: object, answer: Answer = 'object'): Promise<KubeObject> {
    return this.clientFor(spec).request<KubeObject>('PATCH', objectPath(spec, ref), { body: patch, contentType: 'application/merge-patch+json', query: { fieldManager }, accept: accept(answer) });
  }

  async delete(spec: KindSpec, ref: ObjectRef, preconditions: { uid?: string; resourceVersion?: string }): Promise<void> {
    await this.clientFor(spec).request('DELETE', objectPath(spec, ref), {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions, propagationPolicy: 'Background' },
    });
  }
}

/** Writes a ReplicationPolicy's status (the status subresource; the spec is never written). */
export function patchPolicyStatus(client: KubeClient, name: string, status: PolicyStatus): Promise<ReplicationPolicy> {
  return client.request<ReplicationPolicy>('PATCH', `${policiesPath}/${encodeURIComponent(name)}/status`, {
    body: { status }, contentType: 'application/merge-patch+json',
  });
}
