// Trains the default model's byte-level BPE tokenizer on the corpus and writes it as a Hugging Face
// tokenizer.json, pre-tokenized by the project's own engine so training and use split text alike.
//   npm run tokenizer:train -- [--vocab N] [--out DIR]     (needs `npm run corpus` first)
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BYTE_TO_CHAR } from '../../language-server/src/tokenizer/byteLevel';
import { buildPreTokenizer } from '../../language-server/src/tokenizer/preTokenizer';
import type { PreTokenizerSpec } from '../../language-server/src/tokenizer/spec';

/**
 * Code-aware pieces: a line break with the next line's indentation is one piece (indentation is
 * most of code's whitespace); identifiers keep `_` and digits; runs of punctuation stay together.
 */
export const PIECE_PATTERN =
  '(?:\\r?\\n)+[ \\t]*|[ \\t]+(?=\\r?\\n)|[ \\t]?[\\p{L}_$][\\p{L}\\p{N}_$]*|\\p{N}{1,3}|[ \\t]?[^\\s\\p{L}\\p{N}_$]+|[ \\t]+(?![^\\s])|[ \\t]+|\\s';

export const SPECIAL_TOKENS = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<file_sep>'];

const preTokenizerSpec: PreTokenizerSpec = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: PIECE_PATTERN }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, use_regex: false, trim_offsets: false },
  ],
};

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const vocabSize = Number(arg('vocab', '8192'));
const corpusDir = process.env.TESSERA_CORPUS_DIR ?? join(homedir(), '.cache', 'tessera', 'corpus');
const outDir = arg('out', join(__dirname, '..', '..', 'models', 'tessera-tiny'));
/** Pieces longer than this (long strings, data) teach little and cost most: not trained on. */
const MAX_PIECE_BYTES = 64;

async function countPieces(file: string): Promise<Map<string, number>> {
  const pre = buildPreTokenizer(preTokenizerSpec);
  const counts = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const bounds: number[] = [];
  for await (const line of lines) {
    if (!line) continue;
    const { text } = JSON.parse(line) as { text: string };
    bounds.length = 0;
    pre.split(text, bounds);
    for (let i = 0; i < bounds.length; i += 2) {
      const piece = text.slice(bounds[i]!, bounds[i + 1]!);
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
  }
  return counts;
}

function train(counts: Map<string, number>): { vocab: string[]; merges: Array<[string, string]> } {
  const vocab = [...SPECIAL_TOKENS, ...BYTE_TO_CHAR];
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const encoder = new TextEncoder();
  const words: Int32Array[] = [];
  const freq: number[] = [];
  for (const [piece, n] of counts) {
    const bytes = encoder.encode(piece);
    if (bytes.length > MAX_PIECE_BYTES || bytes.length < 2) continue;
    words.push(Int32Array.from(bytes, (b) => SPECIAL_TOKENS.length + b));
    freq.push(n);
  }
  const P = 1 << 16;
  const key = (a: number, b: number) => a * P + b;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const add = (w: number, a: number, b: number, n: number) => {
    const k = key(a, b);
    pairCount.set(k, (pairCount.get(k) ?? 0) + n);
    if (n > 0) {
      let set = pairWords.get(k);
      if (!set) {
        set = new Set();
        pairWords.set(k, set);
      }
      set.add(w);
    }
  };
  words.forEach((w, i) => {
    for (let j = 0; j + 1 < w.length; j++) add(i, w[j]!, w[j + 1]!, freq[i]!);
  });
  // Max-heap of [count, pair]; stale entries are skipped when popped.
  const heap: Array<[number, number]> = [];
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (better(heap[p]!, heap[i]!)) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && better(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && better(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[m], heap[i]] = [heap[i]!, heap[m]!];
      i = m;
    }
  };
  // Higher count first; on ties the smaller pair key, so training is deterministic.
  const better = (a: [number, number], b: [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
  const push = (e: [number, number]) => {
    heap.push(e);
    up(heap.length - 1);
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      down(0);
    }
    return top;
  };
  for (const [k, n] of pairCount) push([n, k]);

  const merges: Array<[string, string]> = [];
  while (vocab.length < vocabSize && heap.length > 0) {
    const [n, k] = pop();
    const current = pairCount.get(k) ?? 0;
    if (current !== n) {
      if (current > 0) push([current, k]);
      continue;
    }
    if (n < 2) break;
    const a = Math.floor(k / P);
    const b = k % P;
    // Two different pairs can spell the same token ("ab"+"c", "a"+"bc"): one vocabulary entry.
    const spelled = vocab[a]! + vocab[b]!;
    let id = ids.get(spelled);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(spelled);
      ids.set(spelled, id);
    }
    merges.push([vocab[a]!, vocab[b]!]);
    const touched = new Set<number>();
    for (const w of pairWords.get(k) ?? []) {
      const word = words[w]!;
      const f = freq[w]!;
      // Remove this word's pairs, merge, add them back: simple and exact.
      for (let j = 0; j + 1 < word.length; j++) add(w, word[j]!, word[j + 1]!, -f);
      const merged: number[] = [];
      for (let j = 0; j < word.length; j++) {
        if (j + 1 < word.length && word[j] === a && word[j + 1] === b) {
          merged.push(id);
          j++;
        } else merged.push(word[j]!);
      }
      const next = Int32Array.from(merged);
      words[w] = next;
      for (let j = 0; j + 1 < next.length; j++) {
        add(w, next[j]!, next[j + 1]!, f);
        touched.add(key(next[j]!, next[j + 1]!));
      }
    }
    pairWords.delete(k);
    pairCount.delete(k);
    for (const t of touched) push([pairCount.get(t)!, t]);
    if (merges.length % 1000 === 0) console.log(`  ${merges.length} merges (last: ${JSON.stringify(vocab[id])} ×${n})`);
  }
  return { vocab, merges };
}

async function main(): Promise<void> {
  const started = Date.now();
  const counts = await countPieces(join(corpusDir, 'train.jsonl'));
  console.log(`pieces: ${counts.size} distinct, counted in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const { vocab, merges } = train(counts);
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: preTokenizerSpec,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    join(outDir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        model_max_length: 2048,
        bos_token: null,
        eos_token: '<|endoftext|>',
        unk_token: null,
        tokenizer_class: 'PreTrainedTokenizerFast',
        clean_up_tokenization_spaces: false,
      },
      null,
      2,
    ),
  );
  console.log(`tokenizer: ${vocab.length} tokens, ${merges.length} merges, in ${((Date.now() - started) / 1000).toFixed(0)} s → ${outDir}`);
}

void main();
