// helm against the test control plane, and `helm template` of our chart: used by the packaging tests and to give
// test operators exactly the chart's ServiceAccount permissions.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolveBinaries } from '../../tools/controlplane/binaries.ts';
import { controlPlaneInfo } from './cluster.ts';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const chart = join(repoRoot, 'charts', 'kube-replicator');

export interface Rule { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  rules?: Rule[];
  aggregationRule?: { clusterRoleSelectors: { matchLabels: Record<string, string> }[] };
  spec?: any;
  [k: string]: unknown;
}

/** helm with every home folder inside the control plane's folder: never the user's ~/.config, ~/.cache or ~/.kube. */
/**
 * stderr without the note helm prints for each symbolic link it follows (the chart's files/crds/ links to the
 * top-level crds/, so that the CRD exists once; `helm package` stores the file itself).
 */
export const withoutSymlinkNotes = (stderr: string): string =>
  stderr.split('\n').filter((l) => l && !l.includes('msg="found symbolic link in path.')).join('\n');

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const home = join(controlPlaneInfo().dir, 'helm-home');
  mkdirSync(home, { recursive: true });
  const env = {
    PATH: process.env.PATH, HOME: home, KUBECONFIG: controlPlaneInfo().kubeconfig,
    HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'),
  };
  const r = spawnSync(resolveBinaries().helm, args, { env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function helmOk(args: string[]): string {
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function parseObjects(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

/** `helm template` of the chart as release `release` in namespace `namespace`, with `--set`-style values. */
export function render(values: string[] = [], opts: { release?: string; namespace?: string } = {}): Obj[] {
  const args = ['template', opts.release ?? 'kube-replicator', chart, '--namespace', opts.namespace ?? 'kube-replicator'];
  for (const v of values) args.push(v.startsWith('--') ? v : `--set=${v}`);
  return parseObjects(helmOk(args));
}
