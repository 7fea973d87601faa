// Throwaway PKI for a local control plane, made with the openssl CLI (Node's crypto cannot issue certificates).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientCredentials {
  certFile: string;
  keyFile: string;
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class Pki {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  get caCert(): string { return join(this.dir, 'ca.crt'); }
  get caKey(): string { return join(this.dir, 'ca.key'); }
  get serverCert(): string { return join(this.dir, 'apiserver.crt'); }
  get serverKey(): string { return join(this.dir, 'apiserver.key'); }
  get saKey(): string { return join(this.dir, 'sa.key'); }
  get saPub(): string { return join(this.dir, 'sa.pub'); }

  /** CA, serving certificate for 127.0.0.1/localhost and the ServiceAccount signing key pair. */
  create(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const d = this.dir;
    // EC keys: far faster to generate than RSA on a 2-core machine.
    openssl(d, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=kube-replicator-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    writeFileSync(join(d, 'server.ext'),
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
    this.issue('apiserver', '/CN=kube-apiserver', 'server.ext');
    openssl(d, 'genrsa', '-out', 'sa.key', '2048');
    openssl(d, 'rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  }

  /** A client certificate for user `name` in `groups` (CN = user, O = group), as the API server reads it. */
  clientCert(name: string, groups: string[] = []): ClientCredentials {
    const file = `client-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    writeFileSync(join(this.dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
    const subject = [...groups.map((g) => `/O=${g}`), `/CN=${name}`].join('');
    this.issue(file, subject, 'client.ext');
    return { certFile: join(this.dir, `${file}.crt`), keyFile: join(this.dir, `${file}.key`) };
  }

  private issue(base: string, subject: string, extFile: string): void {
    const d = this.dir;
    openssl(d, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject);
    openssl(d, 'x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', '30', '-extfile', extFile, '-out', `${base}.crt`);
  }

  read(file: string): Buffer {
    return readFileSync(file);
  }
}
