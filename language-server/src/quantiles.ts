// Medians and percentiles of samples (latencies, speed-ups): one definition for the FIM check, the
// benchmarks and `tessera bench`.

/** The middle value (the mean of the middle two for an even count); 0 for no samples. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The sample at fraction `p` of the sorted samples (0.5: the upper median, 0.95: p95). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}
