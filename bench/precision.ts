// fp32 against int8 and the `tessera optimize` copies (int8 and q4, from the fp32 file) for the default
// model, from one run: held-out bits per byte (whole windows), whether
// greedy decoding gives the same tokens however the sequence is cut into runs (step by step through
// the cache against the whole window each step), and decode speed through the product's decoder.
//   npm run bench -- precision [--files N] [--prompts N] [--int8 PATH]   (PATH: another int8 export)
// (npm test's older-cpu stage checks the same run-cut property under an emulated Haswell.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmaxOf, logSoftmaxOf, seededRandom } from '../language-server/src/generation/processors';
import { describeMachine, machine } from '../language-server/src/measure/machine';
import { openModelFolder } from '../language-server/src/model/folder';
import { openDecoder } from '../language-server/src/model/openDecoder';
import { type OptimizeBlock, optimizeFolder } from '../language-server/src/model/optimize/optimizeFolder';
import { DecoderSession } from '../language-server/src/model/session';
import { Tokenizer } from '../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../scripts/lib/repoRoot';
import { heldOutSources, scoringWindows } from './heldOut';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const FILES = Number(arg('files', '8'));
const PROMPTS = Number(arg('prompts', '24'));
const GREEDY = 16;
const WINDOW = 512;

const dir = join(repoRoot, 'models', 'tessera-tiny');
const folder = openModelFolder(dir);
const tok = Tokenizer.fromFile(folder.tokenizerPath);
const vocab = folder.config.vocabSize;

/** Held-out bits per byte over the windows of scoringWindows (each token scored once). */
async function bitsPerByte(session: DecoderSession, texts: string[]): Promise<number> {
  let bits = 0;
  let bytes = 0;
  for (const text of texts) {
    const ids = tok.encodeIds(text);
    for (const { w, scoredFrom } of scoringWindows(ids, WINDOW)) {
      const { logits } = await session.run(w);
      for (let i = scoredFrom; i < w.length; i++) {
        bits -= logSoftmaxOf(logits.subarray((i - 1) * vocab, i * vocab), false)(w[i]!) / Math.LN2;
        bytes += tok.tokenBytes(w[i]!).length;
      }
    }
  }
  return bits / bytes;
}

/** Greedy tokens through the cache, one run per token, and the same recomputed from the whole window each step. */
async function runCut(session: DecoderSession, prompt: number[]): Promise<boolean> {
  let r = await session.run(prompt);
  const cached: number[] = [];
  for (let i = 0; i < GREEDY; i++) {
    cached.push(argmaxOf(r.logits.subarray(r.logits.length - vocab)));
    r = await session.run([cached[i]!], r.cache);
  }
  const seq = [...prompt];
  for (let i = 0; i < GREEDY; i++) {
    const { logits } = await session.run(seq);
    const next = argmaxOf(logits.subarray(logits.length - vocab));
    if (next !== cached[i]) return false;
    seq.push(next);
  }
  return true;
}

/**
 * Median ms per greedy step after a 256-token prompt, through the decoder completions use; the exports
 * take turns, round by round, so that a busy moment of the machine falls on each alike.
 */
async function decodeMs(onnxPaths: string[], prompt: number[]): Promise<number[]> {
  const decoders = [];
  for (const path of onnxPaths) decoders.push((await openDecoder(path, folder.config, { threads: 1 })).decoder);
  const times: number[][] = onnxPaths.map(() => []);
  for (let round = 0; round < 8; round++) {
    for (const [k, decoder] of decoders.entries()) {
      let row = await decoder.run(prompt, 0, 1);
      for (let i = 0; i < 32; i++) {
        const t0 = performance.now();
        row = await decoder.run([argmaxOf(row)], prompt.length + i, 1);
        times[k]!.push(performance.now() - t0);
      }
    }
  }
  for (const d of decoders) await d.release();
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]!);
}

async function main(): Promise<void> {
  const sources = heldOutSources(FILES, 5);
  const random = seededRandom(17);
  const prompts = Array.from({ length: PROMPTS }, () => {
    const ids = tok.encodeIds(sources[Math.floor(random() * sources.length)]!.text);
    const at = Math.floor(random() * Math.max(1, ids.length - 200));
    return ids.slice(at, at + 64 + Math.floor(random() * 128));
  });
  const scratch = mkdtempSync(join(tmpdir(), 'tessera-precision-'));
  const optimized = (target: 'int8' | 'q4', block: OptimizeBlock = 32) =>
    optimizeFolder({ source: dir, from: 'fp32', target, block, out: join(scratch, `${target}-${block}`) }).onnxPath;
  const variants = [
    { name: 'fp32', path: folder.onnxPath },
    { name: 'int8', path: arg('int8', openModelFolder(dir, 'quantized').onnxPath) },
    { name: 'opt int8', path: optimized('int8') },
    { name: 'opt q4', path: optimized('q4') },
    { name: 'opt q4 128', path: optimized('q4', 128) },
  ];
  const rows: Array<{ name: string; bpb: number; same: number; ms: number }> = [];
  for (const v of variants) {
    const session = await DecoderSession.open(v.path, folder.config, { threads: 1 });
    const bpb = await bitsPerByte(
      session,
      sources.map((s) => s.text),
    );
    let same = 0;
    for (const p of prompts) if (await runCut(session, p)) same++;
    await session.release();
    rows.push({ name: v.name, bpb, same, ms: 0 });
  }
  const ms = await decodeMs(
    variants.map((v) => v.path),
    prompts[0]!.concat(prompts[1]!, prompts[2]!).slice(0, 256),
  );
  rows.forEach((r, k) => {
    r.ms = ms[k]!;
  });
  console.log(`bench/precision — ${describeMachine(machine())}`);
  console.log(`${FILES} held-out files per source; ${PROMPTS} prompts × ${GREEDY} greedy tokens\n`);
  console.log('(opt: `tessera optimize --from fp32`, MatMulNBits block 32 (128: --block 128), int8 dot products, head at 8 bits)\n');
  console.log('export     bits/byte   same greedy tokens however cut   decode ms/token (median)');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(10)} ${r.bpb.toFixed(4).padStart(9)}   ${`${r.same}/${PROMPTS}`.padStart(30)}   ${r.ms.toFixed(3).padStart(24)}`,
    );
  }
  const fp32 = rows[0]!;
  console.log('');
  for (const r of rows.slice(1))
    console.log(`${r.name} / fp32: bits per byte ×${(r.bpb / fp32.bpb).toFixed(4)}, decode time ×${(r.ms / fp32.ms).toFixed(2)}`);
  rmSync(scratch, { recursive: true, force: true });
}

void main();
