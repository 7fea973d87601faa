// `npm run bench [-- --quick] [-- --only=fanout,update,explain,...] [-- --fanout=1000] [-- --cpu-prof=<dir>]`:
// kube-replicator against the local real control plane, each scenario next to a floor (the same writes issued
// directly by a minimal client at the operator's concurrency, in the same run). Prints a table, writes
// bench/results/<date>.json and .svg.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from '../tools/controlplane/controlplane.ts';
import { installCrds } from '../tools/controlplane/crds.ts';
import { replicatorAuditEntries } from '../tools/controlplane/audit-log.ts';
import { KubeClient } from '../src/kube/client.ts';
import { kubeAccessFromFiles } from '../src/kube/kubeconfig.ts';
import { Informer } from '../src/kube/informer.ts';
import type { KubeObject } from '../src/model/objects.ts';
import { renderSvg } from './chart.ts';
import { h2Client } from './h2-client.ts';
import { imageNodeFlags } from './image-node-flags.ts';
import { peakRss } from '../test/support/process-memory.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
/** `--fanout=1000`: only these fan-out sizes (e.g. to profile one). */
const fanoutSizes = argv.find((a) => a.startsWith('--fanout='))?.slice(9).split(',').map(Number);
/** `--cpu-prof=<dir>`: every operator (and explain) process writes a V8 CPU profile there when it stops. */
const cpuProfDir = argv.find((a) => a.startsWith('--cpu-prof='))?.slice(11);
/** `--explain-out=<dir>`: the explain scenario keeps each command's stdout there (to compare runs of two versions). */
const explainOutDir = argv.find((a) => a.startsWith('--explain-out='))?.slice(14);
const concurrency = 8;
/**
 * Operator/floor pairs per scenario with a floor (fan-out, update, many sources): this machine is shared and one
 * pair can swing by half; the round with the median ratio is reported, and every round's ratio is kept.
 */
const rounds = quick ? 1 : 3;
/** A new-namespace pair takes well under a second: enough of them that the median holds still. */
const newNsRounds = quick ? 2 : 9;
/**
 * Fan-out pairs: CPU per round swings more than time does (1.25–1.70 within one run of the same code, 3 rounds), so
 * five rounds, of which the median is reported.
 */
const fanoutRounds = quick ? 1 : 5;
const M = 'replicator.v1.mittwald.de/';
const sizes = quick
  ? { scale: [10, 100], flood: [100, 10], small: [10, 100], smallReps: 5, fanout: [50], many: 50, newNsSources: 20, restart: 200, unrelated: 500, memFanout: 50, idleSeconds: 10 }
  : { scale: [10, 10_000], flood: [2000, 30], small: [10, 100], smallReps: 15, fanout: [100, 1000, 3000], many: 2000, newNsSources: 200, restart: 10_000, unrelated: 20_000, memFanout: 1000, idleSeconds: 180 };
/** `explain`: namespaces one source reaches, replicas of other sources in the namespace explained, runs of each command. */
const explainSizes = quick ? { namespaces: 200, replicas: 50, runs: 1 } : { namespaces: 3000, replicas: 50, runs: 5 };

interface Result { scenario: string; n?: number; operatorMs?: number; floorMs?: number; ratio?: number; [k: string]: unknown }
const results: Result[] = [];
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const b64 = (s: string) => Buffer.from(s).toString('base64');

// The operator as the image runs it: the compiled dist/, not type-stripped sources (which cost ~25 MB more RSS).
log('building dist/');
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
log(`starting the control plane (${quick ? 'quick' : 'full'} run)`);
let cp: ControlPlane = await startControlPlane({ controllerManager: true });
await installCrds(cp);
let client = new KubeClient(await kubeAccessFromFiles([cp.kubeconfig]));

/** A fresh control plane, so a scenario measures only what it sets up itself. */
async function freshControlPlane(controllerManager = true): Promise<void> {
  await stopOperator();
  await cp.stop();
  log('starting a fresh control plane');
  cp = await startControlPlane({ controllerManager });
  await installCrds(cp);
  client = new KubeClient(await kubeAccessFromFiles([cp.kubeconfig]));
}
let operator: ChildProcess | undefined;
let statusPort = 0;

async function pool<T>(items: T[], width: number, f: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (i < items.length) await f(items[i++]!);
  }));
}

/**
 * `first(item)` for every item at `width`; meanwhile, at another `width`, the jobs `then(item)` returns once its
 * `first` is done (a source, then its copies).
 */
async function pipeline<T>(items: T[], width: number, first: (x: T) => Promise<unknown>, then: (x: T) => (() => Promise<unknown>)[]): Promise<void> {
  const jobs: (() => Promise<unknown>)[] = [];
  let producing = true;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  };
  const producer = pool(items, width, async (x) => {
    await first(x);
    jobs.push(...then(x));
    wake();
  }).finally(() => {
    producing = false;
    wake();
  });
  const consumers = Array.from({ length: width }, async () => {
    for (;;) {
      const job = jobs.shift();
      if (job) await job();
      else if (!producing) return;
      else await new Promise<void>((r) => waiters.push(r));
    }
  });
  await Promise.all([producer, ...consumers]);
}

const post = (path: string, body: unknown) => client.request('POST', path, { body });
const secretsPath = (ns: string) => `/api/v1/namespaces/${ns}/secrets`;

async function namespaces(prefix: string, n: number, labels: Record<string, string>): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await pool(names, 16, (name) => post('/api/v1/namespaces', { metadata: { name, labels } }));
  return names;
}

/** The V8 heap limit Node picks inside a container limited to the chart's 512 MiB (it sizes its heap from the cgroup). */
const chartHeap = ['--max-old-space-size=256'];

