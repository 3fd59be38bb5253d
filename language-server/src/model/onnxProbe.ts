import type { OnnxRuntimeInfo } from '../lsp_ext';

interface OrtModule {
  env: { versions: Record<string, string | undefined> };
  listSupportedBackends?: () => Array<{ name: string }>;
}

/**
 * Loads onnxruntime-node and reports whether it works here. The native binding is loaded by
 * `require`, so a missing or wrong-platform binary fails now, with the loader's own message,
 * rather than later on the first completion.
 */
export function probeOnnxRuntime(load: () => OrtModule = defaultLoad): OnnxRuntimeInfo {
  try {
    const ort = load();
    const version = ort.env.versions.node ?? ort.env.versions.common;
    const backends = ort.listSupportedBackends?.().map((b) => b.name) ?? [];
    if (!backends.includes('cpu')) {
      return { available: false, version, error: `no CPU backend (backends: ${backends.join(', ') || 'none'})` };
    }
    return { available: true, version };
  } catch (err) {
    return { available: false, error: firstLine(err) };
  }
}

function defaultLoad(): OrtModule {
  // A plain require so that esbuild leaves the native package outside the bundle.
  return require('onnxruntime-node') as OrtModule;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
