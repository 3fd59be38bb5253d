// Local memory's worth in held-out bits per byte: the default model alone against the model mixed with
// an n-gram cache of the code before each token (generation/ngramCache.ts), for several weights β, on
// code the model never trained on (bench/heldOut.ts). Windows of the model's context, each token
// predicted from the window before it (bench/heldOut.ts: scoringWindows).
//   npm run bench -- memory [--files N]
import { join } from 'node:path';
import { mixRow, NgramIndex } from '../language-server/src/generation/ngramCache';
import { logSoftmaxOf } from '../language-server/src/generation/processors';
import { describeMachine, machine } from '../language-server/src/measure/machine';
import { openModelFolder } from '../language-server/src/model/folder';
import { openDecoder } from '../language-server/src/model/openDecoder';
import { Tokenizer } from '../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../scripts/lib/repoRoot';
import { heldOutSources, scoringWindows } from './heldOut';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const FILES = Number(arg('files', '12'));
const BETAS = [0.5, 1, 2, 4, 8, 16, 32];

async function main(): Promise<void> {
  const dir = join(repoRoot, 'models', 'tessera-tiny');
  const folder = openModelFolder(dir);
  const tok = Tokenizer.fromFile(folder.tokenizerPath);
  const { decoder } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
  const window = Math.min(decoder.capacity, folder.config.maxPositions);
  const bits = { model: 0, mixed: BETAS.map(() => 0) };
  let bytes = 0;
  let tokens = 0;
  const byLanguage = new Map<string, { model: number; mixed: number[]; bytes: number }>();
  for (const src of heldOutSources(FILES, 3)) {
    const lang = src.path.endsWith('.py') ? 'Python' : src.path.endsWith('.ts') ? 'TypeScript' : 'JavaScript';
    const acc = byLanguage.get(lang) ?? { model: 0, mixed: BETAS.map(() => 0), bytes: 0 };
    byLanguage.set(lang, acc);
    const ids = tok.encodeIds(src.text);
    for (const { w, scoredFrom } of scoringWindows(ids, window)) {
      // Rows for every position, run in pieces (the in-place decoder returns at most 64 rows a run).
      const vocab = folder.config.vocabSize;
      const rows = new Float32Array(w.length * vocab);
      for (let k = 0; k < w.length; k += 64) {
        const piece = w.slice(k, k + 64);
        rows.set(await decoder.run(piece, k, piece.length), k * vocab);
      }
      const index = new NgramIndex();
      for (let i = 1; i < w.length; i++) {
        index.add(w[i - 1]!);
        if (i < scoredFrom) continue;
        const row = rows.subarray((i - 1) * vocab, i * vocab);
        const lp = logSoftmaxOf(row, decoder.logProbs)(w[i]!);
        const b = tok.tokenBytes(w[i]!).length;
        bits.model -= lp / Math.LN2;
        acc.model -= lp / Math.LN2;
        bytes += b;
        acc.bytes += b;
        tokens++;
        const history = w.slice(Math.max(0, i - 3), i);
        const prediction = index.predict(history);
        BETAS.forEach((beta, k) => {
          // Only the target's log-probability is needed: mix a one-entry view of the row.
          const lpOne = mixedLogProb(lp, w[i]!, prediction, beta);
          bits.mixed[k]! -= lpOne / Math.LN2;
          acc.mixed[k]! -= lpOne / Math.LN2;
        });
      }
    }
  }
  await decoder.release();
  console.log(
    `bench/memory — ${describeMachine(machine())}; tessera-tiny, windows of ${window} tokens; ${tokens} tokens, ${bytes} bytes scored`,
  );
  console.log(`held-out bits per byte: model alone ${(bits.model / bytes).toFixed(3)}`);
  BETAS.forEach((beta, k) => {
    console.log(
      `  with the n-gram cache, β = ${String(beta).padEnd(4)} ${(bits.mixed[k]! / bytes).toFixed(3)}  (${((bits.mixed[k]! / bits.model - 1) * 100).toFixed(1)}%)`,
    );
  });
  for (const [lang, acc] of byLanguage) {
    const best = acc.mixed.reduce((b, x, k) => (x < acc.mixed[b]! ? k : b), 0);
    console.log(
      `  ${lang.padEnd(11)} alone ${(acc.model / acc.bytes).toFixed(3)}, best β = ${BETAS[best]}: ${(acc.mixed[best]! / acc.bytes).toFixed(3)}`,
    );
  }
}

/** The mixture's log-probability of `target` alone (mixRow on the whole row gives the same). */
function mixedLogProb(lp: number, target: number, prediction: ReturnType<NgramIndex['predict']>, beta: number): number {
  const row = Float32Array.of(lp);
  const one = prediction && { ...prediction, next: new Map(prediction.next.has(target) ? [[0, prediction.next.get(target)!]] : []) };
  mixRow(row, one, beta);
  return row[0]!;
}

void main().catch((err: unknown) => {
  console.error(`bench/memory: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
