// Loads the ReplicationPolicy CRD shipped in crds/ so the operator validates with the very schema the API
// server uses (the CRD installed in a cluster may be older than the operator).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { policySpecValidator, type SpecValidator } from './rules/policy-rules.ts';

export const crdFile = new URL('../crds/replicationpolicies.yaml', import.meta.url);

export function loadPolicySchema(file: URL | string = crdFile): SpecValidator {
  const crd = parse(readFileSync(file, 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  return policySpecValidator(crd.spec.versions[0]!.schema.openAPIV3Schema);
}
