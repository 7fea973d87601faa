// Jest globalSetup: one real control plane for the whole integration run. Test workers find it through
// KR_TEST_CONTROLPLANE (a JSON file), never through the user's own kubeconfig.
import { startControlPlane, type ControlPlane } from '../../tools/controlplane/controlplane.ts';
import { installCrds } from '../../tools/controlplane/crds.ts';

declare global {
  var __krControlPlane: ControlPlane | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.KR_TEST_CONTROLPLANE) return; // an already running one (e.g. from `npm run dev`) was named
  const started = Date.now();
  const cp = await startControlPlane({ compactionInterval: '10s' });
  globalThis.__krControlPlane = cp;
  await installCrds(cp);
  process.env.KR_TEST_CONTROLPLANE = `${cp.dir}/controlplane.json`;
  process.stderr.write(`\ncontrol plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${cp.server}\n`);
}
