// onnxruntime's load failures in words a user can act on. Its own message stays at the end for reports.
import { basename, dirname } from 'node:path';

export class ModelLoadError extends Error {}

/** The error to show for `err`, thrown while onnxruntime loaded `onnxPath`. */
export function explainLoadError(onnxPath: string, err: unknown): ModelLoadError {
  const raw = err instanceof Error ? err.message : String(err);
  const file = `${basename(dirname(onnxPath))}/${basename(onnxPath)}`;
  const op = /No Op registered for (\S+) with domain_version of \d+/.exec(raw) ?? /Could not find an implementation for (\S+)/.exec(raw);
  if (op) {
    return new ModelLoadError(
      `${file} uses the operator ${op[1]}, which this onnxruntime does not have; custom operator libraries are never loaded (${raw})`,
    );
  }
  if (/Protobuf parsing failed|ModelProto|Failed to load model because protobuf parsing failed/i.test(raw)) {
    return new ModelLoadError(`${file} is not a readable ONNX model: the file is truncated or damaged (${raw})`);
  }
  if (/external data|\.onnx_data|model_path must not be empty|GetExtDataFromTensorProto/i.test(raw)) {
    return new ModelLoadError(`${file}: its external weights could not be read; keep the .onnx_data file beside it (${raw})`);
  }
  return new ModelLoadError(`${file} could not be loaded: ${raw}`);
}
