// The burst at a glance: one bar per request, coloured by status class, taller the longer it
// took (virtual time), as an SVG the page inserts.
import type { Exchange } from './session.js';

const COLOURS: Record<string, string> = { '2': '#2e7d32', '3': '#1565c0', '4': '#ef6c00', '5': '#c62828', '0': '#616161' };

export function burstChart(exchanges: Exchange[], width = 640, height = 120): string {
  const longest = Math.max(0, ...exchanges.map((e) => e.durationMs));
  const scale = Math.max(1, longest);
  const counts = new Map<string, number>();
  for (const e of exchanges) counts.set(String(e.status), (counts.get(String(e.status)) ?? 0) + 1);
  const legend = [...counts].map(([status, n]) => `${status} ×${n}`).join(', ');
  const slot = width / Math.max(1, exchanges.length);
  const bars = exchanges.map((e, i) => {
    const h = (0.25 + 0.75 * (e.durationMs / scale)) * (height - 20);
    const colour = COLOURS[String(e.status)[0]] ?? COLOURS['0'];
    return `<rect x="${(i * slot).toFixed(1)}" y="${(height - h).toFixed(1)}" width="${Math.max(1, slot - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}"><title>#${i + 1}: ${e.status} in ${e.durationMs} ms</title></rect>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="one bar per request: height is its duration, colour its status class" viewBox="0 0 ${width} ${height}" width="100%" height="${height}">`
    + `<text x="0" y="12" font-size="11" fill="#444">${exchanges.length} requests: ${legend}; longest took ${longest} ms (virtual)</text>${bars}</svg>`;
}
