// The chart's monitoring: the PrometheusRule (promtool checks it and runs its unit tests), the Grafana dashboard, and
// the kustomize component with both. Every series a dashboard panel or an alert queries must be one a running
// operator exposes, so that neither can drift from src/metrics.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { linterBuildTimeoutMs, linterPath } from '../tools/linters.ts';
import { kubectl } from '../e2e/support/process.ts';
import { controlPlaneInfo } from './support/cluster.ts';
import { parseExposition, selectorsIn, unmatched, type Series } from './support/exposed-series.ts';
import { chart, helm, parseObjects, render, repoRoot, type Obj } from './support/helm.ts';
import { startTestOperator, type TestOperator } from './support/operator.ts';

const serviceMonitorApi = '--api-versions=monitoring.coreos.com/v1/ServiceMonitor';
const prometheusRuleApi = '--api-versions=monitoring.coreos.com/v1/PrometheusRule';
const find = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const isDashboard = (o: Obj) => o.kind !== 'ConfigMap' || o.metadata.name.endsWith('-dashboard');
const one = (objs: Obj[], kind: string): Obj => {
  const found = find(objs, kind);
  if (found.length !== 1) throw new Error(`${found.length} ${kind}s among ${objs.map((o) => o.kind).join(', ')}`);
  return found[0]!;
};

interface AlertRule { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }
const rulesOf = (rule: Obj): AlertRule[] => (rule.spec.groups as { rules: AlertRule[] }[]).flatMap((g) => g.rules);
const prometheusRule = (values: string[] = []) => one(render(['metrics.prometheusRule.enabled=true', prometheusRuleApi, ...values]), 'PrometheusRule');

interface Panel { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query: string | { query: string }; datasource?: { uid: string } }[] } }
const dashboardFile = join(repoRoot, 'dashboards', 'kube-replicator.json');
const dashboard = () => JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;

