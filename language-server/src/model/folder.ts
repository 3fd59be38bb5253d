// Finds the parts of a model folder (Hugging Face / Optimum / onnx-community layouts) and says exactly
// what is missing when it is not one.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PRECISIONS, type Precision } from '../settings';
import { type ModelConfig, parseModelConfig } from './config';

export interface ModelFolder {
  dir: string;
  tokenizerPath: string;
  onnxPath: string;
  /** The subtoken-merging export (models/recipe/train_merge.py), where the folder has one. */
  mergingOnnxPath?: string;
  config: ModelConfig;
}

export class ModelFolderError extends Error {}

export type { Precision };

/**
 * Decoder files in the order they are tried; a merged decoder serves both the first call and later ones.
 * fp32 and quantized fall back on each other; a variant named by its precision (q4, int8, …) is that file
 * or nothing, so what runs is what was asked for.
 */
export function decoderCandidates(precision: Precision): string[] {
  const plain = ['model.onnx', 'decoder_model_merged.onnx', 'decoder_with_past_model.onnx'];
  const quantized = ['model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx', 'model_q4.onnx', 'decoder_model_merged_quantized.onnx'];
  const names =
    precision === 'quantized'
      ? [...quantized, ...plain]
      : precision === 'fp32'
        ? [...plain, ...quantized]
        : [`model_${precision}.onnx`, `decoder_model_merged_${precision}.onnx`];
  return names.flatMap((n) => [join('onnx', n), n]);
}

/** The precision a decoder file's name says (`onnx/model_int8.onnx` → int8, `model.onnx` → fp32), if it is a decoder. */
export function precisionOfFile(path: string): Precision | undefined {
  const m = /^(?:onnx\/)?(?:model|decoder_model_merged|decoder_with_past_model)(?:_([a-z0-9]+))?\.onnx$/.exec(path);
  const p = m && (m[1] ?? 'fp32');
  return p && (PRECISIONS as readonly string[]).includes(p) ? (p as Precision) : undefined;
}

/** The precisions among a list of files (a folder's, a repo's), each under its own file's name, not fp32's fallbacks. */
export function precisionsAmong(files: readonly string[]): Precision[] {
  return PRECISIONS.filter((p) => files.some((f) => precisionOfFile(f) === p));
}

/** The .onnx files a folder has (and its onnx/ subfolder), for messages. */
function onnxFiles(dir: string): string[] {
  const list = (d: string) =>
    existsSync(join(dir, d))
      ? readdirSync(join(dir, d))
          .filter((f) => f.endsWith('.onnx'))
          .map((f) => join(d, f))
      : [];
  return [...list('onnx'), ...list('.')];
}

export function openModelFolder(dir: string, precision: Precision = 'fp32'): ModelFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelFolderError(`${dir} is not a folder`);
  const problems: string[] = [];
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) problems.push('no tokenizer.json');
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) problems.push('no config.json');
  const onnx = decoderCandidates(precision).find((f) => existsSync(join(dir, f)));
  if (!onnx) {
    const has = onnxFiles(dir);
    problems.push(
      precision === 'fp32' || precision === 'quantized'
        ? 'no decoder .onnx (looked for onnx/model.onnx, decoder_model_merged.onnx and their quantized variants)'
        : `no decoder for precision ${precision} (looked for onnx/model_${precision}.onnx, decoder_model_merged_${precision}.onnx)${has.length ? `; it has ${has.join(', ')}` : ''}`,
    );
  }
  if (problems.length) throw new ModelFolderError(`${dir} is not a usable model: ${problems.join('; ')}`);
  checkSize(join(dir, onnx!));
  const config = parseModelConfig(readJson(configPath), optionalJson(join(dir, 'generation_config.json')), configPath);
  const merging = mergingCandidates(precision).find((f) => existsSync(join(dir, f)));
  return { dir, tokenizerPath, onnxPath: join(dir, onnx!), ...(merging ? { mergingOnnxPath: join(dir, merging) } : {}), config };
}

/** Subtoken-merging exports in the order they are tried: the same precision first, as decoderCandidates. */
export function mergingCandidates(precision: Precision): string[] {
  const names =
    precision === 'quantized'
      ? ['model_merging_quantized.onnx', 'model_merging.onnx']
      : precision === 'fp32'
        ? ['model_merging.onnx', 'model_merging_quantized.onnx']
        : [`model_merging_${precision}.onnx`];
  return names.map((n) => join('onnx', n));
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ModelFolderError(`${path}: ${err instanceof Error ? err.message : err}`);
  }
}

function optionalJson(path: string): unknown {
  return existsSync(path) ? readJson(path) : undefined;
}

/**
 * Whether `file` holds external data of the decoder `decoder` (both names in one folder): Optimum's
 * `model.onnx_data`, onnx-community's `model.onnx_data_1`, …, and `model.onnx.data`.
 */
export function isDataFileOf(file: string, decoder: string): boolean {
  return file !== decoder && file.startsWith(decoder) && /^(_data|\.data)(_\d+)?$/.test(file.slice(decoder.length));
}

/** A decoder file's external data files beside it, in name order. */
export function dataFilesOf(onnxPath: string): string[] {
  return readdirSync(dirname(onnxPath))
    .filter((f) => isDataFileOf(f, basename(onnxPath)))
    .sort()
    .map((f) => join(dirname(onnxPath), f));
}

/** One ONNX protobuf holds at most 2 GB; larger exports keep their weights in external data files. */
const PROTOBUF_LIMIT = 2 ** 31;

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Refuses, before onnxruntime reads a byte, a decoder file no ONNX model can be, and weights that would
 * not fit this machine's memory (loading them would swap the editor to a halt).
 */
export function checkSize(onnxPath: string, memory = totalmem()): void {
  const size = statSync(onnxPath).size;
  const name = basename(onnxPath);
  if (size > PROTOBUF_LIMIT) {
    throw new ModelFolderError(
      `${name} is ${gb(size)}: one ONNX file cannot hold over 2 GB (protobuf's limit); exports this large keep their weights in ${name}_data beside it`,
    );
  }
  const total = dataFilesOf(onnxPath).reduce((sum, f) => sum + statSync(f).size, size);
  if (total > 0.8 * memory) {
    throw new ModelFolderError(`${name} and its weights take ${gb(total)}, more than this machine's memory allows (${gb(memory)} in all)`);
  }
}
