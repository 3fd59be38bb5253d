// Acceptance: of the completions the editor would show, how many are what the user types next?
// Cursors in files of packages the model never trained on (TypeScript of @azure/msal-common and ajv,
// JavaScript of vscode-jsonrpc — none in models/recipe/corpus-manifest.json — and the Python programs
// of HumanEval, which nothing trains on), three kinds per file:
//   mid-line     at a random column of a line, the rest of the line not typed yet;
//   line-start   after the indentation of a line whose text is not typed yet;
//   block        on the empty first line of a block body (after a line ending in `{` or `:`), the
//                body not typed yet.
// Each cursor asks the full editor pipeline, as `tessera complete` does, with the other held-out files
// of its package open beside it (for snippets). A shown completion is accepted
// when the file's real continuation starts with it (trailing whitespace aside). Today's pipeline (the
// whole completion gated by its mean confidence, no filters, token healing) and the new one (filters,
// the confident head, exact prompting) run on the same cursors in one run.
//   npm run bench -- accept [--files N] [--json]
import { basename, join } from 'node:path';
import { type CompleteOptions, CompletionService } from '../language-server/src/completion/service';
import { documentOf } from '../language-server/src/completion/window';
import { seededRandom } from '../language-server/src/generation/processors';
import { describeMachine, machine } from '../language-server/src/measure/machine';
import { type CompletionSettings, DEFAULT_SETTINGS } from '../language-server/src/settings';
import { grammarFor } from '../language-server/src/syntax/languages';
import { SyntaxService } from '../language-server/src/syntax/parser';
import { TokenizerRegistry } from '../language-server/src/tokenizer/registry';
import { repoRoot } from '../scripts/lib/repoRoot';
import { heldOutSources, type Source } from './heldOut';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const FILES = Number(arg('files', '12'));
const SEED = Number(arg('seed', '11'));
const modelDir = arg('model', join(repoRoot, 'models', 'tessera-tiny'));

type Kind = 'mid-line' | 'line-start' | 'block';
const KINDS: Kind[] = ['mid-line', 'line-start', 'block'];

interface Cursor {
  file: string;
  kind: Kind;
  /** The document as the user has it at the cursor, and where the cursor is. */
  document: string;
  offset: number;
  /** What the file really continues with from the cursor. */
  continuation: string;
}

/** Lines of a file with their offsets. */
function lines(text: string): Array<{ start: number; contentStart: number; end: number }> {
  const out: Array<{ start: number; contentStart: number; end: number }> = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let c = start;
    while (c < end && (text[c] === ' ' || text[c] === '\t')) c++;
    out.push({ start, contentStart: c, end });
    start = end + 1;
  }
  return out;
}

