// How the benchmarks summarize and print: medians of rounds, fixed-width rows.

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function row(cells: (string | number)[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(46) : String(c).padStart(16))).join('');
}
