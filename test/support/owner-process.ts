// Starts a control plane and idles: the lifecycle test kills this process to prove nothing is left behind.
import { startControlPlane } from '../../tools/controlplane/controlplane.ts';

const cp = await startControlPlane({ controllerManager: process.argv.includes('--with-kcm') });
process.stdout.write(`${JSON.stringify({ dir: cp.dir })}\n`);
setInterval(() => undefined, 60_000);