/** Two cursors of each kind per file. */
function cursorsOf(src: Source, random: () => number): Cursor[] {
  const text = src.text;
  const all = lines(text);
  const code = all.filter((l) => l.end - l.contentStart >= 6 && !/^(\/\/|#|\*|\/\*)/.test(text.slice(l.contentStart, l.end)));
  const out: Cursor[] = [];
  const take = <T>(list: T[]) => list.splice(Math.floor(random() * list.length), 1)[0];
  const midPool = [...code];
  const startPool = [...code];
  const blockPool = all.flatMap((l, i) => {
    const next = all[i + 1];
    const opens = /[{:]\s*$/.test(text.slice(l.contentStart, l.end));
    return opens && next && next.contentStart - next.start > l.contentStart - l.start && next.end > next.contentStart
      ? [{ opener: l, body: next }]
      : [];
  });
  for (let k = 0; k < 2; k++) {
    const m = take(midPool);
    if (m) {
      const offset = m.contentStart + 1 + Math.floor(random() * (m.end - m.contentStart - 1));
      out.push({
        file: src.path,
        kind: 'mid-line',
        document: text.slice(0, offset) + text.slice(m.end),
        offset,
        continuation: text.slice(offset),
      });
    }
    const s = take(startPool);
    if (s)
      out.push({
        file: src.path,
        kind: 'line-start',
        document: text.slice(0, s.contentStart) + text.slice(s.end),
        offset: s.contentStart,
        continuation: text.slice(s.contentStart),
      });
    const b = take(blockPool);
    if (b) {
      // The body is every following line indented deeper than the opener.
      const depth = b.opener.contentStart - b.opener.start;
      let end = b.body.end;
      for (const l of all.filter((x) => x.start > b.body.start)) {
        if (l.end > l.contentStart && l.contentStart - l.start <= depth) break;
        end = l.end;
      }
      const offset = b.body.contentStart;
      out.push({
        file: src.path,
        kind: 'block',
        document: text.slice(0, offset) + text.slice(end),
        offset,
        continuation: text.slice(offset),
      });
    }
  }
  return out;
}

interface Outcome {
  kind: Kind;
  shown: boolean;
  accepted: boolean;
  chars: number;
  /** Lines of a multi-line completion that are the file's next lines exactly. */
  wholeLines: number;
  probability: number;
}

function judge(c: Cursor, shown: string | undefined, probability: number): Outcome {
  const text = (shown ?? '').trimEnd();
  const accepted = !!text && c.continuation.startsWith(text);
  let wholeLines = 0;
  if (accepted && text.includes('\n')) wholeLines = text.split('\n').length - 1;
  return { kind: c.kind, shown: !!text, accepted, chars: accepted ? text.length : 0, wholeLines, probability };
}

interface Summary {
  cursors: number;
  shown: number;
  accepted: number;
  shownRate: number;
  precision: number;
  acceptedCharsPerCursor: number;
  wholeLinesAccepted: number;
}

function summarize(list: Outcome[]): Summary {
  const shown = list.filter((o) => o.shown).length;
  const accepted = list.filter((o) => o.accepted).length;
  return {
    cursors: list.length,
    shown,
    accepted,
    shownRate: list.length ? shown / list.length : 0,
    precision: shown ? accepted / shown : 0,
    acceptedCharsPerCursor: list.length ? list.reduce((s, o) => s + o.chars, 0) / list.length : 0,
    wholeLinesAccepted: list.reduce((s, o) => s + o.wholeLines, 0),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(7);
const row = (label: string, s: Summary) =>
  `${label.padEnd(24)} ${String(s.cursors).padStart(7)} ${pct(s.shownRate)} ${pct(s.precision)} ${s.acceptedCharsPerCursor.toFixed(2).padStart(9)} ${String(s.wholeLinesAccepted).padStart(7)}`;

async function main(): Promise<void> {
  const registry = new TokenizerRegistry({ name: basename(modelDir), path: join(modelDir, 'tokenizer.json') });
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const service = async (completion: Partial<CompletionSettings>) => {
    const settings = {
      model: { ...DEFAULT_SETTINGS.model, path: modelDir },
      // Nothing here accepts a completion: one computed ahead would only be thrown away.
      completion: { ...DEFAULT_SETTINGS.completion, completeAhead: false, ...completion },
    };
    const s = new CompletionService(settings, registry, undefined, join(repoRoot, 'dist', 'worker.js'));
    await s.configure(settings);
    if (s.status.state !== 'ready') throw new Error(s.status.error ?? 'model not loaded');
    return s;
  };
  const today = await service({ show: 'whole', minConfidence: 0.4, filters: false, healing: 'heal', localMemory: false });
  const ours = await service({});
  const withSnippets = await service({ snippetTokens: 128 });
  const merging = await service({ subtokenMerging: true });
  const random = seededRandom(SEED);
  const sources = heldOutSources(FILES, SEED);
  const cursors = sources.flatMap((src) => cursorsOf(src, random));
  // The editor's other open files: the other held-out files of the same package (its neighbours).
  const packageOf = (path: string) => (path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!);
  const neighboursOf = (file: string) =>
    sources
      .filter((s) => s.path !== file && packageOf(s.path) === packageOf(file) && s.path.split('.').pop() === file.split('.').pop())
      .map((s) => ({ uri: `file:///accept/${s.path}`, path: s.path, languageId: '', text: s.text }));
  const ask = async (s: CompletionService, c: Cursor, k: number, options: CompleteOptions = {}) => {
    const grammar = grammarFor('', c.file);
    const parser = grammar ? await syntax.parser(grammar).catch(() => undefined) : undefined;
    const uri = `file:///accept/${k}/${c.file}`;
    const r = await s.complete(
      {
        uri,
        path: c.file,
        document: documentOf(c.document),
        offset: c.offset,
        syntax: parser && { parser },
        neighbours: () => neighboursOf(c.file),
      },
      options,
    );
    s.forget(uri);
    return r;
  };
  const outcomes = { today: [] as Outcome[], ours: [] as Outcome[], withSnippets: [] as Outcome[], merging: [] as Outcome[] };
  const thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  const curve = new Map<number, Outcome[]>(thresholds.map((t) => [t, []]));
  for (const [k, c] of cursors.entries()) {
    const a = await ask(today, c, k);
    outcomes.today.push(judge(c, a?.shown ? a.text : undefined, a?.confidence ?? 0));
    const b = await ask(ours, c, k);
    outcomes.ours.push(judge(c, b?.shown ? b.text : undefined, b?.headProbability ?? 0));
    const n = await ask(withSnippets, c, k);
    outcomes.withSnippets.push(judge(c, n?.shown ? n.text : undefined, n?.headProbability ?? 0));
    const m = await ask(merging, c, k);
    outcomes.merging.push(judge(c, m?.shown ? m.text : undefined, m?.headProbability ?? 0));
    for (const t of thresholds) {
      const r = await ask(ours, c, k, { minHeadProbability: t });
      curve.get(t)!.push(judge(c, r?.shown ? r.text : undefined, r?.headProbability ?? 0));
    }
  }
  await today.dispose();
  await ours.dispose();
  await withSnippets.dispose();
  await merging.dispose();

  const out: string[] = [];
  const say = (line = '') => {
    out.push(line);
    console.log(line);
  };
  say(`bench/accept — ${describeMachine(machine())}; model ${basename(modelDir)}`);
  say(
    `${cursors.length} cursors in ${new Set(cursors.map((c) => c.file)).size} held-out files (TypeScript: @azure/msal-common, ajv; JavaScript: vscode-jsonrpc; Python: HumanEval), seed ${SEED}`,
  );
  say();
  say('pipeline                 cursors   shown precision chars/cursor  lines');
  const both = [
    ['today: whole, mean ≥ 0.4', outcomes.today],
    [`new: head ≥ ${DEFAULT_SETTINGS.completion.minHeadProbability}, filters`, outcomes.ours],
    ['new + snippets (128 tok)', outcomes.withSnippets],
    ['new + subtoken merging', outcomes.merging],
  ] as const;
  for (const [label, list] of both) {
    say(row(label, summarize(list)));
    for (const kind of KINDS) say(row(`  ${kind}`, summarize(list.filter((o) => o.kind === kind))));
  }
  say();
  say('new pipeline as the head threshold moves (precision against shown rate)');
  say('threshold                cursors   shown precision chars/cursor  lines');
  for (const t of thresholds) say(row(`  ${t}`, summarize(curve.get(t)!)));
  say();
  say('reliability of the new pipeline (head probability of what was shown, against acceptance)');
  for (let b = 0; b < 10; b++) {
    const inBin = outcomes.ours.filter(
      (o) => o.shown && o.probability >= b / 10 && (o.probability < (b + 1) / 10 || (b === 9 && o.probability <= 1)),
    );
    if (inBin.length)
      say(
        `  ${(b / 10).toFixed(1)}-${((b + 1) / 10).toFixed(1)}  ${String(inBin.length).padStart(4)} shown, ${pct(inBin.filter((o) => o.accepted).length / inBin.length)} accepted`,
      );
  }
  if (process.argv.includes('--json')) {
    const s = summarize(outcomes.ours);
    console.log(
      JSON.stringify({
        ...s,
        byKind: Object.fromEntries(KINDS.map((k) => [k, summarize(outcomes.ours.filter((o) => o.kind === k))])),
        curve: thresholds.map((t) => ({ threshold: t, ...summarize(curve.get(t)!) })),
        today: summarize(outcomes.today),
      }),
    );
  }
}

void main().catch((err: unknown) => {
  console.error(`bench/accept: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
