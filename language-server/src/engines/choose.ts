// The one place an engine is chosen: tessera.engine.kind names it, and the fallback for a server that
// is down is the local model.
import { basename } from 'node:path';
import { DEFAULT_MODEL } from '../defaultModel';
import { snapshotOf } from '../hub/cacheLayout';
import type { Engine as DecoderEngine } from '../model/decoder';
import type { CompletionSettings, EngineSettings, ModelSettings } from '../settings';
import type { TokenizerRegistry } from '../tokenizer/registry';
import type { OptimizeProgress } from './optimizeStep';
import type { CompletionEngine } from './engine';
import { LlamaCppEngine } from './llamaCpp';
import { LocalEngine } from './local';
import { OpenAiEngine } from './openai';
import { hostOf } from './serverHttp';

export interface EngineSettingsAll {
  engine: EngineSettings;
  model: ModelSettings;
  completion: CompletionSettings;
}

export interface EngineDeps {
  tokenizers: TokenizerRegistry;
  workerFile: string;
  decoder: DecoderEngine;
  optimizeProgress?: (name: string) => Promise<OptimizeProgress | undefined>;
  onCrash: (message: string) => void;
}

export interface EngineChoice {
  engine: CompletionEngine;
  /** What the status names while it opens. */
  label: { name: string; dir?: string; url?: string };
  /** The local model, for while the server is down (when the settings ask for it). */
  fallback?: () => CompletionEngine;
}

export function chooseEngine(s: EngineSettingsAll, deps: EngineDeps): EngineChoice {
  const dir = s.model.path || DEFAULT_MODEL.dir;
  const local = (onCrash: (message: string) => void) =>
    new LocalEngine({ dir, model: s.model, completion: s.completion, ...deps, onCrash });
  const fallback = s.engine.fallback === 'local' ? () => local(() => undefined) : undefined;
  switch (s.engine.kind) {
    case 'llama.cpp':
      return { engine: new LlamaCppEngine(s.engine, deps.tokenizers), label: { name: hostOf(s.engine.url), url: s.engine.url }, fallback };
    case 'openai':
      return {
        engine: new OpenAiEngine(s.engine, s.completion, deps.tokenizers),
        label: { name: s.engine.model || hostOf(s.engine.url), url: s.engine.url },
        fallback,
      };
    default:
      return { engine: local(deps.onCrash), label: { name: snapshotOf(dir)?.repo ?? basename(dir), dir } };
  }
}
