// Turns the corpus into token files the trainer reads with numpy (Python tokenizing 50 MB would take
// minutes; the project's engine takes seconds, and training then sees exactly the ids inference uses).
//   npm run model:pretokenize        (needs `npm run corpus` and the tokenizer first)
// For each of train/valid it writes, beside the corpus:
//   <split>.tokens.u16  every document as <file_sep> path "\n" content, concatenated (uint16)
//   <split>.docs.i32    per document: start, content start, end (token indices), content UTF-8 bytes
import { createReadStream, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';

const corpusDir = process.env.TESSERA_CORPUS_DIR ?? join(homedir(), '.cache', 'tessera', 'corpus');
const tokenizerPath = join(__dirname, '..', '..', 'models', 'tessera-tiny', 'tokenizer.json');

async function pretokenize(split: string, tokenizer: Tokenizer): Promise<void> {
  const fileSep = tokenizer.id('<file_sep>');
  if (fileSep === undefined) throw new Error(`${tokenizerPath} has no <file_sep> token`);
  let tokens = new Uint16Array(1 << 22);
  let n = 0;
  const docs: number[] = [];
  const push = (ids: ArrayLike<number>) => {
    if (n + ids.length > tokens.length) {
      const grown = new Uint16Array(Math.max(tokens.length * 2, n + ids.length));
      grown.set(tokens.subarray(0, n));
      tokens = grown;
    }
    tokens.set(ids, n);
    n += ids.length;
  };
  const lines = createInterface({ input: createReadStream(join(corpusDir, `${split}.jsonl`)), crlfDelay: Infinity });
  let bytes = 0;
  for await (const line of lines) {
    if (!line) continue;
    const { path, text } = JSON.parse(line) as { path: string; text: string };
    const start = n;
    push([fileSep]);
    push(tokenizer.encodeIds(`${path}\n`));
    const contentStart = n;
    push(tokenizer.encodeIds(text));
    const textBytes = Buffer.byteLength(text);
    docs.push(start, contentStart, n, textBytes);
    bytes += textBytes;
  }
  writeFileSync(join(corpusDir, `${split}.tokens.u16`), tokens.subarray(0, n));
  writeFileSync(join(corpusDir, `${split}.docs.i32`), Int32Array.from(docs));
  const count = docs.length / 4;
  console.log(
    `${split}: ${count} files, ${(bytes / 1e6).toFixed(1)} MB → ${(n / 1e6).toFixed(2)}M tokens (${(bytes / n).toFixed(2)} bytes/token with headers)`,
  );
}

async function main(): Promise<void> {
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  if (tokenizer.vocabSize > 65536) throw new Error('vocabulary does not fit uint16');
  for (const split of ['train', 'valid']) await pretokenize(split, tokenizer);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
