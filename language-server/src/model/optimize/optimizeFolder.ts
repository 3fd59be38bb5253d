// `tessera optimize`: a model folder's decoder rewritten for this CPU (passes.ts), written as a complete
// model folder — config, tokenizer, onnx/model.onnx — into Tessera's cache (or a folder you name), never
// into the source folder. Keyed by the source decoder (size, mtime, a hash of its ends), so the next load
// reuses it; written under a temporary name and renamed, so a stopped run leaves nothing half-written.
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Precision } from '../../settings';
import { dataFilesOf, type ModelFolder, openModelFolder } from '../folder';
import { readModel, writeModel } from './onnxModel';
import { type AttentionBiasResult, addAttentionBias } from './attentionBias';
import { pruneSuperseded } from './cachePrune';
import { keepLastLogits } from './logitsToKeep';
import { isHalf, widenToFloat } from './widen';
import { type OptimizeBits, optimizeGraph, type PassReport } from './passes';

/** Bumped when the passes change what they write: older copies are then made again. */
export const OPTIMIZER_VERSION = 3;

export type OptimizeTarget = 'q4' | 'int8';
export const OPTIMIZE_BLOCKS = [32, 64, 128] as const;
export type OptimizeBlock = (typeof OPTIMIZE_BLOCKS)[number];

export interface OptimizeRequest {
  /** The model folder as the user has it. */
  source: string;
  /** Which decoder file of it to read (tessera.model.precision). */
  from?: Precision;
  /** The body's precision; by default int8 from an 8-bit-or-wider file, q4 from a 4-bit one. */
  target?: OptimizeTarget;
  /**
   * Weights per scale along K (32 by default, as Q4_0 has it). Larger blocks run faster (fewer scales to
   * apply: at the 0.5B shape, q4 block 128 decodes ~13% and prefills ~30% faster than block 32) and round
   * coarser: bench/precision.ts measures what it costs.
   */
  block?: OptimizeBlock;
  /** A folder to write the optimized model folder to; by default Tessera's cache. */
  out?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface OptimizeReport extends PassReport {
  /** The file was fp16 and was made fp32 first. */
  widened: boolean;
  /** The graph takes logits_to_keep (logitsToKeep.ts): a prefill computes the head for its last position only. */
  logitsToKeep: boolean;
  /** Whether the graph takes attention_bias now (attentionBias.ts): draft trees verify in one pass. */
  attentionBias: AttentionBiasResult;
  version: number;
  source: string;
  sourceFile: string;
  target: OptimizeTarget;
  block: OptimizeBlock;
  bytesBefore: number;
  bytesAfter: number;
  seconds: number;
}

export interface OptimizeResult {
  dir: string;
  onnxPath: string;
  /** Made before and reused. */
  reused: boolean;
  report: OptimizeReport;
}

/** Where optimized copies live: $XDG_CACHE_HOME/tessera/optimized, else ~/.cache/tessera/optimized. */
export function optimizedCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.TESSERA_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tessera'), 'optimized');
}

const FOUR_BIT = new Set<Precision>(['q4', 'q4f16', 'bnb4']);
const SMALL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** A decoder file's identity: its size, mtime and the hash of its first and last MiB (and its data files'). */
function fingerprint(onnxPath: string): string {
  const hash = createHash('sha256');
  for (const path of [onnxPath, ...dataFilesOf(onnxPath)]) {
    const { size, mtimeMs } = statSync(path);
    hash.update(`${basename(path)}\0${size}\0${mtimeMs}\0`);
    const fd = openSync(path, 'r');
    try {
      const chunk = Buffer.alloc(Math.min(size, 1 << 20));
      readSync(fd, chunk, 0, chunk.length, 0);
      hash.update(chunk);
      readSync(fd, chunk, 0, chunk.length, Math.max(0, size - chunk.length));
      hash.update(chunk);
    } finally {
      closeSync(fd);
    }
  }
  return hash.digest('hex');
}

/** Where a request's optimized copy goes, and what it reads: worked out once per load (plain data: a worker takes it). */
export interface OptimizePlace {
  folder: ModelFolder;
  sourceFile: string;
  target: OptimizeTarget;
  block: OptimizeBlock;
  dir: string;
  /** Where it is written before it is renamed to `dir`. */
  partial: string;
  /** Only `--out`: an existing copy there is made again, never reused. */
  reusable: boolean;
}

export function optimizedPlace(req: OptimizeRequest): OptimizePlace {
  const folder = openModelFolder(req.source, req.from ?? 'fp32');
  const sourceFile = folder.onnxPath.slice(folder.dir.length + 1);
  const target = req.target ?? (FOUR_BIT.has(req.from ?? 'fp32') || /_q4|_bnb4/.test(sourceFile) ? 'q4' : 'int8');
  const block = req.block ?? 32;
  const key = createHash('sha256')
    .update(`${OPTIMIZER_VERSION}\0${target}\0${block}\0${fingerprint(folder.onnxPath)}`)
    .digest('hex')
    .slice(0, 24);
  const dir = req.out ?? join(optimizedCacheDir(), key);
  return { folder, sourceFile, target, block, dir, partial: `${dir}.partial-${process.pid}`, reusable: !req.out };
}

