// Measures the exported default model in onnxruntime-node, as the product runs it:
//   held-out bits per byte of the fp32 and int8 exports (the int8 one ships only if the loss is small),
//   int8/fp32 top-1 agreement, prefill and decode speed, and greedy sample completions for the card.
//   node scripts/run-ts.mjs models/recipe/evaluate.ts [--train-dir DIR] [--docs N]
// Writes models/tessera-tiny/evaluation.json and prints a summary.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { CompletionService } from '../../language-server/src/completion/service';
import { argmaxOf, logProb, seededRandom } from '../../language-server/src/generation/processors';
import { openModelFolder, type Precision } from '../../language-server/src/model/folder';
import { DEFAULT_SETTINGS } from '../../language-server/src/settings';
import { grammarFor } from '../../language-server/src/syntax/languages';
import { SyntaxService } from '../../language-server/src/syntax/parser';
import { DecoderSession } from '../../language-server/src/model/session';

const root = join(__dirname, '..', '..');
const modelDir = join(root, 'models', 'tessera-tiny');
const corpusDir = process.env.TESSERA_CORPUS_DIR ?? join(homedir(), '.cache', 'tessera', 'corpus');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : dflt);
const SEQ = 512;

/** Written for the card: everyday code, none of it from a benchmark. `|` marks the cursor. */
const SAMPLES: Array<{ path: string; text: string }> = [
  { path: 'src/util/strings.ts', text: 'export function capitalize(s: string): string {\n  |\n}\n' },
  {
    path: 'src/server/routes.js',
    text: "const express = require('express');\nconst router = express.Router();\n\nrouter.get('/users/:id', async (req, res) => {\n  const user = await db.users.find(req.params.id);\n  if (!user) {\n    |\n  }\n  res.json(user);\n});\n",
  },
  {
    path: 'tools/files.py',
    text: 'import os\n\n\ndef list_python_files(root):\n    result = []\n    for dirpath, dirnames, filenames in os.walk(root):\n        |\n    return result\n',
  },
  { path: 'app/models.py', text: 'class Point:\n    def __init__(self, x, y):\n        self.x = x\n        |\n' },
  {
    path: 'src/list.ts',
    text: 'export class Stack<T> {\n  private items: T[] = [];\n\n  push(item: T): void {\n    |\n  }\n\n  pop(): T | undefined {\n    return this.items.pop();\n  }\n}\n',
  },
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

/**
 * Bits per byte of whole held-out files (content tokens only). Windows of 512 tokens every `stride`:
 * stride 512 is train.py's measure; a smaller stride scores each token with at least 512 - stride
 * tokens of context (the sliding-window evaluation), as a model sees code while completing it.
 */
async function bitsPerByte(session: DecoderSession, valid: Docs, maxDocs: number, stride = SEQ, other?: DecoderSession) {
  const vocab = session.config.vocabSize;
  let nats = 0;
  let bytes = 0;
  let agree = 0;
  let compared = 0;
  const n = Math.min(maxDocs, valid.docs.length / 4);
  for (let d = 0; d < n; d++) {
    const [start, cstart, end, cbytes] = valid.docs.subarray(d * 4, d * 4 + 4) as unknown as number[];
    for (let s = start!; ; s += stride) {
      const x = Array.from(valid.tokens.subarray(s, Math.min(s + SEQ, end! - 1)));
      const from = s === start ? 0 : SEQ - stride; // earlier windows scored the rest
      const { logits } = await session.run(x);
      const o = other ? (await other.run(x)).logits : undefined;
      for (let i = from; i < x.length; i++) {
        if (s + 1 + i < cstart!) continue;
        nats -= logProb(logits.subarray(i * vocab, (i + 1) * vocab), valid.tokens[s + 1 + i]!);
        if (o) {
          compared++;
          if (argmaxOf(o.subarray(i * vocab, i * vocab + vocab)) === argmaxOf(logits.subarray(i * vocab, i * vocab + vocab))) agree++;
        }
      }
      if (s + SEQ >= end! - 1) break;
    }
    bytes += cbytes!;
  }
  return { bitsPerByte: nats / Math.LN2 / bytes, stride, docs: n, bytes, top1Agreement: compared ? agree / compared : undefined };
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
      const next = argmaxOf(logits.subarray((positions - 1) * vocab, (positions - 1) * vocab + vocab));
      ({ logits, positions, cache } = await session.run([next], cache));
    }
    decode.push((performance.now() - t1) / 32);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  return { prefill512Ms: median(times), decodeMsPerTokenAfter512: median(decode) };
}

