// How much faster drafts make greedy decoding, on block completions from real files: plain greedy
// (one token per pass), prompt-lookup chains (generation/drafts.ts) and Token Recycling trees of
// several sizes (generation/recycling.ts), each the same prompts in the same run, each checked to give
// plain greedy's tokens. Also what one pass costs by the number of tokens it runs. Shared by
// `npm run bench -- speculative` (held-out code) and `tessera bench speculative FILE...`.
import { TREE_NODES, DraftPolicy } from '../generation/draftPolicy';
import { generate } from '../generation/generate';
import { AdjacencyTable, treeTemplate } from '../generation/recycling';
import { CachedSession } from '../inference/cachedSession';
import type { Decoder } from '../model/decoder';
import { median } from '../quantiles';
import type { TokenTable } from '../tokenizer/tokenTable';
import { type Machine, machine } from './machine';

export interface SpeculativeOptions {
  /** Completions cut from each file. */
  cutsPerFile: number;
  /** Tokens per completion. */
  maxTokens: number;
  /** Prompt tokens before each cut (at most). */
  contextTokens: number;
  /** Draft tree sizes to try: nodes per pass, the root and the lookup chain included. */
  treeSizes: number[];
  /** Longest prompt-lookup chain. */
  maxDraft: number;
}

export const DEFAULT_SPECULATIVE: SpeculativeOptions = {
  cutsPerFile: 3,
  maxTokens: 64,
  contextTokens: 384,
  treeSizes: [3, 4, 6, 8, 12, 16, 24],
  maxDraft: 8,
};

export interface ModeResult {
  name: string;
  tokens: number;
  decodeMs: number;
  tokensPerSecond: number;
  passes: number;
  /** Tokens emitted per model pass (plain greedy: 1). */
  tokensPerPass: number;
  /** Draft tokens accepted per pass. */
  acceptedPerPass: number;
  /** Draft tokens (tree nodes after the root) run per pass. */
  draftedPerPass: number;
  /** Median over prompts of plain greedy's decode time / this mode's. */
  medianSpeedup: number;
  /** Every prompt gave plain greedy's tokens. */
  identical: boolean;
}

export interface PassCost {
  tokens: number;
  ms: number;
  /** Cost relative to a one-token step. */
  ratio: number;
}

export interface SpeculativeReport {
  machine: Machine;
  prompts: number;
  modes: ModeResult[];
  passCost: PassCost[];
  /** The fastest tree mode, and its throughput over plain greedy's. */
  best: string;
  speedup: number;
  /** Its accepted draft tokens per pass. */
  acceptedPerPass: number;
  /** Every mode gave plain greedy's tokens on every prompt. */
  identical: boolean;
  /** How often greedy's next token was the adjacency table's follower of each rank (before the prompt ran). */
  rankHits: number[];
}

export interface Prompt {
  label: string;
  ids: number[];
}

/** Prompts cut at line starts spread over each text, each the `contextTokens` tokens before the cut. */
export function cutPrompts(
  files: Array<{ path: string; text: string }>,
  encode: (text: string) => number[],
  o: SpeculativeOptions,
): Prompt[] {
  const out: Prompt[] = [];
  for (const f of files) {
    for (let k = 1; k <= o.cutsPerFile; k++) {
      const at = f.text.lastIndexOf('\n', Math.floor((f.text.length * k) / (o.cutsPerFile + 1))) + 1;
      const ids = encode(f.text.slice(Math.max(0, at - 8 * o.contextTokens), at)).slice(-o.contextTokens);
      if (ids.length >= 16) out.push({ label: `${f.path}@${at}`, ids });
    }
  }
  return out;
}

