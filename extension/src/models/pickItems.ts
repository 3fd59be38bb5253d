// The quick pick's rows, from the server's list: installed models first, then the catalogue's, then the
// ways to name one. Pure, so what the list shows is testable without an editor.
import type { CatalogueEntry, ModelEntry, ModelsList } from '../../../language-server/src/lsp_ext';

export type ModelChoice =
  | { kind: 'installed'; model: ModelEntry }
  | { kind: 'catalogue'; entry: CatalogueEntry }
  | { kind: 'folder' }
  | { kind: 'repo' }
  | { kind: 'token' };

export interface PickRow {
  label: string;
  description?: string;
  detail?: string;
  /** A separator row carries no choice. */
  separator?: true;
  choice?: ModelChoice;
}

const GB = 1e9;
export const size = (bytes: number): string =>
  bytes >= GB
    ? `${(bytes / GB).toFixed(1)} GB`
    : bytes >= 1e6
      ? `${Math.round(bytes / 1e6)} MB`
      : `${Math.max(1, Math.round(bytes / 1e3))} kB`;

export function pickRows(list: ModelsList, active: { dir: string }, trusted: boolean): PickRow[] {
  const rows: PickRow[] = [{ label: 'On this machine', separator: true }];
  for (const m of list.installed) {
    const isActive = m.source === 'embedded' ? active.dir === '' : m.dir === active.dir;
    rows.push({
      label: `${isActive ? '$(check) ' : ''}${m.name}`,
      description: `${m.source === 'embedded' ? 'embedded, 2.3M parameters · ' : ''}${m.precisions.join(', ')} · ${size(m.bytes)}`,
      detail: m.source === 'embedded' ? 'Trained by Tessera: local syntax and idioms, not meaning' : m.dir,
      choice: { kind: 'installed', model: m },
    });
  }
  if (!trusted) {
    rows.push({ label: 'Downloads and model folders are off in an untrusted workspace', separator: true });
    return rows;
  }
  rows.push({
    label: list.offline ? 'Download (off: HF_HUB_OFFLINE is set)' : `Download from ${new URL(list.endpoint).host}`,
    separator: true,
  });
  if (!list.offline) {
    for (const e of list.catalogue) {
      if (e.installed.includes(e.recommended)) continue;
      const bytes = e.precisions[e.recommended] ?? 0;
      const fits = e.memoryBytes <= 0.8 * list.memoryBytes;
      rows.push({
        label: `$(cloud-download) ${e.label}`,
        description: `${e.recommended} · ~${size(bytes)} · ${e.kind === 'instruct' ? 'instruct (FIM weaker)' : 'base'}`,
        detail: `${e.note}. ${e.licence}; needs ~${size(e.memoryBytes)} of memory${fits ? '' : ` (this machine has ${size(list.memoryBytes)}: too little)`}. ${e.repo}`,
        choice: { kind: 'catalogue', entry: e },
      });
    }
  }
  rows.push({ label: 'Other', separator: true });
  rows.push({
    label: '$(folder-opened) Use a folder on disk…',
    detail: 'A folder with tokenizer.json, config.json and an ONNX decoder',
    choice: { kind: 'folder' },
  });
  if (!list.offline) {
    rows.push({
      label: '$(repo) Enter a Hugging Face repo id…',
      detail: 'Any repo with an ONNX export: its decoders are listed',
      choice: { kind: 'repo' },
    });
    rows.push({
      label: '$(key) Set Hugging Face token…',
      detail: "For gated and private repos; kept in the editor's secret storage",
      choice: { kind: 'token' },
    });
  }
  return rows;
}

/** Precision rows for a repo: the recommended one first, each with its size where known. */
export function precisionRows(precisions: string[], sizes: Record<string, number> = {}, recommended?: string): PickRow[] {
  const order =
    recommended && precisions.includes(recommended) ? [recommended, ...precisions.filter((p) => p !== recommended)] : precisions;
  return order.map((p) => ({
    label: p,
    description: [p === recommended ? 'recommended' : '', sizes[p] ? `~${size(sizes[p]!)}` : ''].filter(Boolean).join(' · '),
  }));
}

/** A progress line: bytes, rate and time left. */
export function progressLine(p: { file: string; bytes: number; total: number; bytesPerSecond: number; secondsLeft?: number }): string {
  const left =
    p.secondsLeft === undefined
      ? ''
      : p.secondsLeft >= 90
        ? `, ${Math.round(p.secondsLeft / 60)} min left`
        : `, ${Math.ceil(p.secondsLeft)} s left`;
  return `${size(p.bytes)} of ${size(p.total)} at ${size(p.bytesPerSecond)}/s${left} (${p.file})`;
}
