import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type * as http from 'node:http';
import { KubeClient, qualifyServiceAccount } from './client.ts';
import type { KubeAccess, TlsOptions } from './kubeconfig.ts';

/** The client's connection pool for the next request (private: only its reuse policy is under test here). */
const agentOf = (c: KubeClient) => (c as unknown as { agent(): Promise<http.Agent> }).agent();

describe('KubeClient connection pool', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('keeps its pool (and warm connections) while the TLS material is the same, and makes a new one when it rotates', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    let tls: TlsOptions = { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1'), key: Buffer.from('key-1'), rejectUnauthorized: true };
    const access: KubeAccess = { server: 'https://127.0.0.1:6443', tls: async () => tls, authorization: async () => undefined };
    const client = new KubeClient(access);
    const first = await agentOf(client);
    jest.setSystemTime(1_000_000 + 61_000);
    expect(await agentOf(client)).toBe(first);
    tls = { ...tls, cert: Buffer.from('cert-2'), key: Buffer.from('key-2') };
    expect(await agentOf(client)).toBe(first); // read again only once a minute
    jest.setSystemTime(1_000_000 + 122_000);
    const rotated = await agentOf(client);
    expect(rotated).not.toBe(first);
    expect(await agentOf(client.impersonating({ user: 'system:serviceaccount:ops:writer' }))).toBe(rotated);
  });
});

describe('qualifyServiceAccount (--rbac-writer)', () => {
  it('keeps <namespace>/<name>, and puts a bare name in the operator\'s own namespace', () => {
    expect(qualifyServiceAccount('ops/writer', 'platform')).toBe('ops/writer');
    expect(qualifyServiceAccount('writer', 'platform')).toBe('platform/writer');
  });
  it('refuses a bare name when the own namespace is unknown, saying what to give', () => {
    expect(() => qualifyServiceAccount('writer', undefined)).toThrow('give <namespace>/writer');
  });
});
