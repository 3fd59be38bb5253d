// The FIM check's summary as a text table: span kinds × modes (the CLI and bench/fim print it).
import type { FimReport, FimScores } from '../lsp_ext';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(7);

export function formatFimTable(report: Pick<FimReport, 'modes' | 'summary' | 'byKind'>): string {
  const rows: string[] = ['kind        mode    n     exact   edit sim  parses  non-canon  latency p50'];
  const line = (kind: string, mode: string, s: FimScores | undefined) => {
    if (!s) return;
    rows.push(
      `${kind.padEnd(11)} ${mode.padEnd(6)} ${String(s.n).padStart(4)} ${pct(s.exactMatch)}  ${pct(s.editSimilarity)}  ${pct(s.parseRate)}  ${pct(s.nonCanonical)}   ${s.latencyMs.toFixed(1).padStart(7)} ms`,
    );
  };
  for (const [kind, byMode] of Object.entries(report.byKind)) for (const mode of report.modes) line(kind, mode, byMode?.[mode]);
  for (const mode of report.modes) line('all', mode, report.summary[mode]);
  return rows.join('\n');
}