/** GitHub's anchor of a Markdown heading. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');

let operator: TestOperator;
let exposed: Series[];

beforeAll(async () => {
  operator = await startTestOperator();
  exposed = parseExposition(await (await fetch(`${operator.statusUrl}/metrics`)).text());
});
afterAll(async () => {
  await operator?.stop();
});

describe('PrometheusRule', () => {
  it('is opt-in, and rendered only where the PrometheusRule CRD is served', () => {
    expect(find(render(), 'PrometheusRule')).toEqual([]);
    // Enabling it on a cluster without the CRD must not fail the release.
    expect(find(render(['metrics.prometheusRule.enabled=true']), 'PrometheusRule')).toEqual([]);
    expect(find(render([prometheusRuleApi]), 'PrometheusRule')).toEqual([]);
    const rule = prometheusRule(['metrics.prometheusRule.labels.release=prom', 'metrics.prometheusRule.alertLabels.team=ops']);
    expect(rule.metadata).toEqual(expect.objectContaining({ name: 'kube-replicator', namespace: 'kube-replicator' }));
    expect(rule.metadata.labels).toEqual(expect.objectContaining({ release: 'prom', 'app.kubernetes.io/instance': 'kube-replicator' }));
    expect(rulesOf(rule).map((r) => r.alert)).toEqual([
      'KubeReplicatorReplicationFailing', 'KubeReplicatorWatchRestarting', 'KubeReplicatorRestarting',
      'KubeReplicatorQueueBacklog', 'KubeReplicatorQueueWaitHigh', 'KubeReplicatorNoLeader',
    ]);
    for (const r of rulesOf(rule)) expect({ alert: r.alert, team: r.labels.team, severity: r.labels.severity }).toEqual({ alert: r.alert, team: 'ops', severity: expect.stringMatching(/^(warning|critical)$/) });
  });

  it('picks the series of this release: the ServiceMonitor\'s namespace and job (the metrics Service), or the selector given', () => {
    const objs = render(['metrics.prometheusRule.enabled=true', prometheusRuleApi], { release: 'ops', namespace: 'tools' });
    const service = objs.find((o) => o.kind === 'Service')!;
    for (const r of rulesOf(one(objs, 'PrometheusRule'))) {
      for (const s of selectorsIn(r.expr)) expect({ alert: r.alert, selector: s.text }).toEqual({ alert: r.alert, selector: expect.stringContaining(`{namespace="tools", job="${service.metadata.name}"`) });
    }
    const custom = prometheusRule(['metrics.prometheusRule.selector=job="kr"']);
    for (const r of rulesOf(custom)) expect(r.expr).not.toContain('namespace="kube-replicator"');
    expect(rulesOf(custom)[0]!.expr).toContain('kube_replicator_failing_targets{job="kr"}');
  });

  it('the schema refuses typos and values that would break the rules', () => {
    for (const bad of [['--set', 'metrics.prometheusRule.enable=true'], ['--set', 'metrics.prometheusRule.enabled=yes'], ['--set-string', 'metrics.prometheusRule.selector=job="a"}'],
      ['--set', 'metrics.prometheusRule.runbookBaseUrl=docs/runbooks.md'], ['--set', 'metrics.grafanaDashboard.namespace=Not_A_Namespace'], ['--set', 'metrics.grafanaDashboard.label.x=1']]) {
      const r = helm(['template', 'kube-replicator', chart, ...bad]);
      expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
    }
  });

  it('every runbook_url points to a section of docs/runbooks.md', () => {
    const headings = new Set([...readFileSync(join(repoRoot, 'docs', 'runbooks.md'), 'utf8').matchAll(/^## (.+)$/gm)].map((m) => anchor(m[1]!)));
    const base = 'https://github.com/kube-replicator/kube-replicator/blob/main/docs/runbooks.md#';
    for (const r of rulesOf(prometheusRule())) {
      expect(r.annotations.runbook_url).toBe(`${base}${r.alert.toLowerCase()}`);
      expect({ alert: r.alert, section: headings.has(r.alert.toLowerCase()) }).toEqual({ alert: r.alert, section: true });
      expect(r.annotations.summary).toBeTruthy();
      expect(r.annotations.description).toBeTruthy();
    }
    expect(rulesOf(prometheusRule(['metrics.prometheusRule.runbookBaseUrl=https://wiki.example/kr']))[0]!.annotations.runbook_url).toBe('https://wiki.example/kr#kubereplicatorreplicationfailing');
  });

  it('queries only series the operator exposes', () => {
    const selectors = rulesOf(prometheusRule()).flatMap((r) => selectorsIn(r.expr));
    expect(selectors.length).toBeGreaterThanOrEqual(8);
    for (const r of rulesOf(prometheusRule())) expect({ alert: r.alert, unmatched: unmatched(r.expr, exposed) }).toEqual({ alert: r.alert, unmatched: [] });
    // The check itself: a misspelt label value is caught.
    expect(unmatched('rate(kube_replicator_reconcile_total{outcome="Eror"}[5m])', exposed)).toEqual(['kube_replicator_reconcile_total{outcome="Eror"}']);
    expect(unmatched('sum by (kinds) (kube_replicator_replicas)', exposed)).toEqual(['by (kinds)']);
  });

  describe('promtool', () => {
    let promtool: string;
    let dir: string;
    beforeAll(() => {
      promtool = linterPath('promtool');
      dir = join(controlPlaneInfo().dir, 'prometheus-rules');
      mkdirSync(dir, { recursive: true });
      // What the Prometheus Operator hands Prometheus: the PrometheusRule's spec as a rule file.
      writeFileSync(join(dir, 'rules.yaml'), stringify(prometheusRule().spec));
      copyFileSync(join(repoRoot, 'test', 'fixtures', 'prometheus-rules.test.yaml'), join(dir, 'rules.test.yaml'));
    }, linterBuildTimeoutMs);

    const run = (args: string[]) => {
      try {
        return { status: 0, out: execFileSync(promtool, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
      } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        return { status: err.status, out: `${err.stdout}${err.stderr}` };
      }
    };

    it('check rules: valid rules and templates, lint-clean', () => {
      const r = run(['check', 'rules', '--lint=all', '--lint-fatal', 'rules.yaml']);
      expect(r).toEqual({ status: 0, out: expect.stringContaining('SUCCESS: 6 rules found') });
    });

    it('test rules: each alert fires on a broken series and stays silent on a healthy operator', () => {
      const r = run(['test', 'rules', 'rules.test.yaml']);
      expect(r).toEqual({ status: 0, out: expect.stringContaining('SUCCESS') });
      // The unit tests cover every alert, firing.
      const tests = readFileSync(join(dir, 'rules.test.yaml'), 'utf8');
      for (const a of rulesOf(prometheusRule())) expect(tests).toMatch(new RegExp(`alertname: ${a.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
    });

    it('a broken alert fails the unit tests (the tests can fail)', () => {
      const spec = prometheusRule().spec as { groups: { rules: AlertRule[] }[] };
      const failing = spec.groups[0]!.rules[0]!;
      expect(failing.alert).toBe('KubeReplicatorReplicationFailing');
      failing.expr = failing.expr.replace(/> 0\s*$/, '> 5');
      expect(failing.expr).toMatch(/> 5$/);
      writeFileSync(join(dir, 'broken.yaml'), stringify(spec));
      writeFileSync(join(dir, 'broken.test.yaml'), readFileSync(join(dir, 'rules.test.yaml'), 'utf8').replace('rule_files: [rules.yaml]', 'rule_files: [broken.yaml]'));
      const r = run(['test', 'rules', 'broken.test.yaml']);
      expect(r.status).toBe(1);
      expect(r.out).toContain('KubeReplicatorReplicationFailing');
    });
  });
});

describe('Grafana dashboard', () => {
  it('is opt-in: a ConfigMap with the dashboard file, labelled for the Grafana sidecar', () => {
    // (The chart's other ConfigMap is the admission policy's parameter.)
    expect(find(render(), 'ConfigMap').filter(isDashboard)).toEqual([]);
    const cm = one(render(['metrics.grafanaDashboard.enabled=true']).filter(isDashboard), 'ConfigMap');
    expect(cm.metadata).toEqual(expect.objectContaining({ name: 'kube-replicator-dashboard', namespace: 'kube-replicator' }));
    expect(cm.metadata.labels).toEqual(expect.objectContaining({ grafana_dashboard: '1', 'app.kubernetes.io/name': 'kube-replicator' }));
    expect(JSON.parse((cm.data as Record<string, string>)['kube-replicator.json']!)).toEqual(dashboard());
    // The sidecar's label, folder annotation and namespace are the user's.
    const custom = one(render(['metrics.grafanaDashboard.enabled=true', 'metrics.grafanaDashboard.namespace=monitoring',
      'metrics.grafanaDashboard.labels.grafana_dashboard=null', 'metrics.grafanaDashboard.labels.dashboards=kr', 'metrics.grafanaDashboard.annotations.grafana_folder=Platform']).filter(isDashboard), 'ConfigMap');
    expect(custom.metadata.namespace).toBe('monitoring');
    expect(custom.metadata.labels).toEqual(expect.objectContaining({ dashboards: 'kr' }));
    expect(custom.metadata.labels).not.toHaveProperty('grafana_dashboard');
    expect(custom.metadata.annotations).toEqual({ grafana_folder: 'Platform' });
  });

  it('takes its data source from a template variable', () => {
    const d = dashboard();
    expect(d.uid).toBe('kube-replicator');
    expect(d.templating.list.find((v) => v.name === 'datasource')).toEqual(expect.objectContaining({ type: 'datasource', query: 'prometheus' }));
    const queried = d.panels.filter((p) => p.type !== 'row');
    expect(queried.length).toBeGreaterThanOrEqual(15);
    for (const p of queried) {
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: '${datasource}' });
      for (const t of p.targets ?? []) expect({ panel: p.title, uid: t.datasource?.uid }).toEqual({ panel: p.title, uid: '${datasource}' });
    }
  });

  it('shows what the issue asks for', () => {
    const exprs = dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const wanted of ['max by (kind) (kube_replicator_replicas', 'sum by (outcome) (rate(kube_replicator_reconcile_total', 'sum by (verb) (rate(kube_replicator_writes_total',
      'kube_replicator_write_errors_total', 'sum by (reason) (rate(kube_replicator_refusals_total', 'kube_replicator_workqueue_depth',
      'histogram_quantile(0.99, sum by (le) (rate(kube_replicator_workqueue_wait_seconds_bucket', 'kube_replicator_watch_restarts_total',
      'sum by (code) (rate(kube_replicator_api_requests_total', 'kube_replicator_leader', 'rate(process_cpu_seconds_total', 'process_resident_memory_bytes']) {
      expect(exprs).toContain(wanted);
    }
  });

  it('queries only series the operator exposes', () => {
    const d = dashboard();
    const queries = [
      ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...d.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `$${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query.query })),
    ];
    expect(queries.flatMap((q) => selectorsIn(q.expr)).length).toBeGreaterThanOrEqual(25);
    for (const q of queries) expect({ where: q.where, unmatched: unmatched(q.expr, exposed) }).toEqual({ where: q.where, unmatched: [] });
  });
});

describe('kustomize: config/overlays/monitoring (config/base with config/components/monitoring)', () => {
  it('adds the chart\'s ServiceMonitor, PrometheusRule and dashboard ConfigMap, and nothing else', () => {
    const base = parseObjects(kubectl(['kustomize', join(repoRoot, 'config', 'base')]));
    const overlay = parseObjects(kubectl(['kustomize', join(repoRoot, 'config', 'overlays', 'monitoring')]));
    const added = overlay.filter((o) => !base.some((b) => b.kind === o.kind && b.metadata.name === o.metadata.name));
    expect(added.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/kube-replicator/kube-replicator-dashboard', 'PrometheusRule/kube-replicator/kube-replicator', 'ServiceMonitor/kube-replicator/kube-replicator',
    ]);
    const fromHelm = render(['metrics.serviceMonitor.enabled=true', 'metrics.prometheusRule.enabled=true', 'metrics.grafanaDashboard.enabled=true', serviceMonitorApi, prometheusRuleApi]);
    for (const kind of ['PrometheusRule', 'ServiceMonitor']) {
      const [k, h] = [one(added, kind), one(fromHelm, kind)];
      expect({ kind, namespace: k.metadata.namespace, spec: k.spec }).toEqual({ kind, namespace: h.metadata.namespace, spec: h.spec });
    }
    const json = (cm: Obj) => Object.fromEntries(Object.entries(cm.data as Record<string, string>).map(([k, v]) => [k, JSON.parse(v) as unknown]));
    expect(json(one(added, 'ConfigMap'))).toEqual(json(one(fromHelm.filter(isDashboard), 'ConfigMap')));
    expect(one(added, 'ConfigMap').metadata.labels).toEqual(expect.objectContaining({ grafana_dashboard: '1' }));
  });

  it('the dashboard exists once: the chart links to dashboards/', () => {
    expect(readFileSync(join(chart, 'files', 'dashboards', 'kube-replicator.json'), 'utf8')).toBe(readFileSync(dashboardFile, 'utf8'));
    expect(readlinkSync(join(chart, 'files', 'dashboards', 'kube-replicator.json'))).toBe('../../../../dashboards/kube-replicator.json');
  });
});
