import { join, relative, resolve } from 'node:path';
import { CompletionService } from '../completion/service';
import { DEFAULT_TOKENIZER } from '../defaultModel';
import { checkFim, type FimFile } from '../fimCheck/check';
import { SPAN_KINDS, type SpanKind } from '../fimCheck/spans';
import { formatFimTable } from '../fimCheck/table';
import { DEFAULT_SETTINGS, type HealingMode } from '../settings';
import { SyntaxService } from '../syntax/parser';
import { TokenizerRegistry } from '../tokenizer/registry';
import { modelDir } from './modelArg';
import { type Command, parseArgs, UsageError } from './command';
import { ENGINE_OPTIONS, ENGINE_USAGE, engineFromArgs } from './engineArgs';
import { readSourceFile } from './sourceFile';

const MODES: readonly HealingMode[] = ['off', 'heal', 'exact'];

function list<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T[] {
  if (value === undefined) return [...allowed];
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (bad.length || !items.length)
    throw new UsageError(`--${name} takes ${allowed.join(', ')} (comma-separated), not ${JSON.stringify(value)}`);
  return items as T[];
}

function integer(value: string | undefined, dflt: number, name: string): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} wants a whole number, not ${JSON.stringify(value)}`);
  return n;
}

export const fimCheckCommand: Command = {
  name: 'fim-check',
  summary: 'Cut spans out of files, fill them with the model in each healing mode, and score the fills',
  usage:
    'tessera fim-check FILE... [--spans line,multiline,random] [--n N] [--modes off,heal,exact] [--seed S] [--model DIR] [--json]\n' +
    '  N spans of each kind per file (default 10), filled with every mode; deterministic for a seed (default 1).\n' +
    '  Scores: exact match, edit similarity, whether the filled file still parses, non-canonical tokens.\n' +
    '  JSON: {model, samples:[{file, kind, start, end, expected, generated:{MODE: text}, fills}], summary:{MODE:{n, exactMatch,\n' +
    '  editSimilarity, parseRate, nonCanonical, latencyMs}}, byKind} (rates in 0..1). Progress goes to stderr.\n' +
    ENGINE_USAGE,
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, {
      flags: ['json'],
      options: ['spans', 'n', 'modes', 'seed', 'model', ...ENGINE_OPTIONS],
    });
    if (!positionals.length) throw new UsageError('which FILE(s)?');
    const kinds = list<SpanKind>(options.get('spans'), SPAN_KINDS, 'spans');
    const modes = list<HealingMode>(options.get('modes'), MODES, 'modes');
    const n = integer(options.get('n'), 10, 'n');
    const seed = integer(options.get('seed'), 1, 'seed');
    const files: FimFile[] = positionals.map((file) => ({
      path: relative(process.cwd(), resolve(file)) || file,
      text: readSourceFile(file, io),
    }));
    const settings = {
      engine: engineFromArgs(options),
      model: { ...DEFAULT_SETTINGS.model, path: modelDir(options.get('model')) },
      completion: DEFAULT_SETTINGS.completion,
    };
    const service = new CompletionService(settings, new TokenizerRegistry(DEFAULT_TOKENIZER), undefined, join(__dirname, 'worker.js'));
    try {
      await service.configure(settings);
      if (service.status.state !== 'ready') throw new Error(service.status.error ?? 'the model did not load');
      const syntax = await SyntaxService.create(join(__dirname, 'wasm')).catch(() => undefined);
      let last = 0;
      const report = await checkFim(service, syntax, files, { kinds, modes, n, seed }, ({ done, total }) => {
        if (done === total || Date.now() - last > 1000) {
          last = Date.now();
          io.err(`fim-check: ${done}/${total} fills\n`);
        }
      });
      if (flags.has('json')) io.out(`${JSON.stringify(report)}\n`);
      else
        io.out(
          `${report.samples.length} spans from ${files.length} file(s), model ${report.model}, seed ${seed}\n${formatFimTable(report)}\n`,
        );
      return 0;
    } finally {
      await service.dispose();
    }
  },
};
