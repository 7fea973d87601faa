import { describe, expect, it } from '@jest/globals';
import { Metrics } from './metrics.ts';
import { refusalReasons } from './model/event-reasons.ts';

const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

describe('Metrics', () => {
  it('exposes the process and runtime metrics under their standard names', async () => {
    const text = await new Metrics().registry.metrics();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).not.toContain('kube_replicator_process_');
    expect(text).not.toContain('kube_replicator_nodejs_');
  });

  it('names no gauge like a counter', async () => {
    const types = [...(await new Metrics().registry.metrics()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(types.filter(([n, t]) => t === 'gauge' && n.endsWith('_total'))).toEqual([]);
    expect(types.filter(([n, t]) => t === 'counter' && !n.endsWith('_total'))).toEqual([]);
    // The by-type gauges whose sum the dropped *_total gauges were stay.
    expect(types).toContainEqual(['nodejs_active_handles', 'gauge']);
  });

  it('starts the error and outcome series of the enabled kinds and informers at 0', async () => {
    const m = new Metrics();
    m.start(['Secret', 'ConfigMap'], ['Namespace', 'Secret/metadata']);
    const text = await m.registry.metrics();
    for (const kind of ['Secret', 'ConfigMap']) {
      expect(line(text, `kube_replicator_reconcile_total{kind="${kind}",outcome="Error",tier="none"}`)).toMatch(/ 0$/);
      expect(line(text, `kube_replicator_writes_total{kind="${kind}",verb="create",tier="trusted"}`)).toMatch(/ 0$/);
      expect(line(text, `kube_replicator_write_errors_total{kind="${kind}",status="0"}`)).toMatch(/ 0$/);
      for (const reason of refusalReasons) expect(line(text, `kube_replicator_refusals_total{kind="${kind}",reason="${reason}"}`)).toMatch(/ 0$/);
      expect(line(text, `kube_replicator_reconcile_duration_seconds_count{kind="${kind}"}`)).toMatch(/ 0$/);
    }
    expect(line(text, 'kube_replicator_watch_restarts_total{informer="Secret/metadata"}')).toMatch(/ 0$/);
    expect(line(text, 'kube_replicator_api_requests_total{method="PUT",code="5xx"}')).toMatch(/ 0$/);
    expect(text).not.toContain('kind="Role"');
    m.writeFailed('Secret', 403);
    expect(line(await m.registry.metrics(), 'kube_replicator_write_errors_total{kind="Secret",status="403"}')).toMatch(/ 1$/);
  });
});
