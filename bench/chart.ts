// A small SVG bar chart: operator time next to the floor for every scenario that has one (the faster floor, where
// the fan-out measured it over HTTP/1.1 and HTTP/2: `ratio` is against that one).
interface Row { scenario: string; n?: number; operatorMs?: number; floorMs?: number; floorH2Ms?: number; ratio?: number }

export function renderSvg(results: Row[]): string {
  const rows = results.filter((r) => r.operatorMs !== undefined && r.floorMs !== undefined)
    .map((r) => ({ ...r, floorMs: Math.min(r.floorMs!, r.floorH2Ms ?? Infinity) }));
  const width = 760;
  const barH = 14;
  const rowH = 44;
  const left = 190;
  const max = Math.max(1, ...rows.flatMap((r) => [r.operatorMs!, r.floorMs!]));
  const scale = (ms: number) => ((width - left - 90) * ms) / max;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = rows.map((r, i) => {
    const y = 40 + i * rowH;
    return `<text x="8" y="${y + 18}" font-size="12">${esc(`${r.scenario}${r.n ? ` N=${r.n}` : ''}`)}</text>
<rect x="${left}" y="${y}" width="${scale(r.operatorMs!).toFixed(1)}" height="${barH}" fill="#2f6fb3"/>
<text x="${left + scale(r.operatorMs!) + 4}" y="${y + 11}" font-size="11">${(r.operatorMs! / 1000).toFixed(2)} s (×${r.ratio!.toFixed(2)})</text>
<rect x="${left}" y="${y + barH + 2}" width="${scale(r.floorMs!).toFixed(1)}" height="${barH}" fill="#9aa5b1"/>
<text x="${left + scale(r.floorMs!) + 4}" y="${y + barH + 13}" font-size="11">${(r.floorMs! / 1000).toFixed(2)} s</text>`;
  }).join('\n');
  const height = 60 + rows.length * rowH;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="20" font-size="14" font-weight="bold">kube-replicator vs floor (direct writes at the same concurrency)</text>
<rect x="${left}" y="26" width="10" height="8" fill="#2f6fb3"/><text x="${left + 14}" y="34" font-size="11">operator</text>
<rect x="${left + 80}" y="26" width="10" height="8" fill="#9aa5b1"/><text x="${left + 94}" y="34" font-size="11">floor</text>
${bars}
</svg>
`;
}
