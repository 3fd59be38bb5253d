// `--engine llama.cpp|openai --engine-url URL [--engine-model NAME] [--engine-tokenizer PATH]`: the
// command line completes through a server as the editor does. The API key comes from TESSERA_API_KEY
// (never an argument: those show in process lists and shell history).
import { ENGINE_KINDS, type EngineKind } from '../engines/engine';
import { DEFAULT_SETTINGS, type EngineSettings } from '../settings';
import { UsageError } from './command';

export const ENGINE_OPTIONS = ['engine', 'engine-url', 'engine-model', 'engine-tokenizer'];

export const ENGINE_USAGE =
  '  --engine llama.cpp|openai --engine-url URL [--engine-model NAME] [--engine-tokenizer PATH]: complete\n' +
  '  through a server as the editor does (API key: TESSERA_API_KEY); default: the local model.\n';

export function engineFromArgs(options: Map<string, string>, env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const kind = options.get('engine') ?? 'local';
  if (!ENGINE_KINDS.includes(kind as EngineKind)) throw new UsageError(`--engine is one of ${ENGINE_KINDS.join(', ')}`);
  const url = options.get('engine-url') ?? '';
  if (kind !== 'local' && !url) throw new UsageError(`--engine ${kind} needs --engine-url URL`);
  if (kind === 'local' && (url || options.has('engine-model')))
    throw new UsageError('--engine-url and --engine-model need --engine llama.cpp or openai');
  const apiKey = env.TESSERA_API_KEY?.trim();
  return {
    ...DEFAULT_SETTINGS.engine,
    kind: kind as EngineKind,
    url,
    model: options.get('engine-model') ?? '',
    tokenizer: options.get('engine-tokenizer') ?? '',
    ...(apiKey ? { apiKey } : {}),
  };
}
