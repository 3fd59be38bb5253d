import type { Health, OnnxRuntimeInfo } from './lsp_ext';

/** The server's health from what it knows now. Pure, so every state is testable. */
export function assessHealth(onnxruntime: OnnxRuntimeInfo): Health {
  if (!onnxruntime.available) {
    return {
      state: 'warning',
      message: `ONNX Runtime unavailable: completions are off (${onnxruntime.error ?? 'unknown reason'})`,
      detail:
        'The server runs, but the model runtime (onnxruntime-node) could not be loaded on this machine. ' +
        'Reinstall the extension for this platform.',
    };
  }
  return { state: 'ok', message: `Ready (ONNX Runtime ${onnxruntime.version ?? '?'})` };
}
