// What AST-aware subtoken merging buys (syntax/merging.ts, models/recipe/merge.py), on real files:
//   positions saved   1 - positions / tokens when every mergeable identifier takes one position
//   bits per byte     of the next `targetTokens` tokens (unmerged, as the model generates them) after a
//                     context of at most B positions: the plain model with B tokens, the merging export
//                     with B tokens (its unmerged path), and the merging export with B merged positions
//                     (more code in the same room)
//   prefill           the same context text run as tokens and as merged positions, by the same export
// Shared by `npm run bench -- merging` (held-out code) and `tessera bench merging FILE...`.
import { CachedSession } from '../inference/cachedSession';
import type { Decoder } from '../model/decoder';
import type { ModelFolder } from '../model/folder';
import { openDecoder } from '../model/openDecoder';
import { median } from '../quantiles';
import { grammarFor } from '../syntax/languages';
import { pooledAway, UNMERGED_TAIL } from '../completion/merging';
import { logSoftmaxOf } from '../generation/processors';
import { groupsOf, type MergedRun, mergedRuns } from '../syntax/merging';
import { SyntaxDocument, type SyntaxService } from '../syntax/parser';
import type { Encoding, Tokenizer } from '../tokenizer/tokenizer';
import { type Machine, machine } from './machine';

export interface MergingOptions {
  /** Places per file where a target starts (line starts spread over the file). */
  cutsPerFile: number;
  targetTokens: number;
  /** Context budgets, in positions. */
  budgets: number[];
  /** Tokens before each cut left unmerged, as completions leave the ones before the cursor. */
  unmergedTail: number;
}

export const DEFAULT_MERGING: MergingOptions = { cutsPerFile: 4, targetTokens: 64, budgets: [128, 256, 384], unmergedTail: UNMERGED_TAIL };

/** A file as the benchmark reads it: its tokens and the identifiers among them that merge. */
export interface MergingFile {
  path: string;
  text: string;
  tokens: Encoding;
  runs: MergedRun[];
}

export interface BudgetResult {
  positions: number;
  cuts: number;
  /** Mean context tokens that fit: unmerged, merged. */
  plainTokens: number;
  mergedTokens: number;
  /** Bits per byte of the targets: plain model; merging export unmerged; merging export merged. */
  bitsPerByte: { plain: number; unmerged: number; merged: number };
}

export interface MergingReport {
  machine: Machine;
  files: number;
  tokens: number;
  positionsSaved: number;
  unmergedTail: number;
  budgets: BudgetResult[];
  /** Prefill of the largest budget's merged contexts: the same text as tokens and as merged positions. */
  prefill: { tokens: number; positions: number; tokensMs: number; mergedMs: number; speedup: number };
  /** Every logit the merged runs gave was finite. */
  finite: boolean;
  summary: { positionsSaved: number; prefillSpeedup: number; bitsPerByte: { merged: number; plain: number } };
}

/** A file's tokens and mergeable identifiers; undefined where no grammar parses its language. */
export async function mergingFile(syntax: SyntaxService, tok: Tokenizer, path: string, text: string): Promise<MergingFile | undefined> {
  const grammar = grammarFor('', path);
  if (!grammar) return undefined;
  const doc = SyntaxDocument.parse(await syntax.parser(grammar), grammar, { length: text.length, getText: () => text });
  try {
    const identifiers = doc.leaves().filter((l) => l.kind === 'identifier');
    const tokens = tok.encode(text);
    return { path, text, tokens, runs: mergedRuns(tokens, identifiers, text) };
  } finally {
    doc.dispose();
  }
}

interface Cut {
  file: MergingFile;
  /** Each token's position with the identifiers before the cut's unmerged tail merged. */
  groups: Int32Array;
  at: number;
}

/** Token indices of targets: at line starts spread over each file, with room for a target after. */
function cutsOf(files: MergingFile[], o: MergingOptions): Cut[] {
  const out: Cut[] = [];
  for (const file of files) {
    const { starts } = file.tokens;
    const n = starts.length;
    for (let k = 1; k <= o.cutsPerFile; k++) {
      let at = Math.floor((n * k) / (o.cutsPerFile + 1));
      while (at > 0 && file.text[starts[at]! - 1] !== '\n') at--;
      // A whole target after, some context before.
      if (at < 16 || at + o.targetTokens > n) continue;
      const before = file.runs.filter((r) => r.last < at - o.unmergedTail);
      out.push({ file, groups: groupsOf(n, before), at });
    }
  }
  return out;
}

