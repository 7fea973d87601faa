import { readFileSync } from 'node:fs';

/** What tests and benchmarks read of an API server audit event (Metadata level: never a body). */
export interface AuditEntry {
  stage: string;
  verb: string;
  userAgent?: string;
  requestReceivedTimestamp: string;
  objectRef?: { resource: string; subresource?: string; namespace?: string; name?: string };
  user: { username: string };
  impersonatedUser?: { username: string };
}

/**
 * The completed requests made by kube-replicator (its User-Agent) in the audit log since byte `offset`.
 * The API server may be writing an event as we read: a last line without its newline is not parsed yet.
 */
export function replicatorAuditEntries(auditLog: string, offset: number): AuditEntry[] {
  const text = readFileSync(auditLog).subarray(offset).toString('utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => e.stage === 'ResponseComplete' && (e.userAgent ?? '').startsWith('kube-replicator'));
}
