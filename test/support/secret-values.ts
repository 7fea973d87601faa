import { randomBytes } from 'node:crypto';

/** Unique secret values for a suite, each remembered so that logs, Events, status and metrics can be scanned for it. */
export class SecretValues {
  readonly all: string[] = [];

  make(what: string): string {
    const v = `${what}-${randomBytes(6).toString('hex')}-S3CR3T`;
    this.all.push(v);
    return v;
  }
}
