import type { Health, ModelStatus, OnnxRuntimeInfo } from './lsp_ext';

/** The server's health from what it knows now. Pure, so every state is testable. */
export function assessHealth(onnxruntime: OnnxRuntimeInfo, model: ModelStatus = { state: 'off' }): Health {
  const server = model.engine !== undefined && model.engine !== 'local';
  if (!onnxruntime.available && !server) {
    return {
      state: 'warning',
      message: `ONNX Runtime unavailable: completions are off (${onnxruntime.error ?? 'unknown reason'})`,
      detail:
        'The server runs, but the model runtime (onnxruntime-node) could not be loaded on this machine. ' +
        'Reinstall the extension for this platform.',
    };
  }
  if (server) return serverHealth(model);
  switch (model.state) {
    case 'error':
      return {
        state: 'warning',
        message: `Completions off: ${model.error ?? 'the model failed to load'}`,
        detail: `Model folder: ${model.dir ?? '?'}. The Token Lens keeps working. Set tessera.model.path to a folder with tokenizer.json, config.json and an ONNX decoder, or clear it for the embedded model.`,
      };
    case 'loading':
      return { state: 'ok', message: `Loading model ${model.name ?? ''}`.trim(), ...(model.name ? { model: model.name } : {}) };
    case 'ready':
      return {
        state: 'ok',
        message: `Ready: ${model.name} (ONNX Runtime ${onnxruntime.version ?? '?'})`,
        detail: `${model.description ?? ''}; FIM: ${model.fimTemplate ?? '?'}`,
        ...(model.name ? { model: model.name } : {}),
      };
    default:
      return { state: 'ok', message: `Ready (ONNX Runtime ${onnxruntime.version ?? '?'})` };
  }
}

/** A llama.cpp or OpenAI-compatible server's health: its model, or its fault and what stands in. */
function serverHealth(model: ModelStatus): Health {
  const where = `${model.engine === 'openai' ? 'OpenAI-compatible' : model.engine} server ${model.url ?? ''}`.trim();
  switch (model.state) {
    case 'error':
      return {
        state: 'warning',
        message: model.fault ? `${where}: ${model.error}` : `Completions off: ${model.error ?? 'the server failed'}`,
        detail: `Engine: ${where}. The Token Lens keeps working. Check that the server runs and tessera.engine.url points at it${model.fault === 'auth' ? '; set its key with "Tessera: Set Engine API Key"' : ''}.`,
        ...(model.fault ? { fault: model.fault } : {}),
      };
    case 'loading':
      return { state: 'ok', message: `Connecting to ${where}`, ...(model.name ? { model: model.name } : {}) };
    case 'ready':
      return {
        state: 'ok',
        message: `Ready: ${model.name} (${model.engine === 'openai' ? 'OpenAI-compatible' : model.engine} server)`,
        detail: `${model.description ?? ''}; FIM: ${model.fimTemplate ?? '?'}; tokens: ${model.tokens ?? '?'}${model.healingNote ? `; healing: ${model.healingNote}` : ''}`,
        ...(model.name ? { model: model.name } : {}),
      };
    default:
      return { state: 'ok', message: `Ready (${where})` };
  }
}
