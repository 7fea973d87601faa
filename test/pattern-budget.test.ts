// Issue "Memory denial of service": a tenant's replicate-to lists, each within every documented cap (1 000 elements,
// 1 024 characters each), must not take the operator past the chart's memory limit. The operator runs as a separate
// process under the chart's identity (as the e2e suites do); the attacker is a REAL non-admin user (client
// certificate, `admin` in its own namespace only). Peak RSS is the kernel's VmHWM of the operator process.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type * as k8s from '@kubernetes/client-node';
import { OperatorProcess } from '../e2e/support/process.ts';
import { peakRss } from './support/process-memory.ts';
import {
  admin, clientsFor, createNamespace, deleteNamespace, maybe, uniqueName, userKubeConfig, waitFor, type Clients, grantNamespaceAdmin, inParallel,
} from './support/cluster.ts';

const M = 'replicator.v1.mittwald.de/';
/** The chart's resources.limits.memory. */
const CHART_MEMORY_LIMIT = 512 * 1024 * 1024;
/** How many Secrets the attacker creates, each with its own list of ELEMENTS distinct patterns. */
const SOURCES = Number(process.env.KR_PATTERN_ATTACK_SOURCES ?? 300);
const ELEMENTS = 1000;

const c = admin();
const run = uniqueName('pb');
const attackerNs = `${run}-attacker`;
const tenantNs = `${run}-tenant`;
const tenantTarget = `${run}-tenant-target`;
const attackerUser = `attacker-${run}`;
const tenantUser = `tenant-${run}`;
let attacker: Clients;
let tenant: Clients;
let operator: OperatorProcess;
/** Peak RSS per operator process, for the report. */
const peaks: { what: string; bytes: number }[] = [];

function recordPeak(what: string): number {
  const bytes = peakRss(operator.proc!.pid!);
  peaks.push({ what, bytes });
  process.stdout.write(`pattern-budget: ${what}: operator peak RSS (VmHWM) ${(bytes / 1048576).toFixed(0)} MiB\n`);
  return bytes;
}

/** Source `i`'s list: ELEMENTS short regular expressions that appear in no other list (distinct across sources too). */
function attackList(i: number): string {
  const elements: string[] = [];
  for (let j = 0; j < ELEMENTS; j++) elements.push(`z${i.toString(36)}q${j.toString(36)}.*`);
  return elements.join(',');
}

const attackName = (i: number) => `flood-${i}`;

/** A normal push by the other tenant: it must converge whatever the attacker does. */
async function tenantPushConverges(name: string): Promise<void> {
  await tenant.core.createNamespacedSecret({ namespace: tenantNs, body: {
    metadata: { name, annotations: { [`${M}replicate-to`]: tenantTarget } }, stringData: { k: 'v' },
  } as k8s.V1Secret });
  await waitFor(`${tenantTarget}/${name} to be replicated`, () => maybe(c.core.readNamespacedSecret({ namespace: tenantTarget, name })), 90_000);
}

async function budgetEvent(name: string): Promise<k8s.CoreV1Event> {
  return waitFor(`an InvalidAnnotation Event naming the budget on ${attackerNs}/${name}`, async () => {
    const list = await c.core.listNamespacedEvent({ namespace: attackerNs, fieldSelector: `involvedObject.name=${name},reason=InvalidAnnotation` });
    return list.items.find((e) => (e.message ?? '').includes('--pattern-memory-budget'));
  }, 180_000);
}

beforeAll(async () => {
  await Promise.all([attackerNs, tenantNs, tenantTarget].map((n) => createNamespace(c, n)));
  await grantNamespaceAdmin(c, attackerNs, attackerUser);
  await grantNamespaceAdmin(c, tenantNs, tenantUser);
  attacker = clientsFor(userKubeConfig(attackerUser));
  tenant = clientsFor(userKubeConfig(tenantUser));
  operator = new OperatorProcess('pattern-budget');
  await operator.start();
}, 120_000);

afterAll(async () => {
  await operator?.kill();
  await Promise.all([attackerNs, tenantNs, tenantTarget].map((n) => deleteNamespace(c, n, false)));
  process.stdout.write(`pattern-budget: peaks ${JSON.stringify(peaks.map((p) => ({ what: p.what, MiB: Math.round(p.bytes / 1048576) })))}\n`);
});

describe('replicate-to lists within every cap cannot exhaust the operator\'s memory', () => {
  it('the attacker is a plain tenant: it cannot touch the other tenant\'s namespace', async () => {
    await expect(attacker.core.createNamespacedSecret({ namespace: tenantNs, body: { metadata: { name: 'nope' } } })).rejects.toMatchObject({ code: 403 });
  });

  it(`${SOURCES} Secrets with ${ELEMENTS} distinct patterns each: peak RSS stays under the chart limit, over-budget sources get an Event`, async () => {
    const list0 = attackList(0);
    expect(list0.split(',')).toHaveLength(ELEMENTS);
    expect(Math.max(...list0.split(',').map((e) => e.length))).toBeLessThanOrEqual(1024);
    await inParallel(SOURCES, 8, (i) => attacker.core.createNamespacedSecret({ namespace: attackerNs, body: {
      metadata: { name: attackName(i), annotations: { [`${M}replicate-to`]: attackList(i) } }, stringData: { k: `v${i}` },
    } as k8s.V1Secret }));
    // The operator is still serving another tenant, during the flood's processing.
    await tenantPushConverges('during-flood');
    // Every source has been seen: the last one created is refused, and says why.
    const last = await budgetEvent(attackName(SOURCES - 1));
    expect(last.type).toBe('Warning');
    expect(last.message).toContain(`${M}replicate-to`);
    expect(last.message).toMatch(/namespace .*-attacker .*over its share .* of --pattern-memory-budget/);
    expect(operator.proc!.exitCode).toBeNull();
    expect(recordPeak('after the flood')).toBeLessThan(CHART_MEMORY_LIMIT);
  }, 600_000);

  it('the other tenant still gets a normal push through', async () => {
    await tenantPushConverges('after-flood');
  }, 120_000);

  it('survives a restart: ready again with every source in place, under the limit, and still serving', async () => {
    expect(await operator.kill()).toBe(0);
    operator = new OperatorProcess('pattern-budget-restarted');
    await operator.start();
    await tenantPushConverges('after-restart');
    // Every source was still there to be parsed on startup (the Events stand; the recorder does not repeat them).
    expect((await c.core.listNamespacedSecret({ namespace: attackerNs })).items.filter((s) => s.metadata?.name?.startsWith('flood-'))).toHaveLength(SOURCES);
    expect(operator.proc!.exitCode).toBeNull();
    expect(recordPeak('after a restart')).toBeLessThan(CHART_MEMORY_LIMIT);
  }, 300_000);
});