/** The first token of a context ending before `at` that fits `budget` positions (merged or not). */
function contextStart(cut: Cut, budget: number, merged: boolean): number {
  if (!merged) return Math.max(0, cut.at - budget);
  const { groups, at } = cut;
  let start = at;
  while (start > 0 && groups[at - 1]! - groups[start - 1]! < budget) start--;
  return start;
}

/** Nats of the targets after the context [start, at), with the context merged or not. */
async function targetNats(
  session: CachedSession,
  cut: Cut,
  start: number,
  merged: boolean,
  targets: number,
  finite: { ok: boolean },
): Promise<number> {
  const ids = Array.from(cut.file.tokens.ids.subarray(start, cut.at + targets));
  const context = ids.slice(0, cut.at - start);
  const groups = merged ? cut.groups.subarray(start, cut.at).map((g) => g - cut.groups[start]!) : undefined;
  const first = (await session.prefill(context, false, groups)).logits.slice(); // the next run reuses the buffer
  const rest = await session.extend(ids.slice(context.length, context.length + targets - 1));
  const vocab = session.vocabSize;
  let nats = 0;
  const score = (row: Float32Array, target: number) => {
    const logp = logSoftmaxOf(row, session.logProbs)(target);
    if (!Number.isFinite(logp)) finite.ok = false;
    nats -= logp;
  };
  score(first, ids[context.length]!);
  for (let i = 1; i < targets; i++) score(rest.subarray((i - 1) * vocab, i * vocab), ids[context.length + i]!);
  return nats;
}

/** measureMerging over a folder's plain and merging exports, each opened for the run and released after. */
export async function measureMergingFolder(folder: ModelFolder, files: MergingFile[], o: MergingOptions): Promise<MergingReport> {
  if (!folder.mergingOnnxPath) throw new Error(`${folder.dir} has no subtoken-merging export (onnx/model_merging.onnx)`);
  const plain = (await openDecoder(folder.onnxPath, folder.config, { threads: 1 })).decoder;
  try {
    const merging = (await openDecoder(folder.mergingOnnxPath, folder.config, { threads: 1 })).decoder;
    try {
      return await measureMerging(plain, merging, files, o);
    } finally {
      await merging.release();
    }
  } finally {
    await plain.release();
  }
}

export async function measureMerging(plain: Decoder, merging: Decoder, files: MergingFile[], o: MergingOptions): Promise<MergingReport> {
  if (!merging.merges) throw new Error('the merging export takes no token_group input');
  const plainSession = new CachedSession(plain);
  const mergingSession = new CachedSession(merging);
  const cuts = cutsOf(files, o);
  const finite = { ok: true };
  const bytes = (c: Cut) =>
    Buffer.byteLength(c.file.text.slice(c.file.tokens.starts[c.at]!, c.file.tokens.ends[c.at + o.targetTokens - 1]!));
  const budgets: BudgetResult[] = [];
  for (const budget of o.budgets) {
    const sum = { cuts: 0, plain: 0, unmerged: 0, merged: 0, bytes: 0, plainTokens: 0, mergedTokens: 0 };
    for (const cut of cuts) {
      const plainStart = contextStart(cut, budget, false);
      const mergedStart = contextStart(cut, budget, true);
      if (cut.at - mergedStart + o.targetTokens > merging.capacity) continue;
      sum.plain += await targetNats(plainSession, cut, plainStart, false, o.targetTokens, finite);
      sum.unmerged += await targetNats(mergingSession, cut, plainStart, false, o.targetTokens, finite);
      sum.merged += await targetNats(mergingSession, cut, mergedStart, true, o.targetTokens, finite);
      sum.cuts++;
      sum.bytes += bytes(cut);
      sum.plainTokens += cut.at - plainStart;
      sum.mergedTokens += cut.at - mergedStart;
    }
    const n = Math.max(1, sum.bytes);
    const count = Math.max(1, sum.cuts);
    budgets.push({
      positions: budget,
      cuts: sum.cuts,
      plainTokens: sum.plainTokens / count,
      mergedTokens: sum.mergedTokens / count,
      bitsPerByte: { plain: sum.plain / Math.LN2 / n, unmerged: sum.unmerged / Math.LN2 / n, merged: sum.merged / Math.LN2 / n },
    });
  }
  const prefill = await prefillTimes(mergingSession, cuts, Math.max(...o.budgets));
  const tokens = files.reduce((s, f) => s + f.tokens.ids.length, 0);
  const saved = files.reduce((s, f) => s + pooledAway(f.runs), 0);
  const positionsSaved = tokens ? saved / tokens : 0;
  const largest = budgets[budgets.length - 1];
  return {
    machine: machine(),
    files: files.length,
    tokens,
    positionsSaved,
    unmergedTail: o.unmergedTail,
    budgets,
    prefill,
    finite: finite.ok,
    summary: {
      positionsSaved,
      prefillSpeedup: prefill.speedup,
      bitsPerByte: { merged: largest?.bitsPerByte.merged ?? NaN, plain: largest?.bitsPerByte.plain ?? NaN },
    },
  };
}

