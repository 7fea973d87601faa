// Installs the project's CRDs (crds/*.yaml) into a control plane and waits until they are Established.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { httpsGet, httpsRequest, type ControlPlane } from './controlplane.ts';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crds');

export async function installCrds(cp: ControlPlane): Promise<void> {
  const tls = cp.adminTls();
  const base = `${cp.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const crd = doc.toJS() as { metadata: { name: string } };
      const r = await httpsRequest('POST', base, tls, crd);
      if (r.status !== 201 && r.status !== 409) throw new Error(`installing ${file}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = JSON.parse((await httpsGet(`${base}/${crd.metadata.name}`, tls)).body) as { status?: { conditions?: { type: string; status: string }[] } };
        if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after 30 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
