// The FIM check: cut spans out of real files, fill each with every healing mode through the editor's
// own completion pipeline, and score the fills (exact match, edit similarity, whether the filled file
// still parses, whether the model's tokens are canonical). The instrument every quality change is
// judged with; the CLI (`tessera fim-check`), the editor command and bench/fim share it.
import type { Parser } from 'web-tree-sitter';
import type { CompletionService } from '../completion/service';
import { errorCount } from '../completion/syntaxCut';
import { documentOf } from '../completion/window';
import type { FimFill, FimReport, FimSample, FimScores, HealingMode, SpanKind } from '../lsp_ext';
import { grammarFor } from '../syntax/languages';
import type { SyntaxService } from '../syntax/parser';
import { median } from '../quantiles';
import { editSimilarity, exactMatch } from './score';
import { cutSpans, type Span } from './spans';

export interface FimFile {
  path: string;
  text: string;
  languageId?: string;
}

export interface FimCheckOptions {
  kinds: readonly SpanKind[];
  /** Spans of each kind per file. */
  n: number;
  modes: readonly HealingMode[];
  seed: number;
  /** Only spans inside [from, to) of each file (a selection). */
  range?: [number, number];
}

export interface FimProgress {
  done: number;
  total: number;
}

const EXPLAIN = 5;

export async function checkFim(
  service: CompletionService,
  syntax: SyntaxService | undefined,
  files: readonly FimFile[],
  o: FimCheckOptions,
  progress: (p: FimProgress) => void = () => undefined,
  cancelled: () => boolean = () => false,
): Promise<FimReport> {
  const plan = await Promise.all(
    files.map(async (file) => {
      const grammar = grammarFor(file.languageId ?? '', file.path);
      const parser = grammar && syntax ? await syntax.parser(grammar).catch(() => undefined) : undefined;
      const tree = parser?.parse(file.text) ?? undefined;
      const spans = cutSpans(file.text, { kinds: o.kinds, n: o.n, seed: o.seed, range: o.range, tree });
      const errors = tree ? errorCount(tree) : 0;
      tree?.delete();
      return { file, parser, spans, errors };
    }),
  );
  const total = plan.reduce((n, p) => n + p.spans.length * o.modes.length, 0);
  let done = 0;
  const samples: FimSample[] = [];
  for (const { file, parser, spans, errors } of plan) {
    for (const span of spans) {
      if (cancelled()) break;
      const expected = file.text.slice(span.start, span.end);
      const sample: FimSample = { ...span, file: file.path, expected, expectedTokens: [], generated: {}, fills: {} };
      for (const mode of o.modes) {
        if (cancelled()) break;
        const fill = await fillSpan(service, { path: file.path, text: file.text, span, parser, errorsBefore: errors }, mode);
        done++;
        progress({ done, total });
        if (!fill) continue;
        sample.generated[mode] = fill.text;
        sample.fills[mode] = fill;
        if (!sample.expectedTokens.length && service.tokenizer) {
          const enc = service.tokenizer.encode(expected);
          sample.expectedTokens = Array.from(enc.ids, (_, k) => expected.slice(enc.starts[k], enc.ends[k]));
        }
      }
      samples.push(sample);
    }
  }
  const modes = [...o.modes];
  const summarize = (of: FimSample[]) =>
    Object.fromEntries(modes.map((m) => [m, scores(of.map((s) => s.fills[m]).filter((f): f is FimFill => !!f))]));
  return {
    model: service.modelName,
    seed: o.seed,
    modes,
    samples,
    summary: summarize(samples),
    byKind: Object.fromEntries(o.kinds.map((k) => [k, summarize(samples.filter((s) => s.kind === k))])),
  };
}

/** A span to fill: the whole file as it was, the span cut out of it, its grammar and error count. */
export interface SpanInFile {
  path: string;
  text: string;
  span: Span;
  parser?: Parser;
  /** Syntax errors of the whole file (a fill parses when it adds none). */
  errorsBefore: number;
}

/**
 * Fills one span in one mode through the editor's pipeline (its shape from the span's kind, no
 * confidence gate) on a document of its own, and scores the fill; undefined if the request was superseded.
 */
export async function fillSpan(service: CompletionService, s: SpanInFile, mode: HealingMode): Promise<FimFill | undefined> {
  const { span } = s;
  const expected = s.text.slice(span.start, span.end);
  const rest = s.text.slice(0, span.start) + s.text.slice(span.end);
  const uri = `fim-check:${s.path}#${span.start}-${span.end}/${mode}`;
  const r = await service.complete(
    { uri, path: s.path, document: documentOf(rest), offset: span.start, syntax: s.parser && { parser: s.parser } },
    {
      healing: mode,
      shape: span.kind === 'line' ? 'line' : span.kind === 'multiline' ? 'block' : undefined,
      ungated: true,
      explain: EXPLAIN,
      maxTokens: span.kind === 'multiline' ? 128 : 64,
    },
  );
  service.forget(uri);
  if (!r) return undefined;
  const tok = service.tokenizer;
  return {
    text: r.text,
    raw: r.raw,
    ...(r.text || !r.reason ? {} : { reason: r.reason }),
    exactMatch: exactMatch(r.text, expected),
    editSimilarity: editSimilarity(r.text, expected),
    parses: s.parser ? parsesAfter(s.parser, rest, span.start, r.text, s.errorsBefore) : true,
    canonical: r.canonical,
    shown: r.shown,
    confidence: r.confidence,
    latencyMs: r.latencyMs,
    tokens: (r.explained ?? []).map((t) => ({
      text: tok?.decode([t.id]) ?? '',
      p: Math.exp(t.logProb),
      alternatives: t.alternatives.map((a) => ({ text: tok?.decode([a.id]) ?? '', p: Math.exp(a.logProb) })),
    })),
  };
}

export function scores(fills: readonly FimFill[]): FimScores {
  const rate = (f: (x: FimFill) => boolean | number) => (fills.length ? fills.reduce((s, x) => s + Number(f(x)), 0) / fills.length : 0);
  return {
    n: fills.length,
    exactMatch: rate((f) => f.exactMatch),
    editSimilarity: rate((f) => f.editSimilarity),
    parseRate: rate((f) => f.parses),
    nonCanonical: rate((f) => !f.canonical),
    latencyMs: median(fills.map((f) => f.latencyMs)),
  };
}

/** Whether the file with `fill` at `offset` has no more syntax errors than the original had. */
function parsesAfter(parser: Parser, rest: string, offset: number, fill: string, errorsBefore: number): boolean {
  const tree = parser.parse(rest.slice(0, offset) + fill + rest.slice(offset));
  if (!tree) return false;
  try {
    return errorCount(tree) <= errorsBefore;
  } finally {
    tree.delete();
  }
}
