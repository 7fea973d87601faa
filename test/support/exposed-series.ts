// What an operator's /metrics exposes, and which PromQL selectors of a dashboard or an alert match none of it: a
// renamed metric, a misspelt label or label value would otherwise leave a panel empty or an alert silent for ever.

export interface Series { name: string; labels: Record<string, string> }

/** The series of a Prometheus text exposition (our label values contain no quotes or commas). */
export function parseExposition(text: string): Series[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(l);
    if (!m) throw new Error(`not an exposition line: ${l}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((p) => [p[1]!, p[2]!]));
    return { name: m[1]!, labels };
  });
}

/** Labels that Prometheus gives every series of a target (never in the operator's own output). */
const targetLabels = new Set(['namespace', 'job', 'instance', 'pod', 'service', 'container', 'endpoint']);

export interface Selector { text: string; name: string; matchers: { label: string; op: string; value: string }[] }

/** The selectors of our metrics in a PromQL expression (names starting kube_replicator_, process_ or nodejs_). */
export function selectorsIn(expr: string): Selector[] {
  return [...expr.matchAll(/\b((?:kube_replicator|process|nodejs)_[a-zA-Z0-9_]*)(?:\{([^}]*)\})?/g)].map((m) => ({
    text: m[0],
    name: m[1]!,
    matchers: [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((p) => ({ label: p[1]!, op: p[2]!, value: p[3]! })),
  }));
}

/**
 * What in `expr` matches nothing in `series`: a selector none of whose series has the metric with the labels its `=`
 * and `=~` matchers ask for (matchers on target labels and Grafana variables are left out: the scrape and the user
 * decide those), and a `by (…)` label that no selected metric has.
 */
export function unmatched(expr: string, series: Series[]): string[] {
  const problems: string[] = [];
  const selected: Series[] = [];
  for (const s of selectorsIn(expr)) {
    const wanted = s.matchers.filter((m) => !targetLabels.has(m.label) && !m.value.includes('$') && (m.op === '=' || m.op === '=~'));
    const hits = series.filter((x) => x.name === s.name && wanted.every((m) =>
      m.op === '=' ? x.labels[m.label] === m.value : new RegExp(`^(?:${m.value})$`).test(x.labels[m.label] ?? '')));
    if (hits.length === 0) problems.push(s.text);
    selected.push(...hits);
  }
  for (const m of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
    for (const label of m[1]!.split(',').map((l) => l.trim()).filter(Boolean)) {
      if (!targetLabels.has(label) && !selected.some((x) => label in x.labels)) problems.push(`by (${label})`);
    }
  }
  return problems;
}
