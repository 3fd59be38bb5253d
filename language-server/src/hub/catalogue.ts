// The models Tessera offers to download: FIM-capable ONNX exports on the Hugging Face Hub, shipped with
// the extension so the list works offline. Names, files and sizes were checked against the repos' file
// listings (December 2026; DeepSeek-Coder base's quantized size by its instruct twin's); they are shown as
// approximate, and the exact bytes and hashes come from the Hub at download time. Licences are the
// original models' (most ONNX repos declare none of their own).
import type { CatalogueEntry } from '../lsp_ext';
import type { Precision } from '../settings';

/** A catalogue entry as the protocol describes it (lsp_ext.ts), its precisions typed. */
export type CatalogueModel = Omit<CatalogueEntry, 'precisions' | 'recommended' | 'memoryBytes' | 'installed'> & {
  /** Precisions the repo publishes, with their decoder's approximate download size in bytes. */
  precisions: Partial<Record<Precision, number>>;
  /** The precision offered first: the fastest on a CPU among those of acceptable quality. */
  recommended: Precision;
};

const GB = 1e9;
const MB = 1e6;

export const CATALOGUE: CatalogueModel[] = [
  {
    repo: 'onnx-community/Qwen2.5-Coder-1.5B',
    label: 'Qwen2.5-Coder 1.5B (base)',
    params: '1.5B',
    licence: 'Apache-2.0',
    kind: 'base',
    fim: 'qwen2.5-coder',
    note: 'Trained for FIM: the best completions here, 70% of HumanEval single-line infilling at 0.5B and more at 1.5B',
    precisions: { int8: 1.58 * GB, q4: 1.79 * GB, q4f16: 1.22 * GB, fp16: 3.1 * GB, fp32: 6.21 * GB },
    recommended: 'int8',
  },
  {
    repo: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
    label: 'Qwen2.5-Coder 0.5B Instruct',
    params: '0.5B',
    licence: 'Apache-2.0',
    kind: 'instruct',
    fim: 'qwen2.5-coder',
    note: 'Small and fast; instruct-tuned, so FIM is weaker than a base model',
    precisions: { int8: 639 * MB, q4: 862 * MB, q4f16: 555 * MB, fp16: 1.26 * GB, fp32: 2.53 * GB },
    recommended: 'int8',
  },
  {
    repo: 'onnx-community/Qwen2.5-Coder-1.5B-Instruct',
    label: 'Qwen2.5-Coder 1.5B Instruct',
    params: '1.5B',
    licence: 'Apache-2.0',
    kind: 'instruct',
    fim: 'qwen2.5-coder',
    note: 'Instruct-tuned: FIM weaker than the 1.5B base',
    precisions: { int8: 1.8 * GB, q4: 1.92 * GB, q4f16: 1.34 * GB, fp16: 3.56 * GB, fp32: 7.13 * GB },
    recommended: 'int8',
  },
  {
    repo: 'onnx-community/Qwen2.5-Coder-3B-Instruct',
    label: 'Qwen2.5-Coder 3B Instruct',
    params: '3B',
    licence: 'Qwen Research',
    kind: 'instruct',
    fim: 'qwen2.5-coder',
    note: 'The largest listed; instruct-tuned (FIM weaker), slow on a laptop CPU',
    precisions: { q4: 3.19 * GB, int8: 3.41 * GB, fp16: 6.8 * GB },
    recommended: 'q4',
  },
  {
    repo: 'onnx-community/deepseek-coder-1.3b-instruct-ONNX',
    label: 'DeepSeek-Coder 1.3B Instruct',
    params: '1.3B',
    licence: 'DeepSeek',
    kind: 'instruct',
    fim: 'deepseek-coder',
    note: 'Instruct-tuned: FIM weaker than a base model',
    precisions: { int8: 1.35 * GB, q4: 1.07 * GB, q4f16: 853 * MB, fp16: 2.69 * GB, fp32: 5.39 * GB },
    recommended: 'int8',
  },
  {
    repo: 'Xenova/deepseek-coder-1.3b-base',
    label: 'DeepSeek-Coder 1.3B (base)',
    params: '1.3B',
    licence: 'DeepSeek',
    kind: 'base',
    fim: 'deepseek-coder',
    note: 'Trained for FIM; an older export (decoder_model_merged)',
    precisions: { quantized: 1.36 * GB, fp32: 5.39 * GB },
    recommended: 'quantized',
  },
  {
    repo: 'Xenova/starcoderbase-1b',
    label: 'StarCoderBase 1B',
    params: '1B',
    licence: 'BigCode OpenRAIL-M',
    kind: 'base',
    fim: 'starcoder',
    note: 'Trained for FIM on 80+ languages; an older export (decoder_model_merged)',
    precisions: { quantized: 1.27 * GB, fp32: 4.69 * GB },
    recommended: 'quantized',
  },
  {
    repo: 'Xenova/tiny_starcoder_py',
    label: 'TinyStarCoder (Python)',
    params: '164M',
    licence: 'BigCode OpenRAIL-M',
    kind: 'base',
    fim: 'starcoder',
    note: 'Python only; small enough for any machine',
    precisions: { int8: 383 * MB, q4: 319 * MB, fp16: 396 * MB, fp32: 724 * MB },
    recommended: 'int8',
  },
];

/** Memory a model needs to run: its weights once loaded (fp16 runs as fp32 on x86), plus the runtime and cache. */
export function memoryNeeded(bytes: number, precision: Precision): number {
  const loaded = precision === 'fp16' ? 2 * bytes : bytes;
  return loaded * 1.15 + 300 * MB;
}

/** "1.6 GB", "639 MB": sizes as the quick pick shows them, approximate by nature. */
export function formatBytes(bytes: number): string {
  return bytes >= GB
    ? `${(bytes / GB).toFixed(1)} GB`
    : bytes >= MB
      ? `${Math.round(bytes / MB)} MB`
      : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}
