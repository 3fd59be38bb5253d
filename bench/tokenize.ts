// Tokenizer throughput and per-keystroke latency: Tessera against the libraries users would
// otherwise reach for, all on the same text in the same run.
//   npm run bench -- tokenize [--scale S]   (S scales the ~5 MB corpus; default 0.2 ≈ 1 MB)
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from 'tokenizers';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { encode as gptCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as gptO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { TextBuffer } from '../language-server/src/documents/textBuffer';
import { median, percentile as pct } from '../language-server/src/quantiles';
import { TokenizedText } from '../language-server/src/tokenizer/incremental';
import { Tokenizer } from '../language-server/src/tokenizer/tokenizer';
import { loadCorpus } from '../scripts/lib/corpus';
import { TOKENIZER_NAMES, tokenizerPath } from '../scripts/lib/testTokenizers';

const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 0.2;
const texts = loadCorpus(scale).map((f) => f.text);
const mb = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / 1e6;

/** MB/s, median over `runs` timed runs after one warm-up run. */
async function throughput(runs: number, encodeAll: () => unknown): Promise<number> {
  await encodeAll();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await encodeAll();
    times.push(performance.now() - t0);
  }
  return mb / (median(times) / 1000);
}

const f1 = (x: number): string => x.toFixed(1).padStart(7);
const ratio = (ours: number, theirs: number | undefined): string => (theirs ? `${(ours / theirs).toFixed(1)}x`.padStart(7) : '      –');

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(`bench/tokenize — ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}`);
  console.log(`corpus: ${texts.length} files, ${mb.toFixed(2)} MB of real code (TypeScript, JavaScript, Python, C); medians\n`);
  console.log('Encode throughput, MB/s (ids only; "+offsets" also computes UTF-16 spans)');
  console.log('tokenizer        Tessera +offsets  HF-Rust transformers.js gpt-tokenizer   vs Rust  vs t.js  vs gpt');
  const sample = texts.join('\n').slice(0, 1_000_000);
  const keystrokeRows: string[] = [];
  for (const name of TOKENIZER_NAMES) {
    const path = tokenizerPath(name);
    const ours = Tokenizer.fromFile(path);
    const oursIds = await throughput(5, () => {
      for (const t of texts) ours.encodeIds(t);
    });
    const oursSpans = await throughput(5, () => {
      for (const t of texts) ours.encode(t);
    });
    const hf = HfTokenizer.fromFile(path);
    const hfRate = await throughput(3, async () => {
      for (const t of texts) await hf.encode(t, null, { addSpecialTokens: false });
    });
    const dir = join(path, '..');
    const js = new JsTokenizer(
      JSON.parse(readFileSync(path, 'utf8')),
      JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    );
    // transformers.js is ~100x slower on SentencePiece (the whole file is one word): one run there.
    const jsRate = await throughput(name === 'llama2-spm' ? 1 : 3, () => {
      for (const t of texts) js.encode(t, { add_special_tokens: false });
    });
    const gpt = name === 'cl100k' ? gptCl100k : name === 'o200k' ? gptO200k : undefined;
    const gptRate = gpt
      ? await throughput(5, () => {
          for (const t of texts) gpt(t, { disallowedSpecial: new Set() });
        })
      : undefined;
    console.log(
      `${name.padEnd(15)} ${f1(oursIds)} ${f1(oursSpans)} ${f1(hfRate)} ${f1(jsRate).padStart(15)} ${gptRate ? f1(gptRate).padStart(13) : '            –'}  ${ratio(oursIds, hfRate)} ${ratio(oursIds, jsRate)} ${ratio(oursIds, gptRate)}`,
    );

    // Per keystroke on a 1 MB file: incremental update vs encoding the file again.
    const doc = new TokenizedText(ours, sample);
    const typed = 'const value = compute(items, 42);\n    ';
    let pos = Math.floor(sample.length / 2);
    const inc: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      if (i % 10 === 9) doc.edit(pos - 1, pos, '');
      else doc.edit(pos, pos, typed[i % typed.length]!);
      inc.push(performance.now() - t0);
      pos += i % 10 === 9 ? -1 : 1;
    }
    const full: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      ours.encodeIds(doc.text);
      full.push(performance.now() - t0);
    }
    keystrokeRows.push(
      `${name.padEnd(15)} ${median(inc).toFixed(3).padStart(8)} ${pct(inc, 0.95).toFixed(3).padStart(8)} ${median(full).toFixed(1).padStart(10)} ${(median(full) / median(inc)).toFixed(0).padStart(8)}x`,
    );
  }
  console.log(`\nPer keystroke on a ${(sample.length / 1e6).toFixed(1)} MB file (1000 keystrokes typed mid-file), ms`);
  console.log('tokenizer       inc p50  inc p95  full p50  speedup');
  for (const row of keystrokeRows) console.log(row);

  // The server's copy of the document must follow each keystroke too (range → offsets, edit).
  const syncOf = (apply: (line: number, ch: number) => void): number[] => {
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      apply(5000, i % 60);
      times.push(performance.now() - t0);
    }
    return times;
  };
  let doc = TextDocument.create('file:///a.py', 'python', 1, sample);
  doc.positionAt(0); // build its line index outside the timing
  let version = 1;
  const baseline = syncOf((line, character) => {
    doc = TextDocument.update(doc, [{ range: { start: { line, character }, end: { line, character } }, text: 'x' }], ++version);
    doc.offsetAt({ line, character });
  });
  const buffer = new TextBuffer('file:///a.py', 'python', 1, sample);
  const ours = syncOf((line, character) => {
    const at = buffer.offsetAt({ line, character });
    buffer.replace(at, at, 'x');
  });
  console.log(
    `\nDocument sync per keystroke (same file), ms: TextDocument (vscode-languageserver) p50 ${median(baseline).toFixed(3)}, TextBuffer p50 ${median(ours).toFixed(3)} (${(median(baseline) / median(ours)).toFixed(0)}x)`,
  );
}

void main();