/**
 * What the confidence gate should be: cut the rest of a line out of held-out files at a random
 * point, complete there with the full pipeline, and see how often the completion is the line's
 * actual rest (or a correct start of it) at each confidence.
 */
async function gateCalibration(service: CompletionService, count: number) {
  const files = readFileSync(join(corpusDir, 'valid.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { path: string; text: string });
  const random = seededRandom(7);
  const samples: Array<{ confidence: number; exact: boolean; prefix: boolean; empty: boolean }> = [];
  for (let n = 0; samples.length < count && n < count * 20; n++) {
    const f = files[Math.floor(random() * files.length)]!;
    const lines = f.text.split('\n');
    if (lines.length < 8) continue;
    const li = 3 + Math.floor(random() * (lines.length - 4));
    const line = lines[li]!;
    const indent = line.length - line.trimStart().length;
    if (line.trim().length < 4) continue;
    const col = indent + Math.floor(random() * (line.length - indent - 1));
    const lineStart = lines.slice(0, li).reduce((a, l) => a + l.length + 1, 0);
    const cursor = lineStart + col;
    const truth = line.slice(col).trimEnd();
    const text = f.text.slice(0, cursor) + f.text.slice(lineStart + line.length);
    const r = await service.complete({ uri: `file:///${f.path}`, path: f.path, text, offset: cursor });
    if (!r) continue;
    const got = r.raw.split('\n')[0]!.trimEnd();
    samples.push({ confidence: r.confidence, exact: got === truth, prefix: got.length > 0 && truth.startsWith(got), empty: !got.trim() });
  }
  const thresholds = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
  return {
    samples: samples.length,
    byThreshold: thresholds.map((t) => {
      const shown = samples.filter((x) => x.confidence >= t && !x.empty);
      return {
        minConfidence: t,
        shown: shown.length / samples.length,
        exactAmongShown: shown.length ? shown.filter((x) => x.exact).length / shown.length : 0,
        correctStartAmongShown: shown.length ? shown.filter((x) => x.prefix).length / shown.length : 0,
      };
    }),
  };
}

async function open(precision: Precision, threads: number) {
  const folder = openModelFolder(modelDir, precision);
  return DecoderSession.open(folder.onnxPath, folder.config, { threads });
}

async function main(): Promise<void> {
  const docs = Number(opt('docs', '202'));
  const valid = loadValid();
  const fp32 = await open('fp32', 2);
  const int8 = await open('quantized', 2);
  const quality = {
    fp32: await bitsPerByte(fp32, valid, docs),
    fp32Sliding: await bitsPerByte(fp32, valid, docs, 256),
    int8Sliding: await bitsPerByte(int8, valid, docs, 256, fp32),
  };
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
  // The full pipeline (what the editor shows), greedy, every confidence.
  const settings = {
    model: { ...DEFAULT_SETTINGS.model, path: modelDir },
    completion: { ...DEFAULT_SETTINGS.completion, minConfidence: 0 },
  };
  const service = new CompletionService(settings, undefined, join(root, 'dist', 'worker.js'));
  await service.configure(settings);
  const syntax = SyntaxService.create(join(root, 'dist', 'wasm'));
  const gate = await gateCalibration(service, Number(opt('gate-samples', '300')));
  console.log(JSON.stringify(gate));
  const samples = [];
  for (const s of SAMPLES) {
    const offset = s.text.indexOf('|');
    const text = s.text.replace('|', '');
    const grammar = grammarFor('', s.path);
    const parser = grammar ? await (await syntax).parser(grammar) : undefined;
    const r = (await service.complete({ uri: `file:///${s.path}`, path: s.path, text, offset, parser }))!;
    samples.push({ ...s, completion: r.raw, shown: r.text, confidence: r.confidence, reason: r.reason });
  }
  await service.dispose();
  const trainLog = join(opt('train-dir', join(homedir(), '.cache', 'tessera', 'train', 'tessera-tiny')), 'log.jsonl');
  const log = existsSync(trainLog)
    ? readFileSync(trainLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  const result = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    quality,
    timing,
    gate,
    samples,
    training: log.filter((r) => 'valid_bits_per_byte' in r || (r.step as number) % 500 === 0),
  };
  writeFileSync(join(modelDir, 'evaluation.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const s of samples)
    console.log(
      `--- ${s.path} (confidence ${s.confidence.toFixed(2)}${s.reason ? `, held back: ${s.reason}` : ''})\n${s.text.replace('|', `⟨${s.completion}⟩`)}`,
    );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
