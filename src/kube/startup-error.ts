// Why the caches could not sync, in words an operator of the cluster can act on: bad credentials (401), a missing
// permission (403, the API server's message names the verb and resource), an API server that cannot be reached,
// TLS that does not verify, or a proxy that does not open a tunnel.
import { ApiError } from './client.ts';
import { ProxyError } from './proxy.ts';

/** The operator could not start: said once, at error level, and the process exits non-zero. */
export class StartupError extends Error {}

/** One line for a list or watch failure seen while caches synced. */
export function explainStartupFailure(err: unknown, server: string): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return `the API server at ${server} rejected the credentials (HTTP 401): the token or client certificate is wrong or expired`;
    if (err.status === 403) return `a permission is missing (HTTP 403): ${err.message}`;
    return `HTTP ${err.status}: ${err.message}`;
  }
  // Before the network checks: the API server may be fine, the proxy (named, without credentials) is what failed.
  if (err instanceof ProxyError) return err.message;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET'].includes(code) || e?.name === 'TimeoutError') {
    return `cannot reach the API server at ${server} (${code || 'timed out'})`;
  }
  if (/certificate|self[- ]signed|TLS|SSL/i.test(e?.message ?? '') || code.startsWith('ERR_TLS') || code.includes('CERT')) {
    // Node suggests --use-system-ca, which is no help here: the CA comes from the kubeconfig (or the Pod's mount).
    const message = e.message.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/, '');
    return `TLS to ${server} failed: ${message} (check the kubeconfig's certificate-authority)`;
  }
  return e instanceof Error ? e.message : String(err);
}
