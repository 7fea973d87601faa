import { expect, it } from '@jest/globals';
import { ApiError } from './client.ts';
import { ProxyError } from './proxy.ts';
import { explainStartupFailure } from './startup-error.ts';

const server = 'https://api.example:6443';

it('says what to fix for each way a start fails', () => {
  expect(explainStartupFailure(new ApiError(401, 'Unauthorized', 'Unauthorized'), server)).toBe('the API server at https://api.example:6443 rejected the credentials (HTTP 401): the token or client certificate is wrong or expired');
  expect(explainStartupFailure(new ApiError(403, 'Forbidden', 'secrets is forbidden: cannot list resource "secrets"'), server)).toBe('a permission is missing (HTTP 403): secrets is forbidden: cannot list resource "secrets"');
  expect(explainStartupFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), server)).toBe('cannot reach the API server at https://api.example:6443 (ECONNREFUSED)');
  expect(explainStartupFailure(Object.assign(new Error('getaddrinfo ENOTFOUND api.example'), { code: 'ENOTFOUND' }), server)).toContain('cannot reach the API server');
  expect(explainStartupFailure(Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), server))
    .toBe('TLS to https://api.example:6443 failed: unable to verify the first certificate (check the kubeconfig\'s certificate-authority)');
  // Node's own hint points at the wrong place for an operator: it is dropped.
  const selfSigned = Object.assign(new Error('self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  expect(explainStartupFailure(selfSigned, server)).toBe('TLS to https://api.example:6443 failed: self-signed certificate (check the kubeconfig\'s certificate-authority)');
  // A proxy's failure (its own connection refused, too) is the proxy's, not the API server's.
  const viaProxy = new ProxyError('cannot reach the proxy http://***@proxy:3128 (HTTPS_PROXY) (ECONNREFUSED)', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  expect(explainStartupFailure(viaProxy, server)).toBe('cannot reach the proxy http://***@proxy:3128 (HTTPS_PROXY) (ECONNREFUSED)');
});
