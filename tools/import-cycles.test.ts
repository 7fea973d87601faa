// src/ has no import cycle (type-only imports count: a cycle of types is still a knot for a reader).
import { expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []);
}

it('src/ has no import cycle', () => {
  const graph = new Map<string, string[]>();
  for (const file of modules(src)) {
    const deps = [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => normalize(join(dirname(file), m[1]!)));
    graph.set(file, deps);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') cycles.push([...path.slice(path.indexOf(dep)), dep].map((f) => relative(src, f)).join(' → '));
      else if (!state.has(dep)) visit(dep);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  expect(graph.size).toBeGreaterThan(30);
  expect(cycles).toEqual([]);
});
