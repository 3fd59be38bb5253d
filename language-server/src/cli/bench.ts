import { join, relative, resolve } from 'node:path';
import { DEFAULT_MODEL } from '../defaultModel';
import { describeMachine } from '../measure/machine';
import { DEFAULT_MERGING, formatMerging, type MergingFile, measureMergingFolder, mergingFile } from '../measure/merging';
import { cutPrompts, DEFAULT_SPECULATIVE, formatSpeculative, measureSpeculative } from '../measure/speculative';
import { type ModelFolder, openModelFolder } from '../model/folder';
import { openDecoder } from '../model/openDecoder';
import { PRECISIONS, type Precision } from '../settings';
import { SyntaxService } from '../syntax/parser';
import { Tokenizer } from '../tokenizer/tokenizer';
import { type Command, type Io, parseArgs, UsageError } from './command';
import { readSourceFile } from './sourceFile';

const BENCHMARKS = ['speculative', 'merging'] as const;

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure on your files: decoding speed with drafts and trees, and what subtoken merging buys',
  usage:
    'tessera bench speculative FILE... [--model DIR] [--precision fp32|quantized|int8|q4|…] [--cuts N] [--json]\n' +
    '  Greedy block completions of 64 tokens from N cuts per file (default 3), decoded plainly, with prompt-lookup\n' +
    '  chains, with Token Recycling trees of several sizes and as the server chooses (auto); same tokens checked.\n' +
    '  JSON: {machine, prompts, modes:[{name, tokensPerSecond, tokensPerPass, acceptedPerPass, draftedPerPass,\n' +
    '  medianSpeedup, identical}], passCost:[{tokens, ms, ratio}], best, speedup, acceptedPerPass, identical, rankHits}.\n' +
    'tessera bench merging FILE... [--model DIR] [--precision …] [--cuts N] [--json]\n' +
    '  AST-aware subtoken merging: positions saved, bits per byte of 64 unmerged tokens after N cuts per file at the\n' +
    '  same position budget (plain model; merging export unmerged and merged), prefill as tokens and as merged positions.\n' +
    '  JSON: {machine, files, tokens, positionsSaved, unmergedTail, budgets:[{positions, cuts, plainTokens, mergedTokens, bitsPerByte}],\n' +
    '  prefill, finite, summary:{positionsSaved, prefillSpeedup, bitsPerByte:{merged, plain}}}.',
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, { flags: ['json'], options: ['model', 'precision', 'cuts'] });
    const [which, ...files] = positionals;
    if (!BENCHMARKS.includes(which as (typeof BENCHMARKS)[number])) throw new UsageError(`which benchmark? ${BENCHMARKS.join(', ')}`);
    if (!files.length) throw new UsageError('which FILE(s)? The completions are cut from them');
    const precision = options.get('precision') ?? 'fp32';
    if (!PRECISIONS.includes(precision as Precision)) throw new UsageError(`--precision is one of ${PRECISIONS.join(', ')}`);
    const cuts = Number(options.get('cuts') ?? (which === 'merging' ? DEFAULT_MERGING : DEFAULT_SPECULATIVE).cutsPerFile);
    if (!Number.isInteger(cuts) || cuts < 1) throw new UsageError(`--cuts wants a whole number from 1, not ${options.get('cuts')}`);
    const folder = openModelFolder(options.has('model') ? resolve(options.get('model')!) : DEFAULT_MODEL.dir, precision as Precision);
    const tok = Tokenizer.fromFile(folder.tokenizerPath);
    const sources = files.map((f) => ({ path: relative(process.cwd(), resolve(f)) || f, text: readSourceFile(f, io) }));
    if (which === 'merging') return benchMerging(folder, tok, sources, cuts, flags.has('json'), io);
    const o = { ...DEFAULT_SPECULATIVE, cutsPerFile: cuts };
    const prompts = cutPrompts(sources, (t) => tok.encodeIds(t), o);
    if (!prompts.length) throw new UsageError('the files are too short to cut completions from');
    const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
    try {
      const report = await measureSpeculative(decoder, tok, prompts, o);
      if (flags.has('json')) io.out(`${JSON.stringify(report)}\n`);
      else io.out(`${describeMachine(report.machine)}\n${folder.onnxPath}\n${formatSpeculative(report)}\n`);
      return report.identical ? 0 : 1;
    } finally {
      await decoder.release();
    }
  },
};

async function benchMerging(
  folder: ModelFolder,
  tok: Tokenizer,
  sources: Array<{ path: string; text: string }>,
  cuts: number,
  json: boolean,
  io: Io,
): Promise<number> {
  if (!folder.mergingOnnxPath) throw new UsageError(`${folder.dir} has no subtoken-merging export (onnx/model_merging.onnx)`);
  const syntax = await SyntaxService.create(join(__dirname, 'wasm'));
  const files: MergingFile[] = [];
  for (const s of sources) {
    const f = await mergingFile(syntax, tok, s.path, s.text);
    if (f) files.push(f);
    else io.err(`${s.path}: no grammar for this language, skipped\n`);
  }
  if (!files.length) throw new UsageError('none of the files is in a language tree-sitter parses here');
  const report = await measureMergingFolder(folder, files, { ...DEFAULT_MERGING, cutsPerFile: cuts });
  if (!report.budgets.some((b) => b.cuts > 0)) throw new UsageError('the files are too short to cut 64-token targets from');
  if (json) io.out(`${JSON.stringify(report)}\n`);
  else io.out(`${describeMachine(report.machine)}\n${folder.onnxPath} and ${folder.mergingOnnxPath}\n${formatMerging(report)}\n`);
  return report.finite ? 0 : 1;
}
