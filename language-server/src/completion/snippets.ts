// Context beyond the file: snippets of the other open documents of the same language, chosen by how much
// they share with the lines above the cursor (Jaccard similarity of their identifiers over windows of
// lines, as Copilot and Cody do). The choice is kept while the cursor stays on its line, so the
// prompt's beginning, and the model's cache of it, stay put while typing.

/** A document the editor has open, as a source of snippets. */
export interface Neighbour {
  uri: string;
  /** The path the model is shown (workspace-relative when known). */
  path: string;
  languageId: string;
  text: string;
}

export interface Snippet {
  path: string;
  text: string;
  score: number;
}

const WINDOW_LINES = 10;
const STRIDE = 5;
const QUERY_LINES = 10;
const MIN_SCORE = 0.1;
const MAX_SNIPPETS = 2;

/** Identifiers and words of a text, for set similarity. */
function wordsOf(text: string): Set<string> {
  return new Set(text.split(/[^A-Za-z0-9_$]+/).filter((w) => w.length > 1));
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  return common / (a.size + b.size - common);
}

/** The windows of lines of `text` most like `query`, best first. */
export function similarWindows(query: string, neighbours: readonly Neighbour[], limit = MAX_SNIPPETS): Snippet[] {
  const q = wordsOf(query);
  const found: Snippet[] = [];
  for (const n of neighbours) {
    const lines = n.text.split('\n');
    for (let start = 0; start < lines.length; start += STRIDE) {
      const text = lines.slice(start, start + WINDOW_LINES).join('\n');
      const score = jaccard(q, wordsOf(text));
      if (score >= MIN_SCORE) found.push({ path: n.path, text, score });
      if (start + WINDOW_LINES >= lines.length) break;
    }
  }
  found.sort((a, b) => b.score - a.score);
  // At most one window per document: the best one.
  const out: Snippet[] = [];
  for (const s of found) if (out.length < limit && !out.some((o) => o.path === s.path)) out.push(s);
  return out;
}

/** The lines above the cursor's line (the query: stable while the cursor's line is typed). */
export function queryAbove(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let start = lineStart;
  for (let k = 0; k < QUERY_LINES && start > 0; k++) start = text.lastIndexOf('\n', start - 2) + 1;
  return text.slice(start, lineStart);
}

/** Picks snippets per document, and keeps them while the cursor stays on one line of it. */
export class SnippetPicker {
  private readonly chosen = new Map<string, { key: string; snippets: Snippet[] }>();

  pick(uri: string, text: string, offset: number, neighbours: readonly Neighbour[]): Snippet[] {
    const query = queryAbove(text, offset);
    const key = `${query}\u0000${neighbours.map((n) => `${n.uri}:${n.text.length}`).join('|')}`;
    const kept = this.chosen.get(uri);
    if (kept?.key === key) return kept.snippets;
    const snippets = similarWindows(query, neighbours);
    this.chosen.set(uri, { key, snippets });
    return snippets;
  }

  forget(uri: string): void {
    this.chosen.delete(uri);
  }
}