/** The copy made before for this place, if there is one. */
export function madeBefore(place: OptimizePlace): OptimizeResult | undefined {
  const onnxPath = join(place.dir, 'onnx', 'model.onnx');
  const reportPath = join(place.dir, 'optimized.json');
  if (!place.reusable || !existsSync(reportPath) || !existsSync(onnxPath)) return undefined;
  return { dir: place.dir, onnxPath, reused: true, report: JSON.parse(readFileSync(reportPath, 'utf8')) as OptimizeReport };
}

/** The optimized copy of a model folder: the one made before for the same source, or made now. */
export function optimizeFolder(req: OptimizeRequest): OptimizeResult {
  const place = optimizedPlace(req);
  return madeBefore(place) ?? makeOptimized(place, req);
}

/** Makes the copy: read, rewrite, write under a temporary name, rename. */
export function makeOptimized(place: OptimizePlace, req: Pick<OptimizeRequest, 'onProgress' | 'signal'>): OptimizeResult {
  const { folder, sourceFile, target, block, dir, partial } = place;
  const started = Date.now();
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, 'onnx'), { recursive: true });
  try {
    let model: ReturnType<typeof readModel>;
    try {
      model = readModel(folder.onnxPath);
    } catch (err) {
      throw new Error(`${sourceFile} is not a readable ONNX file: ${err instanceof Error ? err.message : String(err)}`);
    }
    // fp16 runs as fp32 on x86 (no half-precision kernels): widened first, quantized like an fp32 file.
    const widened = isHalf(model);
    if (widened) widenToFloat(model);
    const bits: OptimizeBits = target === 'q4' ? 4 : 8;
    const passes = optimizeGraph(model, {
      bits,
      block,
      vocabSize: folder.config.vocabSize,
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    if (passes.quantized[4] + passes.quantized[8] + passes.retuned === 0) {
      throw new Error(
        `nothing to optimize in ${sourceFile}: no weight MatMul at the top of its graph${passes.left.length ? ` (left: ${passes.left.join(', ')})` : ''}`,
      );
    }
    // After the passes: the head they quantized is the node the slice goes before.
    const logitsToKeep = keepLastLogits(model, folder.config.vocabSize);
    const attentionBias = addAttentionBias(model);
    const written = writeModel(model, join(partial, 'onnx', 'model.onnx'));
    for (const f of SMALL_FILES) if (existsSync(join(folder.dir, f))) copyFileSync(join(folder.dir, f), join(partial, f));
    const report: OptimizeReport = {
      ...passes,
      widened,
      logitsToKeep,
      attentionBias,
      version: OPTIMIZER_VERSION,
      source: folder.dir,
      sourceFile,
      target,
      block,
      bytesBefore: [folder.onnxPath, ...dataFilesOf(folder.onnxPath)].reduce((sum, f) => sum + statSync(f).size, 0),
      bytesAfter: written.bytes,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    writeFileSync(join(partial, 'optimized.json'), `${JSON.stringify(report, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(partial, dir);
    if (place.reusable) pruneSuperseded(dirname(dir), dir);
    return { dir, onnxPath: join(dir, 'onnx', 'model.onnx'), reused: false, report };
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

/** One line for Show Server Info and the CLI: what was done to the model, and why. */
export function describeOptimization(r: OptimizeReport): string {
  const body = r.quantized[4]
    ? `${r.quantized[4]} weight matrices to 4 bits`
    : `${r.quantized[8] - (r.head === 'quantized to 8 bits' ? 1 : 0)} weight matrices to 8 bits`;
  const parts = [
    `${r.sourceFile} optimized for this CPU (${r.target})`,
    ...(r.quantized[4] + r.quantized[8] ? [`${body} (MatMulNBits, block ${r.block ?? 32}, int8 dot products)`] : []),
    ...(r.retuned ? [`${r.retuned} 4-bit matrices kept, set to int8 dot products`] : []),
    `head ${r.head}`,
    ...(r.logitsToKeep ? ['logits only for the positions used (logits_to_keep: a prefill runs the head once)'] : []),
    ...(r.attentionBias === 'added' ? ['attention bias added (draft trees verify in one pass)'] : []),
    ...(r.widened ? ['fp16 made fp32 (x86 has no half-precision kernels: it ran as fp32 with casts)'] : []),
    ...(r.left.length ? [`left as they were: ${r.left.join(', ')}`] : []),
  ];
  return `${parts.join('; ')}; ${(r.bytesBefore / 1e6).toFixed(0)} → ${(r.bytesAfter / 1e6).toFixed(0)} MB`;
}