/**
 * Median prefill time of each cut's merged context at `budget`, run as its tokens and as merged positions
 * by the same export (so only the positions differ); the two take turns, three rounds.
 */
async function prefillTimes(session: CachedSession, cuts: Cut[], budget: number): Promise<MergingReport['prefill']> {
  const asTokens: number[] = [];
  const asMerged: number[] = [];
  let tokens = 0;
  let positions = 0;
  for (const cut of cuts) {
    const start = contextStart(cut, budget, true);
    if (cut.at - start > session.capacity) continue;
    const ids = Array.from(cut.file.tokens.ids.subarray(start, cut.at));
    const groups = cut.groups.subarray(start, cut.at).map((g) => g - cut.groups[start]!);
    tokens += ids.length;
    positions += groups[groups.length - 1]! + 1;
    const t = [[], []] as number[][];
    for (let round = 0; round < 3; round++) {
      for (const [k, g] of [
        [0, undefined],
        [1, groups],
      ] as const) {
        const t0 = performance.now();
        await session.prefill(ids, false, g);
        t[k]!.push(performance.now() - t0);
      }
    }
    asTokens.push(median(t[0]!));
    asMerged.push(median(t[1]!));
  }
  const count = Math.max(1, asTokens.length);
  const tokensMs = asTokens.length ? median(asTokens) : NaN;
  const mergedMs = asMerged.length ? median(asMerged) : NaN;
  return { tokens: tokens / count, positions: positions / count, tokensMs, mergedMs, speedup: tokensMs / mergedMs };
}

/** The report as the table the benchmark prints. */
export function formatMerging(r: MergingReport): string {
  const lines = [
    `${r.files} files, ${r.tokens} tokens; identifiers merged: ${(100 * r.positionsSaved).toFixed(1)}% fewer positions; merged logits finite: ${r.finite ? 'yes' : 'NO'}`,
    `merged contexts leave the last ${r.unmergedTail} tokens before each target unmerged`,
    '',
    'budget (positions)   cuts   context tokens (plain, merged)   bits/byte: plain model   merging export unmerged   merged',
  ];
  for (const b of r.budgets)
    lines.push(
      `${String(b.positions).padStart(18)}   ${String(b.cuts).padStart(4)}   ${`${b.plainTokens.toFixed(0)}, ${b.mergedTokens.toFixed(0)}`.padStart(30)}   ${b.bitsPerByte.plain.toFixed(4).padStart(22)}   ${b.bitsPerByte.unmerged.toFixed(4).padStart(23)}   ${b.bitsPerByte.merged.toFixed(4).padStart(6)}`,
    );
  const p = r.prefill;
  lines.push(
    '',
    `prefill of the same context (median): ${p.tokens.toFixed(0)} tokens ${p.tokensMs.toFixed(2)} ms, as ${p.positions.toFixed(0)} merged positions ${p.mergedMs.toFixed(2)} ms: ×${p.speedup.toFixed(2)}`,
  );
  return lines.join('\n');
}
