import { basename, join, resolve } from 'node:path';
import { CompletionService } from '../completion/service';
import { documentOf } from '../completion/window';
import { DEFAULT_TOKENIZER } from '../defaultModel';
import { DEFAULT_SETTINGS, PRECISIONS, type Precision } from '../settings';
import { grammarFor } from '../syntax/languages';
import { SyntaxService } from '../syntax/parser';
import { TokenizerRegistry } from '../tokenizer/registry';
import { modelDir } from './modelArg';
import { type Command, parseArgs, UsageError } from './command';
import { readSourceFile } from './sourceFile';
import { ENGINE_OPTIONS, ENGINE_USAGE, engineFromArgs } from './engineArgs';

/** LINE:COL, both 1-based, COL in UTF-16 code units as editors count them. */
export function offsetOf(text: string, at: string): number {
  const m = /^(\d+):(\d+)$/.exec(at);
  if (!m) throw new UsageError(`--at wants LINE:COL (1-based), not ${JSON.stringify(at)}`);
  const line = Number(m[1]);
  const col = Number(m[2]);
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) throw new UsageError(`line ${line} is past the end of the file (${l} lines)`);
    start = nl + 1;
  }
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  if (text[end - 1] === '\r') end--;
  if (col < 1 || start + col - 1 > end) throw new UsageError(`column ${col} is outside line ${line} (${end - start} characters)`);
  return start + col - 1;
}

export const completeCommand: Command = {
  name: 'complete',
  summary: 'Complete a file at a position with the local model or a server, as the editor would',
  usage:
    'tessera complete FILE --at LINE:COL [--model DIR] [--precision fp32|quantized|int8|q4|…] [--max-tokens N]\n' +
    '                 [--healing off|heal|exact] [--show head|whole] [--filters on|off] [--json]\n' +
    '  LINE and COL are 1-based. Without --model, the embedded default model; the other options as the\n' +
    "  settings of the same names (default: the settings' defaults).\n" +
    ENGINE_USAGE +
    '  JSON: {completion, tokens, confidence, prefillTokens, latencyMs, shown, reason?, model}.',
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, {
      flags: ['json'],
      options: ['at', 'model', 'precision', 'max-tokens', 'healing', 'show', 'filters', ...ENGINE_OPTIONS],
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `one FILE, not ${positionals.length}` : 'which FILE?');
    const at = options.get('at');
    if (!at) throw new UsageError('where? --at LINE:COL');
    const file = positionals[0]!;
    const text = readSourceFile(file, io);
    const offset = offsetOf(text, at);
    const precision = options.get('precision') ?? DEFAULT_SETTINGS.model.precision;
    if (!PRECISIONS.includes(precision as Precision)) throw new UsageError(`--precision is one of ${PRECISIONS.join(', ')}`);
    const maxTokens = Number(options.get('max-tokens') ?? DEFAULT_SETTINGS.completion.maxTokens);
    const choice = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
      const v = options.get(name);
      if (v !== undefined && !allowed.includes(v as T)) throw new UsageError(`--${name} is ${allowed.join(' or ')}`);
      return v as T | undefined;
    };
    const healing = choice('healing', ['off', 'heal', 'exact'] as const);
    const show = choice('show', ['head', 'whole'] as const);
    const filters = choice('filters', ['on', 'off'] as const);
    const settings = {
      engine: engineFromArgs(options),
      model: {
        ...DEFAULT_SETTINGS.model,
        path: modelDir(options.get('model')),
        precision: precision as Precision,
      },
      completion: {
        ...DEFAULT_SETTINGS.completion,
        maxTokens,
        ...(healing ? { healing } : {}),
        ...(show ? { show } : {}),
        ...(filters ? { filters: filters === 'on' } : {}),
      },
    };
    const service = new CompletionService(settings, new TokenizerRegistry(DEFAULT_TOKENIZER), undefined, join(__dirname, 'worker.js'));
    try {
      await service.configure(settings);
      if (service.status.state !== 'ready') throw new Error(service.status.error ?? 'the model did not load');
      const grammar = grammarFor('', file);
      const syntax = grammar ? await SyntaxService.create(join(__dirname, 'wasm')).catch(() => undefined) : undefined;
      const parser = syntax && grammar ? await syntax.parser(grammar).catch(() => undefined) : undefined;
      const uri = `file://${resolve(file)}`;
      const r = await service.complete({ uri, path: basename(file), document: documentOf(text), offset, syntax: parser && { parser } });
      if (!r) throw new Error(service.status.error ?? 'the completion was cancelled');
      if (flags.has('json')) {
        io.out(
          `${JSON.stringify({
            completion: r.text,
            tokens: r.tokens,
            confidence: round(r.confidence, 4),
            prefillTokens: r.prefillTokens,
            latencyMs: round(r.latencyMs, 1),
            shown: r.shown,
            ...(r.reason ? { reason: r.reason } : {}),
            raw: r.raw,
            ...(r.filteredBy ? { filteredBy: r.filteredBy } : {}),
            model: service.status.name,
          })}\n`,
        );
      } else if (r.shown) {
        io.out(`${r.text}\n`);
        io.err(
          `${r.tokens} tokens, confidence ${r.confidence.toFixed(2)}, ${r.prefillTokens} prompt tokens, ${r.latencyMs.toFixed(0)} ms (${service.status.name})\n`,
        );
      } else {
        io.err(`no completion: ${r.reason} (the model wrote ${JSON.stringify(r.raw)})\n`);
        return 1;
      }
      return 0;
    } finally {
      await service.dispose();
    }
  },
};

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