async function startOperator(extra: string[] = [], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<number> {
  statusPort = 19200 + Math.floor(Math.random() * 500);
  const t0 = performance.now();
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  operator = spawn(process.execPath, [...imageNodeFlags, ...profile, ...nodeArgs, join(root, 'dist', 'main.js'), 'run', `--kubeconfig=${cp.kubeconfig}`, `--status-addr=127.0.0.1:${statusPort}`, `--concurrency=${concurrency}`, '--log-level=warn', ...extra], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${statusPort}/readyz`)).status === 200) return performance.now() - t0;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopOperator(): Promise<void> {
  if (!operator || operator.exitCode !== null) return;
  const done = new Promise((r) => operator!.once('exit', r));
  operator.kill('SIGTERM');
  await done;
}

async function metric(name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#')).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}

/** CPU seconds used so far by the control plane's processes (etcd, kube-apiserver, kube-controller-manager). */
function controlPlaneCpuS(): number {
  let ticks = 0;
  for (const pid of readFileSync(join(cp.dir, 'pids'), 'utf8').split('\n').filter(Boolean)) {
    try {
      // /proc/<pid>/stat: utime and stime are fields 14 and 15, after the parenthesised command name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* exited */ }
  }
  return ticks / 100; // USER_HZ
}

/** The operator's API requests so far, by method and status class (e.g. `POST 2xx`). */
async function requestCounts(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kube_replicator_api_requests_total\{method="([^"]+)",code="([^"]+)"\} (\S+)$/gm)) out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}

/** What the operator requested between two requestCounts(). */
function requestsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
}

/**
 * Records when each object selected by `labelSelector` is first seen current; `done` once `count` are. The operator
 * and the floor are both timed this way (a watch that sees every object land), so both pay the same observer.
 */
function watchObjects(kind: 'secrets' | 'configmaps', labelSelector: string, count: number, isCurrent: (o: KubeObject) => boolean) {
  const seen = new Map<string, number>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const informer = new Informer<KubeObject>(client, {
    name: 'bench', path: `/api/v1/${kind}`, labelSelector,
    onEvent: (type, o) => {
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      if (type !== 'delete' && isCurrent(o) && !seen.has(key)) seen.set(key, performance.now());
      if (seen.size >= count) resolve();
    },
  });
  informer.start();
  return { informer, seen, done, synced: informer.synced };
}

const replicasOf = (sourceNs: string) => `kube-replicator.io/source-namespace=${sourceNs}`;
/** Floor objects carry this label, so the floor's watch sees exactly them. */
const floorLabel = 'kube-replicator-bench/floor';
const floorOf = (tag: string) => `${floorLabel}=${tag}`;
/** Labels and annotations a floor object carries: those of a replica the operator just wrote, renamed. */
interface FloorShape { labels: Record<string, string>; annotations: Record<string, string> }
const noShape: FloorShape = { labels: {}, annotations: {} };
const floorMeta = (name: string, tag: string, shape = noShape) => ({ name, labels: { ...shape.labels, [floorLabel]: tag }, annotations: shape.annotations });

/**
 * The floor writes what the operator writes: objects with a replica's labels and annotations (provenance, mittwald's
 * replicated-at/-keys/-version), so the API server stores, tracks and delivers the same fields. Keys are renamed out
 * of our and mittwald's prefixes so that the operator sees plain objects, not replicas.
 */
async function floorShape(kind: 'secrets' | 'configmaps', namespace: string, name: string): Promise<FloorShape> {
  const o = await client.request<KubeObject>('GET', `/api/v1/namespaces/${namespace}/${kind}/${name}`);
  const rename = (m: Record<string, string> | undefined) => Object.fromEntries(Object.entries(m ?? {})
    .map(([k, v]) => [k.replace(/^kube-replicator\.io\//, 'floor.replicator.io/').replace(/^replicator\.v1\.mittwald\.de\//, 'floor.v1.mittwald.de/'), v]));
  return { labels: rename(o.metadata.labels), annotations: rename(o.metadata.annotations) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

// ---- scenarios ---------------------------------------------------------------------------------

/** The round whose operator/floor ratio is the median: one pair measured together, not a mix of rounds. */
function medianRound<T extends { ratio: number }>(rounds: T[]): T {
  return [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
}

/** `label` names the rows of a fan-out run inside another scenario (memory), so they are not read as scenario 1. */
async function fanout(n: number, prefix = 'fan', roundsWanted = fanoutRounds, label = ''): Promise<void> {
  const src = `${prefix}${n}-src`;
  await post('/api/v1/namespaces', { metadata: { name: src } });
  const targets = await namespaces(`${prefix}${n}`, n, { [`${prefix}${n}`]: 'yes' });
  // A second floor over HTTP/2 (one session, streams multiplexed), the operator's HTTP/1.1 keep-alive pool being
  // what the first floor uses: the fan-out's ratio is against the faster of the two.
  const h2 = h2Client(await kubeAccessFromFiles([cp.kubeconfig]));
  const floorH2Tag = `${src}-h2`;
  const creates: { operatorMs: number; floorMs: number; floorH2Ms: number; ratio: number; ratioH1: number;
    operatorCpuS: number; floorClientCpuS: number; floorH2ClientCpuS: number; cpuRatio: number }[] = [];
  const updates: { operatorMs: number; floorMs: number; ratio: number; lat: number[]; floorLat: number[] }[] = [];
  for (let r = 0; r < roundsWanted; r++) {
    const name = `fan-r${r}`;
    const floorName = `floor-r${r}`;
    const floorH2Name = `floor2-r${r}`;
    const value = b64(`v1-${n}-r${r}`);
    const w = watchObjects('secrets', replicasOf(src), n, (o) => o.data?.k === value);
    await w.synced;
    const c0 = await metric('process_cpu_seconds_total');
    const t0 = performance.now();
    await post(secretsPath(src), { metadata: { name, annotations: { [`${M}replicate-to-matching`]: `${prefix}${n}=yes` } }, data: { k: value } });
    await w.done;
    const operatorMs = performance.now() - t0;
    // The operator's CPU over its create phase (its watches included; the scrape itself adds a little).
    const operatorCpuS = (await metric('process_cpu_seconds_total')) - c0;
    // Floor: the same N creates, issued directly at the operator's concurrency, timed by the same kind of watch.
    // Its client's CPU is this process's over the creates and the watch (which shares the process, as the
    // operator's figure includes its own watches).
    const shape = await floorShape('secrets', targets[0]!, name);
    const fw = watchObjects('secrets', floorOf(src), n, (o) => o.data?.k === value);
    await fw.synced;
    const fc0 = process.cpuUsage();
    const f0 = performance.now();
    await pool(targets, concurrency, (ns) => post(secretsPath(ns), { metadata: floorMeta(floorName, src, shape), data: { k: value } }));
    await fw.done;
    const floorMs = performance.now() - f0;
    const fUsed = process.cpuUsage(fc0);
    const floorClientCpuS = (fUsed.user + fUsed.system) / 1e6;
    // The same again over HTTP/2, under its own floor tag so that its watch sees exactly its objects.
    const f2w = watchObjects('secrets', floorOf(floorH2Tag), n, (o) => o.data?.k === value);
    await f2w.synced;
    const f2c0 = process.cpuUsage();
    const f20 = performance.now();
    await pool(targets, concurrency, (ns) => h2.post(secretsPath(ns), { metadata: floorMeta(floorH2Name, floorH2Tag, shape), data: { k: value } }));
    await f2w.done;
    const floorH2Ms = performance.now() - f20;
    const f2Used = process.cpuUsage(f2c0);
    const floorH2ClientCpuS = (f2Used.user + f2Used.system) / 1e6;
    await f2w.informer.stop();
    creates.push({ operatorMs, floorMs, floorH2Ms, ratio: operatorMs / Math.min(floorMs, floorH2Ms), ratioH1: operatorMs / floorMs,
      operatorCpuS, floorClientCpuS, floorH2ClientCpuS, cpuRatio: operatorCpuS / floorClientCpuS });
    log(`fan-out N=${n} round ${r + 1}: operator ${operatorMs.toFixed(0)} ms, floor ${floorMs.toFixed(0)} ms (HTTP/1.1), ${floorH2Ms.toFixed(0)} ms (HTTP/2); `
      + `CPU operator ${operatorCpuS.toFixed(2)} s, floor client ${floorClientCpuS.toFixed(2)} s (HTTP/1.1), ${floorH2ClientCpuS.toFixed(2)} s (HTTP/2); `
      + `${(1000 * operatorCpuS / n).toFixed(2)} vs ${(1000 * floorClientCpuS / n).toFixed(2)} ms per write`);

    // Update propagation: edit the source; latency of each replica.
    const value2 = b64(`v2-${n}-r${r}`);
    const u = watchObjects('secrets', replicasOf(src), n, (o) => o.data?.k === value2);
    await u.synced;
    const u0 = performance.now();
    await client.request('PATCH', `${secretsPath(src)}/${name}`, { body: { data: { k: value2 } }, contentType: 'application/merge-patch+json' });
    await u.done;
    const lat = [...u.seen.values()].map((t) => t - u0).sort((a, b) => a - b);
    const fu = watchObjects('secrets', floorOf(src), n, (o) => o.data?.k === value2);
    await fu.synced;
    const g0 = performance.now();
    await pool(targets, concurrency, (ns) => client.request('PATCH', `${secretsPath(ns)}/${floorName}`, { body: { data: { k: value2 } }, contentType: 'application/merge-patch+json' }));
    await fu.done;
    const floorLat = [...fu.seen.values()].map((t) => t - g0).sort((a, b) => a - b);
    const opMax = lat[lat.length - 1]!;
    const flMax = floorLat[floorLat.length - 1]!;
    updates.push({ operatorMs: opMax, floorMs: flMax, ratio: opMax / flMax, lat, floorLat });
    log(`update N=${n} round ${r + 1}: p50 ${percentile(lat, 50).toFixed(0)} p99 ${percentile(lat, 99).toFixed(0)} max ${opMax.toFixed(0)} ms; floor max ${flMax.toFixed(0)} ms`);
    await Promise.all([w, u, fw, fu].map((x) => x.informer.stop()));
  }
  h2.close();
  const c = medianRound(creates);
  // CPU swings from round to round as much as time does: its own median over the rounds (each round's is kept).
  const cpuRounds = creates.map((x) => x.cpuRatio);
  const cpuRatio = [...cpuRounds].sort((a, b) => a - b)[Math.floor(cpuRounds.length / 2)]!;
  results.push({ scenario: `${label}fan-out`, n, ...c, cpuRatio, cpuRounds, rounds: creates.map((x) => x.ratio) });
  const u = medianRound(updates);
  results.push({ scenario: `${label}update`, n, operatorMs: u.operatorMs, floorMs: u.floorMs, ratio: u.ratio, p50: percentile(u.lat, 50), p99: percentile(u.lat, 99), max: u.operatorMs,
    floorP50: percentile(u.floorLat, 50), floorP99: percentile(u.floorLat, 99), rounds: updates.map((x) => x.ratio) });
}

/**
 * `small`: what a user waits for after creating one Secret for a few namespaces. One fresh source per repetition,
 * pushed to the same N namespaces, with a pause between repetitions as between a user's commands; the floor
 * makes the same N creates in the same repetition. Median and p90 of the time to the last replica.
 */
async function small(n: number, reps: number): Promise<void> {
  const src = `small${n}-src`;
  await post('/api/v1/namespaces', { metadata: { name: src } });
  const targets = await namespaces(`small${n}`, n, { [`small${n}`]: 'yes' });
  const op: number[] = [];
  const fl: number[] = [];
  let shape: FloorShape | undefined;
  for (let r = 0; r < reps; r++) {
    const value = b64(`small-${n}-r${r}`);
    const operator = async () => {
      const w = watchObjects('secrets', replicasOf(src), n, (o) => o.data?.k === value);
      await w.synced;
      const t0 = performance.now();
      await post(secretsPath(src), { metadata: { name: `s-r${r}`, annotations: { [`${M}replicate-to-matching`]: `small${n}=yes` } }, data: { k: value } });
      await w.done;
      op.push(performance.now() - t0);
      shape ??= await floorShape('secrets', targets[0]!, `s-r${r}`);
      await w.informer.stop();
    };
    const floor = async () => {
      const fw = watchObjects('secrets', floorOf(src), n, (o) => o.data?.k === value);
      await fw.synced;
      const f0 = performance.now();
      await pool(targets, concurrency, (ns) => post(secretsPath(ns), { metadata: floorMeta(`f-r${r}`, src, shape), data: { k: value } }));
      await fw.done;
      fl.push(performance.now() - f0);
      await fw.informer.stop();
    };
    // Whichever side goes first meets what the other left behind (kube-controller-manager, the watch cache): the
    // order alternates. The first round is the operator's: the floor copies the shape of its replica.
    const floorFirst = r % 2 === 1;
    if (floorFirst) await floor();
    await operator();
    if (!floorFirst) await floor();
    log(`small N=${n} round ${r + 1}${floorFirst ? ' (floor first)' : ''}: operator ${op[r]!.toFixed(0)} ms, floor ${fl[r]!.toFixed(0)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const [o, f] = [sorted(op), sorted(fl)];
  results.push({ scenario: 'small', n, operatorMs: percentile(o, 50), floorMs: percentile(f, 50), ratio: percentile(o, 50) / percentile(f, 50),
    p90: percentile(o, 90), floorP90: percentile(f, 90), rounds: op.map((x, i) => x / fl[i]!) });
}

async function manySources(n: number): Promise<void> {
  const src = 'many-src';
  const floorSrc = 'many-floor-src';
  await post('/api/v1/namespaces', { metadata: { name: src } });
  await post('/api/v1/namespaces', { metadata: { name: floorSrc } });
  const targets = await namespaces('many', 5, {});
  const pattern = targets.join(',');
  const half = Math.floor(n / 2);
  const items = Array.from({ length: n }, (_, i) => i);
  const done: Result[] = [];
  for (let r = 0; r < rounds; r++) {
    const ws = watchObjects('secrets', replicasOf(src), half * 5, (o) => o.metadata.name.startsWith(`r${r}-`));
    const wc = watchObjects('configmaps', replicasOf(src), (n - half) * 5, (o) => o.metadata.name.startsWith(`r${r}-`));
    await Promise.all([ws.synced, wc.synced]);
    const r0 = await requestCounts();
    const c0 = await metric('process_cpu_seconds_total');
    const k0 = controlPlaneCpuS();
    const t0 = performance.now();
    await pool(items, concurrency, (i) => i < half
      ? post(secretsPath(src), { metadata: { name: `r${r}-s${i}`, annotations: { [`${M}replicate-to`]: pattern } }, data: { k: b64(String(i)) } })
      : post(`/api/v1/namespaces/${src}/configmaps`, { metadata: { name: `r${r}-c${i}`, annotations: { [`${M}replicate-to`]: pattern } }, data: { k: String(i) } }));
    await Promise.all([ws.done, wc.done]);
    const operatorMs = performance.now() - t0;
    const operatorRequests = requestsBetween(r0, await requestCounts());
    const operatorCpuS = (await metric('process_cpu_seconds_total')) - c0;
    const controlPlaneCpuOperatorS = controlPlaneCpuS() - k0;
    // Floor: the same writes in the same shape. The operator's time includes the n source creations (made by this
    // bench at `concurrency`, while the operator replicates at `concurrency`), so the floor also creates n sources
    // at `concurrency` and, at `concurrency`, writes each one's 5 copies as soon as it exists.
    const secretShape = await floorShape('secrets', targets[0]!, `r${r}-s0`);
    const configMapShape = await floorShape('configmaps', targets[0]!, `r${r}-c${half}`);
    const fs = watchObjects('secrets', floorOf(floorSrc), half * 5, (o) => o.metadata.name.startsWith(`r${r}-`));
    const fc = watchObjects('configmaps', floorOf(floorSrc), (n - half) * 5, (o) => o.metadata.name.startsWith(`r${r}-`));
    await Promise.all([fs.synced, fc.synced]);
    const fc0 = process.cpuUsage();
    const fk0 = controlPlaneCpuS();
    const f0 = performance.now();
    await pipeline(items, concurrency,
      (i) => i < half
        ? post(secretsPath(floorSrc), { metadata: { name: `r${r}-s${i}` }, data: { k: b64(String(i)) } })
        : post(`/api/v1/namespaces/${floorSrc}/configmaps`, { metadata: { name: `r${r}-c${i}` }, data: { k: String(i) } }),
      (i) => targets.map((ns) => () => i < half
        ? post(secretsPath(ns), { metadata: floorMeta(`r${r}-floor-s${i}`, floorSrc, secretShape), data: { k: b64(String(i)) } })
        : post(`/api/v1/namespaces/${ns}/configmaps`, { metadata: floorMeta(`r${r}-floor-c${i}`, floorSrc, configMapShape), data: { k: String(i) } })));
    await Promise.all([fs.done, fc.done]);
    const floorMs = performance.now() - f0;
    const used = process.cpuUsage(fc0);
    // The floor client shares this process with the watches that time it; the operator's figure includes its watches.
    const floorClientCpuS = (used.user + used.system) / 1e6;
    const controlPlaneCpuFloorS = controlPlaneCpuS() - fk0;
    done.push({ scenario: 'many sources', n, replicas: n * 5, operatorMs, floorMs, ratio: operatorMs / floorMs, operatorRequests, operatorCpuS, floorClientCpuS, controlPlaneCpuOperatorS, controlPlaneCpuFloorS });
    log(`many sources N=${n} (${n * 5} replicas) round ${r + 1}: operator ${operatorMs.toFixed(0)} ms, floor ${floorMs.toFixed(0)} ms; operator requests ${JSON.stringify(operatorRequests)}; CPU operator ${operatorCpuS.toFixed(1)} s, floor client ${floorClientCpuS.toFixed(1)} s, control plane ${controlPlaneCpuOperatorS.toFixed(1)} s vs ${controlPlaneCpuFloorS.toFixed(1)} s`);
    await Promise.all([ws, wc, fs, fc].map((x) => x.informer.stop()));
  }
  results.push({ ...medianRound(done as (Result & { ratio: number })[]), rounds: done.map((x) => x.ratio) });
}

/** The shape of a replica in a new namespace: one labelled namespace, its replicas awaited (not timed). */
async function floorShapeOfNewNamespace(src: string, n: number): Promise<FloorShape> {
  const w = watchObjects('secrets', replicasOf(src), n, (o) => o.metadata.namespace === 'newns-shape');
  await w.synced;
  await post('/api/v1/namespaces', { metadata: { name: 'newns-shape', labels: { newns: 'yes' } } });
  await w.done;
  await w.informer.stop();
  return floorShape('secrets', 'newns-shape', 's0');
}

/** Time from `create(namespace)` to the `n`th object seen by `watch`, and to the first. */
async function timeNewNamespace(namespace: string, n: number, watch: () => ReturnType<typeof watchObjects>, create: (ns: string) => Promise<void>) {
  const w = watch();
  await w.synced;
  const r0 = await requestCounts();
  const t0 = performance.now();
  await create(namespace);
  await w.done;
  const ms = performance.now() - t0;
  const requests = requestsBetween(r0, await requestCounts());
  await w.informer.stop();
  return { ms, firstMs: Math.min(...w.seen.values()) - t0, requests };
}

async function newNamespace(n: number): Promise<void> {
  const src = 'newns-src';
  await post('/api/v1/namespaces', { metadata: { name: src } });
  await pool(Array.from({ length: n }, (_, i) => i), concurrency, (i) => post(secretsPath(src), {
    metadata: { name: `s${i}`, annotations: { [`${M}replicate-to-matching`]: 'newns=yes' } }, data: { k: b64(String(i)) } }));
  const shape = await floorShapeOfNewNamespace(src, n);
  // One pair swings by half on this shared machine, and kube-controller-manager may still be filling the namespaces
  // of earlier scenarios, which slows whichever side runs first: more pairs, the side that goes first alternating,
  // the pair with the median ratio reported.
  const done: (Result & { ratio: number })[] = [];
  for (let r = 0; r < newNsRounds; r++) {
    const operator = () => timeNewNamespace(`newns-target-r${r}`, n, () => watchObjects('secrets', replicasOf(src), n, (o) => o.metadata.namespace === `newns-target-r${r}`),
      async (ns) => { await post('/api/v1/namespaces', { metadata: { name: ns, labels: { newns: 'yes' } } }); });
    const floor = () => timeNewNamespace(`newns-floor-r${r}`, n, () => watchObjects('secrets', floorOf(`newns-floor-r${r}`), n, () => true), async (ns) => {
      await post('/api/v1/namespaces', { metadata: { name: ns } });
      await pool(Array.from({ length: n }, (_, i) => i), concurrency, (i) => post(secretsPath(ns), { metadata: floorMeta(`s${i}`, ns, shape), data: { k: b64(String(i)) } }));
    });
    const floorFirst = r % 2 === 1;
    const first = await (floorFirst ? floor() : operator());
    const second = await (floorFirst ? operator() : floor());
    const [op, fl] = floorFirst ? [second, first] : [first, second];
    done.push({ scenario: 'new namespace', n, operatorMs: op.ms, floorMs: fl.ms, ratio: op.ms / fl.ms, operatorFirstMs: op.firstMs, floorFirstMs: fl.firstMs, operatorRequests: op.requests });
    log(`new namespace with ${n} sources round ${r + 1}${floorFirst ? ' (floor first)' : ''}: operator ${op.ms.toFixed(0)} ms (first replica ${op.firstMs.toFixed(0)} ms), floor ${fl.ms.toFixed(0)} ms (first ${fl.firstMs.toFixed(0)} ms); operator requests ${JSON.stringify(op.requests)}`);
  }
  results.push({ ...medianRound(done), rounds: done.map((x) => x.ratio) });
}
/** Writes by kube-replicator recorded in the audit log since byte `offset`. */
function auditWrites(offset: number): number {
  return replicatorAuditEntries(cp.auditLog, offset).length;
}

async function restart(replicas: number): Promise<void> {
  // `replicas` replicas in place: sources in one namespace, 10 targets each.
  const src = 'restart-src';
  await post('/api/v1/namespaces', { metadata: { name: src } });
  const targets = await namespaces('restart', 10, { restart: 'yes' });
  const sources = Math.ceil(replicas / targets.length);
  const w = watchObjects('secrets', replicasOf(src), sources * targets.length, () => true);
  await w.synced;
  await pool(Array.from({ length: sources }, (_, i) => i), concurrency, (i) => post(secretsPath(src), {
    metadata: { name: `r${i}`, annotations: { [`${M}replicate-to-matching`]: 'restart=yes' } }, data: { k: b64(String(i)) } }));
  await w.done;
  await w.informer.stop();
  await stopOperator();
  const offset = statSync(cp.auditLog).size;
  const readyMs = await startOperator();
  // Wait until every replica has been reconciled once (reconcile counter), then count writes.
  const want = sources * targets.length;
  for (;;) {
    if ((await metric('kube_replicator_reconcile_total', 'kind="Secret"')) >= want && (await metric('kube_replicator_workqueue_depth')) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const settledMs = performance.now();
  const writes = auditWrites(offset);
  results.push({ scenario: 'restart', n: want, readyMs, writes });
  log(`restart with ${want} replicas: ready in ${readyMs.toFixed(0)} ms, ${writes} writes (settled at ${settledMs.toFixed(0)})`);
}

async function memory(unrelated: number, n: number): Promise<void> {
  // Only what the scenario describes: the unrelated Secrets and one fan-out (not the replicas of earlier scenarios).
  await freshControlPlane();
  const ns = 'mem-unrelated';
  await post('/api/v1/namespaces', { metadata: { name: ns } });
  const blob = b64('x'.repeat(10 * 1024 - 1));
  await pool(Array.from({ length: unrelated }, (_, i) => i), 16, (i) => post(secretsPath(ns), { metadata: { name: `u${i}` }, data: { blob } }));
  await startOperator();
  await fanout(n, 'memfan', 1, 'memory: ');
  const rss = await metric('process_resident_memory_bytes');
  const heap = await metric('nodejs_heap_size_used_bytes');
  results.push({ scenario: 'memory', n, unrelated, rssMB: rss / 2 ** 20, heapMB: heap / 2 ** 20 });
  log(`memory with ${unrelated} unrelated 10 KB Secrets + fan-out ${n}: RSS ${(rss / 2 ** 20).toFixed(0)} MB, heap ${(heap / 2 ** 20).toFixed(0)} MB`);
}

/** The operator's peak resident set so far (the kernel's high-water mark), in bytes. */
const operatorPeakRss = () => peakRss(operator!.pid!);

/** `flood-memory`: one namespace's Secrets of 4 KiB pushed into every namespace a pattern reaches; peak RSS. */
async function floodMemory(sources: number, n: number): Promise<void> {
  await freshControlPlane();
  await startOperator([], chartHeap);
  const src = 'flood-src';
  await post('/api/v1/namespaces', { metadata: { name: src } });
  await namespaces('flood-t', n, {});
  const w = watchObjects('secrets', replicasOf(src), sources * n, () => true);
  await w.synced;
  const t0 = performance.now();
  await pool(Array.from({ length: sources }, (_, i) => i), 16, (i) => post(secretsPath(src), {
    metadata: { name: `f${i}`, annotations: { [`${M}replicate-to`]: 'flood-t-.*' } }, data: { blob: randomBytes(4096).toString('base64') } }));
  await w.done;
  const ms = performance.now() - t0;
  await w.informer.stop();
  const peak = operatorPeakRss();
  const heap = await metric('nodejs_heap_size_used_bytes');
  await stopOperator();
  await startOperator([], chartHeap);
  const want = sources * n;
  for (;;) {
    if ((await metric('kube_replicator_reconcile_total', 'kind="Secret"')) >= want && (await metric('kube_replicator_workqueue_depth')) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const restartPeak = operatorPeakRss();
  results.push({ scenario: 'flood-memory', n: want, operatorMs: ms, rssMB: peak / 2 ** 20, heapMB: heap / 2 ** 20, restartRssMB: restartPeak / 2 ** 20 });
  log(`flood-memory ${sources} × ${n}: ${want} replicas in ${(ms / 1000).toFixed(1)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (heap used ${(heap / 2 ** 20).toFixed(0)} MiB), after a restart ${(restartPeak / 2 ** 20).toFixed(0)} MiB`);
  await stopOperator();
}

/**
 * `scale`: `sources` Secrets pushed to `n` namespaces (10 × 10 000 = 100 000 replicas) against the floor's same
 * creates; then an update of one source (latency to each of its n replicas, against the floor's n updates); then a
 * restart (time to ready, writes until every replica was visited). Without kube-controller-manager: it would spend
 * the whole scenario creating a ServiceAccount and a ConfigMap in each new namespace at 20 requests/s.
 */
async function scale(sources: number, n: number): Promise<void> {
  await freshControlPlane(false);
  await startOperator([], chartHeap);
  const src = 'scale-src';
  await post('/api/v1/namespaces', { metadata: { name: src } });
  const targets = await namespaces('scale', n, { scale: 'yes' });
  const want = sources * n;
  const w = watchObjects('secrets', replicasOf(src), want, () => true);
  await w.synced;
  const t0 = performance.now();
  await pool(Array.from({ length: sources }, (_, i) => i), concurrency, (i) => post(secretsPath(src), {
    metadata: { name: `s${i}`, annotations: { [`${M}replicate-to-matching`]: 'scale=yes' } }, data: { k: b64(`v1-${i}`) } }));
  await w.done;
  const operatorMs = performance.now() - t0;
  await w.informer.stop();
  const shape = await floorShape('secrets', targets[0]!, 's0');
  const fw = watchObjects('secrets', floorOf(src), want, () => true);
  await fw.synced;
  const f0 = performance.now();
  const jobs = targets.flatMap((ns) => Array.from({ length: sources }, (_, i) => ({ ns, i })));
  await pool(jobs, concurrency, ({ ns, i }) => post(secretsPath(ns), { metadata: floorMeta(`f${i}`, src, shape), data: { k: b64(`v1-${i}`) } }));
  await fw.done;
  const floorMs = performance.now() - f0;
  await fw.informer.stop();
  log(`scale ${sources} × ${n}: operator ${(operatorMs / 1000).toFixed(1)} s, floor ${(floorMs / 1000).toFixed(1)} s`);
  results.push({ scenario: 'scale', n: want, operatorMs, floorMs, ratio: operatorMs / floorMs, rssMB: operatorPeakRss() / 2 ** 20 });

  const value2 = b64('v2-0');
  const u = watchObjects('secrets', replicasOf(src), n, (o) => o.metadata.name === 's0' && o.data?.k === value2);
  await u.synced;
  const u0 = performance.now();
  await client.request('PATCH', `${secretsPath(src)}/s0`, { body: { data: { k: value2 } }, contentType: 'application/merge-patch+json' });
  await u.done;
  const lat = [...u.seen.values()].map((t) => t - u0).sort((a, b) => a - b);
  await u.informer.stop();
  const fu = watchObjects('secrets', floorOf(src), n, (o) => o.metadata.name === 'f0' && o.data?.k === value2);
  await fu.synced;
  const g0 = performance.now();
  await pool(targets, concurrency, (ns) => client.request('PATCH', `${secretsPath(ns)}/f0`, { body: { data: { k: value2 } }, contentType: 'application/merge-patch+json' }));
  await fu.done;
  const floorLat = [...fu.seen.values()].map((t) => t - g0).sort((a, b) => a - b);
  await fu.informer.stop();
  results.push({ scenario: 'scale update', n, p50: percentile(lat, 50), p99: percentile(lat, 99), floorP99: percentile(floorLat, 99), ratio: percentile(lat, 99) / percentile(floorLat, 99) });
  log(`scale update to ${n}: p99 ${percentile(lat, 99).toFixed(0)} ms, floor p99 ${percentile(floorLat, 99).toFixed(0)} ms`);

  await stopOperator();
  const offset = statSync(cp.auditLog).size;
  const readyMs = await startOperator([], chartHeap);
  for (;;) {
    if ((await metric('kube_replicator_reconcile_total', 'kind="Secret"')) >= want && (await metric('kube_replicator_workqueue_depth')) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const writes = auditWrites(offset);
  results.push({ scenario: 'scale restart', n: want, readyMs, writes, rssMB: operatorPeakRss() / 2 ** 20 });
  log(`scale restart with ${want} replicas: ready in ${(readyMs / 1000).toFixed(1)} s, ${writes} writes, peak RSS ${(operatorPeakRss() / 2 ** 20).toFixed(0)} MiB`);
  await stopOperator();
}

async function idle(seconds: number): Promise<void> {
  // Settle first: nothing changes any more. After thousands of new namespaces, kube-controller-manager keeps
  // creating a ServiceAccount and a kube-root-ca.crt ConfigMap in each (at its 20 requests/s) for minutes, and
  // each is an event the operator handles: wait until the operator's reconcile count holds still for 15 s.
  const s0 = performance.now();
  for (let last = -1; ;) {
    const now = await metric('kube_replicator_reconcile_total');
    if (now === last && (await metric('kube_replicator_workqueue_depth')) === 0) break;
    last = now;
    await new Promise((r) => setTimeout(r, 15_000));
  }
  log(`cluster quiet after ${((performance.now() - s0) / 1000).toFixed(0)} s`);
  const offset = statSync(cp.auditLog).size;
  const cpu0 = await metric('process_cpu_seconds_total');
  const req0 = await metric('kube_replicator_api_requests_total');
  const byMethod0 = await requestCounts();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (await metric('process_cpu_seconds_total')) - cpu0;
  const requests = (await metric('kube_replicator_api_requests_total')) - req0;
  const idleRequests = requestsBetween(byMethod0, await requestCounts());
  const writes = auditWrites(offset);
  results.push({ scenario: 'idle', seconds: elapsed, cpuPercentOfCore: (100 * cpu) / elapsed, requestsPerMinute: (60 * requests) / elapsed, writes, requests: idleRequests });
  log(`idle ${elapsed.toFixed(0)} s: ${((100 * cpu) / elapsed).toFixed(2)} % of a core, ${((60 * requests) / elapsed).toFixed(1)} requests/min (${JSON.stringify(idleRequests)}), ${writes} writes`);
}

/**
 * One `explain` as a user runs it (`node dist/main.js explain …`, no flags of the image): wall time from spawn to
 * exit, peak RSS (VmHWM, sampled every 10 ms until the process ends: the last sample), exit code and stdout.
 */
async function explainCli(args: string[]): Promise<{ ms: number; rssMB: number; code: number; out: string }> {
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const t0 = performance.now();
  const child = spawn(process.execPath, [...profile, join(root, 'dist', 'main.js'), 'explain', ...args, `--kubeconfig=${cp.kubeconfig}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let peak = 0;
  const sample = () => {
    try { peak = peakRss(child.pid!); } catch { /* exited */ }
  };
  const timer = setInterval(sample, 10);
  sample();
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { ms, rssMB: peak / 2 ** 20, code, out };
}

/** What an explanation says first: the source's counts when it has a source part, else its first line. */
const headline = (out: string) => { const lines = out.split('\n'); return lines.find((l) => l.includes(': source of ')) ?? lines[0]!; };

/**
 * `explain`: one source Secret pushed to `n` namespaces by its annotation (`replicate-to: ".*"`) and by a
 * ReplicationPolicy (two rules, a conflict in every namespace; in every sixth a Secret of that name of the
 * namespace's own, which both are refused), and `replicas` sources of another namespace pushed into one of them. Once the operator has them in sync, the explain CLI is timed as a user runs it, against the
 * settings the operator published: the source across n namespaces, one replica, and the namespace with the many
 * replicas. Absolute times (there is no floor); each command runs `runs` times, the median run reported.
 */
async function explainScenario(n: number, replicas: number, runs: number): Promise<void> {
  await freshControlPlane(false);
  const operatorNs = 'kube-replicator';
  await post('/api/v1/namespaces', { metadata: { name: operatorNs } });
  await startOperator([], [], { POD_NAMESPACE: operatorNs });
  const src = 'explain-src';
  const many = 'explain-many';
  await post('/api/v1/namespaces', { metadata: { name: src } });
  await post('/api/v1/namespaces', { metadata: { name: many } });
  const targets = await namespaces('explain', n, { explain: 'yes' });
  const crowded = targets[Math.floor(n / 2)]!;
  // Every sixth namespace has a Secret of that name of its own: no rule takes it over, and its plan reads it.
  const own = targets.filter((_, i) => i % 6 === 5);
  await pool(own, concurrency, (ns) => post(secretsPath(ns), { metadata: { name: 'creds' }, data: { own: b64(ns) } }));
  const w = watchObjects('secrets', replicasOf(src), n - own.length, (o) => o.metadata.namespace!.startsWith('explain-') && o.metadata.namespace !== many);
  const wm = watchObjects('secrets', replicasOf(many), replicas, () => true);
  await Promise.all([w.synced, wm.synced]);
  const t0 = performance.now();
  await post('/apis/kube-replicator.io/v1alpha1/replicationpolicies', {
    apiVersion: 'kube-replicator.io/v1alpha1', kind: 'ReplicationPolicy', metadata: { name: 'explain-creds' },
    spec: { kinds: ['Secret'], source: { namespace: src, names: ['creds'] }, targets: { namespaceSelector: { matchLabels: { explain: 'yes' } } } },
  });
  await post(secretsPath(src), { metadata: { name: 'creds', annotations: { [`${M}replicate-to`]: '.*' } }, data: { password: b64('explain') } });
  await pool(Array.from({ length: replicas }, (_, i) => i), concurrency, (i) => post(secretsPath(many), {
    metadata: { name: `m${i}`, annotations: { [`${M}replicate-to`]: crowded } }, data: { k: b64(String(i)) } }));
  await Promise.all([w.done, wm.done]);
  await Promise.all([w.informer.stop(), wm.informer.stop()]);
  const syncMs = performance.now() - t0;
  // Then the operator idle: its queue empty, and neither a reconcile nor a request (its Events, a policy's status)
  // for a second. Until then the API server is busy with the operator, and explain takes several times as long.
  for (let last = ''; ;) {
    const now = `${await metric('kube_replicator_reconcile_total')} ${await metric('kube_replicator_api_requests_total')}`;
    if (now === last && (await metric('kube_replicator_workqueue_depth')) === 0) break;
    last = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const quietMs = performance.now() - t0;
  log(`explain: ${n} namespaces (${own.length} with a Secret of their own) in sync in ${(syncMs / 1000).toFixed(1)} s, operator idle after ${(quietMs / 1000).toFixed(1)} s`);
  const commands: [string, string[]][] = [
    ['explain source', ['secret', `${src}/creds`]],
    ['explain replica', ['secret', `${targets[0]}/creds`]],
    ['explain namespace', ['namespace', crowded]],
  ];
  for (const [scenario, args] of commands) {
    const done: Awaited<ReturnType<typeof explainCli>>[] = [];
    for (let r = 0; r < runs; r++) {
      const x = await explainCli([...args, `--operator-namespace=${operatorNs}`]);
      if (x.code !== 0) throw new Error(`${scenario}: explain ${args.join(' ')} exited ${x.code}:\n${x.out}`);
      done.push(x);
      if (explainOutDir) {
        mkdirSync(explainOutDir, { recursive: true });
        writeFileSync(join(explainOutDir, `${scenario.replace(/ /g, '-')}-${n}-run${r + 1}.txt`), x.out);
      }
      log(`${scenario} (${args.join(' ')}) run ${r + 1}: ${x.ms.toFixed(0)} ms, peak RSS ${x.rssMB.toFixed(0)} MiB; ${headline(x.out)}`);
    }
    const m = [...done].sort((a, b) => a.ms - b.ms)[Math.floor(done.length / 2)]!;
    results.push({ scenario, n, own: own.length, syncMs, quietMs, replicas: scenario === 'explain namespace' ? replicas + 1 : undefined, explainMs: m.ms, rssMB: m.rssMB, runsMs: done.map((x) => x.ms), headline: headline(m.out) });
  }
  await stopOperator();
}

// ---- main ----------------------------------------------------------------------------------------

const want = (s: string) => !only || only.includes(s);
try {
  await startOperator();
  if (want('small')) for (const n of sizes.small) await small(n, sizes.smallReps);
  if (want('fanout')) for (const n of fanoutSizes ?? sizes.fanout) await fanout(n);
  if (want('many')) await manySources(sizes.many);
  if (want('newns')) await newNamespace(sizes.newNsSources);
  if (want('idle')) await idle(sizes.idleSeconds);
  if (want('restart')) await restart(sizes.restart);
  if (want('memory')) await memory(sizes.unrelated, sizes.memFanout);
  if (want('flood')) await floodMemory(sizes.flood[0]!, sizes.flood[1]!);
  if (want('scale')) await scale(sizes.scale[0]!, sizes.scale[1]!);
  if (want('explain')) await explainScenario(explainSizes.namespaces, explainSizes.replicas, explainSizes.runs);
} finally {
  await stopOperator();
  await cp.stop();
}

const date = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const doc = { date, quick, machine: { cores: (await import('node:os')).cpus().length }, concurrency, results };
writeFileSync(join(dir, `${date}${quick ? '-quick' : ''}.json`), JSON.stringify(doc, null, 2) + '\n');
writeFileSync(join(dir, `${date}${quick ? '-quick' : ''}.svg`), renderSvg(results));
// The README shows the latest complete run: a partial one (--only) leaves it alone.
if (!quick && !only) writeFileSync(join(dir, 'latest.svg'), renderSvg(results));
const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v ?? ''));
const cols = ['scenario', 'n', 'operatorMs', 'floorMs', 'floorH2Ms', 'ratio', 'cpuRatio', 'p50', 'p99', 'max', 'readyMs', 'explainMs', 'writes', 'rssMB', 'heapMB', 'restartRssMB', 'cpuPercentOfCore', 'requestsPerMinute'];
process.stdout.write(`${cols.join('\t')}\n${results.map((r) => cols.map((c) => fmt(r[c])).join('\t')).join('\n')}\n`);