export async function measureSpeculative(
  decoder: Decoder,
  table: TokenTable,
  prompts: Prompt[],
  o: SpeculativeOptions,
): Promise<SpeculativeReport> {
  const session = new CachedSession(decoder);
  const vocab = decoder.config.vocabSize;
  const opts = { maxTokens: o.maxTokens, stopIds: new Set<number>(), processors: [] };
  const trees = decoder.trees ? o.treeSizes : [];
  // One table per tree mode (and one for 'auto'), each learning from its own passes as a worker's would.
  const tables = [...trees, TREE_NODES].map(() => new AdjacencyTable(vocab));
  const policy = new DraftPolicy();
  const modes = ['plain', `chain ${o.maxDraft}`, ...trees.map((n) => `tree ${n}`), ...(trees.length ? ['auto'] : [])];
  const acc = modes.map(() => ({ tokens: 0, ms: 0, passes: 0, accepted: 0, drafted: 0, identical: true, ratios: [] as number[] }));
  const hits = new Array(8).fill(0);
  let predicted = 0;
  for (const p of prompts) {
    const plain = await generate(session, table, p.ids, opts);
    // The rank, in the first table's followers, of each token greedy chose after the one before it.
    if (tables.length) {
      const seq = [p.ids[p.ids.length - 1]!, ...plain.tokens];
      for (let i = 1; i < seq.length; i++) {
        predicted++;
        for (let r = 0; r < 8; r++) if (tables[0]!.follower(seq[i - 1]!, r) === seq[i]) hits[r]++;
      }
    }
    for (let m = 0; m < modes.length; m++) {
      const auto = modes[m] === 'auto' ? policy.choose() : undefined;
      const nodes = auto ? (auto === 'tree' ? TREE_NODES : 0) : m >= 2 ? trees[m - 2]! : 0;
      const g =
        m === 0
          ? plain
          : await generate(session, table, p.ids, {
              ...opts,
              maxDraft: o.maxDraft,
              ...(nodes ? { recycling: { table: tables[m - 2]!, template: treeTemplate(nodes - 1) } } : {}),
            });
      if (auto) policy.record(auto, g.tokens.length, g.decodeMs);
      const a = acc[m]!;
      a.tokens += g.tokens.length;
      a.ms += g.decodeMs;
      a.passes += g.passes;
      a.accepted += g.accepted;
      a.drafted += g.drafted;
      a.identical &&= g.tokens.length === plain.tokens.length && g.tokens.every((t, i) => t === plain.tokens[i]);
      a.ratios.push(plain.decodeMs / g.decodeMs);
    }
  }
  const results: ModeResult[] = modes.map((name, m) => {
    const a = acc[m]!;
    return {
      name,
      tokens: a.tokens,
      decodeMs: a.ms,
      tokensPerSecond: a.tokens / (a.ms / 1000),
      passes: a.passes,
      tokensPerPass: a.tokens / a.passes,
      acceptedPerPass: a.accepted / a.passes,
      draftedPerPass: a.drafted / a.passes,
      medianSpeedup: m === 0 ? 1 : median(a.ratios),
      identical: a.identical,
    };
  });
  const plainRate = results[0]!.tokensPerSecond;
  const treeModes = results.slice(2, 2 + trees.length);
  const best = [...treeModes].sort((a, b) => b.tokensPerSecond - a.tokensPerSecond)[0] ?? results[1]!;
  return {
    machine: machine(),
    prompts: prompts.length,
    modes: results,
    passCost: await passCosts(decoder, prompts[0]?.ids ?? [1], [1, 2, 4, 8, 16, 24, 32, 48, 64]),
    best: best.name,
    speedup: best.tokensPerSecond / plainRate,
    acceptedPerPass: best.acceptedPerPass,
    identical: results.every((r) => r.identical),
    rankHits: hits.map((h) => (predicted ? h / predicted : 0)),
  };
}

/**
 * Median time of one pass of n tokens after the prompt (a tree when the decoder takes one, else a chain),
 * for each n. Sizes take turns, round after round, so drift in the machine's speed touches them alike:
 * 25 rounds, or fewer where passes are slow (a 0.5B model), at least 5 and about 20 s in all.
 */
export async function passCosts(decoder: Decoder, prompt: number[], sizes: number[]): Promise<PassCost[]> {
  await decoder.run(prompt, 0, 1);
  const fits = sizes.filter((n) => prompt.length + n <= decoder.capacity);
  const runs = fits.map((n) => {
    const template = treeTemplate(n - 1);
    const ids = template.parents.map((_, i) => (i * 131 + 7) % decoder.config.vocabSize);
    return () =>
      decoder.trees && n > 1 ? decoder.runTree({ ids, parents: template.parents }, prompt.length) : decoder.run(ids, prompt.length, n);
  });
  const times = fits.map(() => [] as number[]);
  const started = performance.now();
  for (let round = 0; round < 25 && (round < 5 || performance.now() - started < 20_000); round++) {
    for (let k = 0; k < runs.length; k++) {
      const t0 = performance.now();
      await runs[k]!();
      times[k]!.push(performance.now() - t0);
    }
  }
  const out = fits.map((tokens, k) => ({ tokens, ms: median(times[k]!), ratio: 0 }));
  for (const c of out) c.ratio = c.ms / out[0]!.ms;
  return out;
}

/** The report as the tables the benchmark prints. */
export function formatSpeculative(r: SpeculativeReport): string {
  const lines: string[] = [];
  const out = (l: string) => lines.push(l);
  out(`${r.prompts} prompts; greedy, same tokens in every mode: ${r.identical ? 'yes' : 'NO'}\n`);
  out('mode              tokens/s   ×plain (total, median)   tokens/pass   accepted/pass   drafted/pass   same tokens');
  const plain = r.modes[0]!.tokensPerSecond;
  for (const m of r.modes) {
    out(
      `${m.name.padEnd(16)} ${m.tokensPerSecond.toFixed(0).padStart(9)}   ${`×${(m.tokensPerSecond / plain).toFixed(2)}, ×${m.medianSpeedup.toFixed(2)}`.padStart(22)}   ${m.tokensPerPass.toFixed(2).padStart(11)}   ${m.acceptedPerPass.toFixed(2).padStart(13)}   ${m.draftedPerPass.toFixed(1).padStart(12)}   ${m.identical ? 'yes' : 'NO'}`,
    );
  }
  out('\none pass: tokens   ms (median)   × a one-token step');
  for (const c of r.passCost)
    out(`${String(c.tokens).padStart(16)}   ${c.ms.toFixed(3).padStart(11)}   ${c.ratio.toFixed(2).padStart(17)}`);
  out(`\nrank hits (greedy's next token was the table's follower of rank r): ${r.rankHits.map((h) => h.toFixed(3)).join(' ')}`);
  out(`best: ${r.best}, ×${r.speedup.toFixed(2)} plain greedy's tokens/s, ${r.acceptedPerPass.toFixed(2)} accepted per pass`);
  return lines.join('\n');
}
