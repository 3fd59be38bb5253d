import { join } from 'node:path';
import { escapeToken } from '../lens/tokenText';
import { DEFAULT_TOKENIZER } from '../defaultModel';
import { TokenizerRegistry } from '../tokenizer/registry';
import { type Command, parseArgs, UsageError } from './command';
import { modelDir } from './modelArg';
import { readSourceFile } from './sourceFile';

export const tokensCommand: Command = {
  name: 'tokens',
  summary: 'Tokenize a file: every token with its id and UTF-16 span',
  usage:
    'tessera tokens FILE|- [--tokenizer PATH|NAME | --model DIR|REPO] [--tokenizer-dir DIR[:DIR...]] [--json]\n' +
    '  --model: a model folder or a downloaded repo id (org/name), whose tokenizer.json is used;\n' +
    '  NAME is a folder in --tokenizer-dir (or $TESSERA_TOKENIZER_DIRS) holding tokenizer.json;\n' +
    "  without --tokenizer, the default model's tokenizer (tessera-tiny).\n" +
    '  JSON: {tokenizer, count, tokens: [{id, text, start, end}]}, start/end UTF-16 offsets.',
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, { flags: ['json'], options: ['tokenizer', 'tokenizer-dir', 'model'] });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `one FILE, not ${positionals.length}` : 'which FILE?');
    if (options.has('model') && options.has('tokenizer')) throw new UsageError('--model or --tokenizer, not both');
    // '': the default model's tokenizer
    const spec = options.has('model') ? join(modelDir(options.get('model')), 'tokenizer.json') : (options.get('tokenizer') ?? '');
    const dirs = (options.get('tokenizer-dir') ?? process.env.TESSERA_TOKENIZER_DIRS ?? '').split(':').filter(Boolean);
    const registry = new TokenizerRegistry(DEFAULT_TOKENIZER);
    const tokenizer = registry.load(registry.resolve(spec, dirs));
    const file = positionals[0]!;
    const text = readSourceFile(file, io);
    const enc = tokenizer.encode(text);
    if (flags.has('json')) {
      const tokens = Array.from(enc.ids, (id, i) => ({
        id,
        text: text.slice(enc.starts[i]!, enc.ends[i]!),
        start: enc.starts[i]!,
        end: enc.ends[i]!,
      }));
      io.out(`${JSON.stringify({ tokenizer: tokenizer.name, count: enc.ids.length, tokens })}\n`);
      return 0;
    }
    const perToken = enc.ids.length ? (text.length / enc.ids.length).toFixed(2) : '—';
    io.out(`${file}: ${enc.ids.length} ${tokenizer.name} tokens, ${text.length} characters, ${perToken} characters per token\n`);
    let chunk = '';
    for (let i = 0; i < enc.ids.length; i++) {
      chunk += `${String(enc.ids[i]).padStart(7)}  ${String(enc.starts[i]).padStart(8)}-${String(enc.ends[i]).padEnd(8)} ${escapeToken(tokenizer, enc.ids[i]!)}\n`;
      if (chunk.length > 65536) {
        io.out(chunk);
        chunk = '';
      }
    }
    io.out(chunk);
    return 0;
  },
};
