// Measures the exported default model in onnxruntime-node, as the product runs it:
//   held-out bits per byte of the fp32 and int8 exports (the int8 one ships only if the loss is small),
//   int8/fp32 top-1 agreement, prefill and decode speed, and greedy sample completions for the card.
//   node scripts/run-ts.mjs models/recipe/evaluate.ts [--train-dir DIR] [--docs N]
// Writes models/tessera-tiny/evaluation.json and prints a summary.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { openModelFolder, type Precision } from '../../language-server/src/model/folder';
import { argmax, DecoderSession } from '../../language-server/src/model/session';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';

const root = join(__dirname, '..', '..');
const modelDir = join(root, 'models', 'tessera-tiny');
const corpusDir = process.env.TESSERA_CORPUS_DIR ?? join(homedir(), '.cache', 'tessera', 'corpus');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : dflt);
const SEQ = 512;

/** Written for the card: everyday code, none of it from a benchmark. `|` marks the cursor. */
const SAMPLES: Array<{ path: string; text: string }> = [
  { path: 'src/util/strings.ts', text: 'export function capitalize(s: string): string {\n  |\n}\n' },
  { path: 'src/server/routes.js', text: "const express = require('express');\nconst router = express.Router();\n\nrouter.get('/users/:id', async (req, res) => {\n  const user = await db.users.find(req.params.id);\n  if (!user) {\n    |\n  }\n  res.json(user);\n});\n" },
  { path: 'tools/files.py', text: 'import os\n\n\ndef list_python_files(root):\n    result = []\n    for dirpath, dirnames, filenames in os.walk(root):\n        |\n    return result\n' },
  { path: 'app/models.py', text: 'class Point:\n    def __init__(self, x, y):\n        self.x = x\n        |\n' },
  { path: 'src/list.ts', text: 'export class Stack<T> {\n  private items: T[] = [];\n\n  push(item: T): void {\n    |\n  }\n\n  pop(): T | undefined {\n    return this.items.pop();\n  }\n}\n' },
];

interface Docs {
  tokens: Uint16Array;
  docs: Int32Array;
}

function loadValid(): Docs {
  const tokens = readFileSync(join(corpusDir, 'valid.tokens.u16'));
  const docs = readFileSync(join(corpusDir, 'valid.docs.i32'));
  return {
    tokens: new Uint16Array(tokens.buffer, tokens.byteOffset, tokens.byteLength / 2),
    docs: new Int32Array(docs.buffer, docs.byteOffset, docs.byteLength / 4),
  };
}

function logSoftmaxAt(logits: Float32Array, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]!);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i]! - max);
  return logits[offset + target]! - max - Math.log(sum);
}

/** Same measure as train.py: whole held-out files in 512-token windows, content tokens only. */
async function bitsPerByte(session: DecoderSession, valid: Docs, maxDocs: number, other?: DecoderSession) {
  const vocab = session.config.vocabSize;
  let nats = 0;
  let bytes = 0;
  let agree = 0;
  let compared = 0;
  const n = Math.min(maxDocs, valid.docs.length / 4);
  for (let d = 0; d < n; d++) {
    const [start, cstart, end, cbytes] = valid.docs.subarray(d * 4, d * 4 + 4) as unknown as number[];
    for (let s = start!; s < end! - 1; s += SEQ) {
      const x = Array.from(valid.tokens.subarray(s, Math.min(s + SEQ, end! - 1)));
      const { logits } = await session.run(x);
      const o = other ? (await other.run(x)).logits : undefined;
      for (let i = 0; i < x.length; i++) {
        if (s + 1 + i < cstart!) continue;
        nats -= logSoftmaxAt(logits, i * vocab, vocab, valid.tokens[s + 1 + i]!);
        if (o) {
          compared++;
          if (argmax(o, i * vocab, vocab) === argmax(logits, i * vocab, vocab)) agree++;
        }
      }
    }
    bytes += cbytes!;
  }
  return { bitsPerByte: nats / Math.LN2 / bytes, docs: n, bytes, top1Agreement: compared ? agree / compared : undefined };
}

async function speed(session: DecoderSession) {
  const prompt = Array.from({ length: SEQ }, (_, i) => 10 + ((i * 7919) % 8000));
  const times: number[] = [];
  const decode: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    let { logits, positions, cache } = await session.run(prompt);
    times.push(performance.now() - t0);
    const vocab = session.config.vocabSize;
    const t1 = performance.now();
    for (let i = 0; i < 32; i++) {
      const next = argmax(logits, (positions - 1) * vocab, vocab);
      ({ logits, positions, cache } = await session.run([next], cache));
    }
    decode.push((performance.now() - t1) / 32);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  return { prefill512Ms: median(times), decodeMsPerTokenAfter512: median(decode) };
}

async function complete(session: DecoderSession, tokenizer: Tokenizer, path: string, text: string, maxTokens = 48) {
  const cursor = text.indexOf('|');
  const prefix = text.slice(0, cursor);
  const suffix = text.slice(cursor + 1);
  const id = (t: string) => tokenizer.id(t)!;
  // SPM, as trained: the suffix first, then the prefix, so the text before the cursor is last.
  const prompt = [id('<file_sep>'), ...tokenizer.encodeIds(`${path}\n`), id('<fim_prefix>'), id('<fim_suffix>'),
    ...tokenizer.encodeIds(suffix), id('<fim_middle>'), ...tokenizer.encodeIds(prefix)];
  const vocab = session.config.vocabSize;
  let { logits, positions, cache } = await session.run(prompt);
  const out: number[] = [];
  for (let i = 0; i < maxTokens; i++) {
    const next = argmax(logits, (positions - 1) * vocab, vocab);
    if (next === id('<|endoftext|>') || tokenizer.isControl(next)) break;
    out.push(next);
    ({ logits, positions, cache } = await session.run([next], cache));
  }
  return tokenizer.decode(out);
}

async function open(precision: Precision, threads: number) {
  const folder = openModelFolder(modelDir, precision);
  return DecoderSession.open(folder.onnxPath, folder.config, { threads });
}

async function main(): Promise<void> {
  const docs = Number(opt('docs', '202'));
  const valid = loadValid();
  const tokenizer = Tokenizer.fromFile(join(modelDir, 'tokenizer.json'));
  const fp32 = await open('fp32', 1);
  const int8 = await open('quantized', 1);
  const quality = { fp32: await bitsPerByte(fp32, valid, docs), int8: await bitsPerByte(int8, valid, docs, fp32) };
  console.log(JSON.stringify(quality));
  const timing: Record<string, unknown> = {};
  for (const threads of [1, 2]) {
    for (const precision of ['fp32', 'quantized'] as const) {
      const s = await open(precision, threads);
      timing[`${precision}, ${threads} thread${threads > 1 ? 's' : ''}`] = await speed(s);
      await s.release();
    }
  }
  console.log(JSON.stringify(timing));
  const samples = [];
  for (const s of SAMPLES) {
    samples.push({ ...s, fp32: await complete(fp32, tokenizer, s.path, s.text), int8: await complete(int8, tokenizer, s.path, s.text) });
  }
  const trainLog = join(opt('train-dir', join(homedir(), '.cache', 'tessera', 'train', 'tessera-tiny')), 'log.jsonl');
  const log = existsSync(trainLog) ? readFileSync(trainLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  const result = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    quality, timing, samples,
    training: log.filter((r) => 'valid_bits_per_byte' in r || (r.step as number) % 500 === 0),
  };
  writeFileSync(join(modelDir, 'evaluation.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const s of samples) console.log(`--- ${s.path}\n${s.text.replace('|', `⟨${s.fp32}⟩`)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
