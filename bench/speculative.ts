// Greedy decoding with and without drafts, on block completions cut from held-out code (bench/heldOut.ts):
// plain greedy, prompt-lookup chains, Token Recycling trees of several sizes (the chain one branch of
// them) and 'auto' (the worker's policy), in one run, with the cost of one pass by the number of tokens
// it runs (language-server/src/measure/speculative.ts). With --shaped, also the pass costs of a model of
// Qwen2.5-Coder-0.5B's shape (random weights, made by models/recipe/shaped.py in a temporary folder,
// never committed), and what each mode's measured tokens per pass would give at that size.
//   npm run bench -- speculative [--files N] [--model DIR] [--precision fp32|quantized] [--shaped] [--json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeMachine } from '../language-server/src/measure/machine';
import {
  cutPrompts,
  DEFAULT_SPECULATIVE,
  formatSpeculative,
  measureSpeculative,
  type PassCost,
  passCosts,
  type SpeculativeReport,
} from '../language-server/src/measure/speculative';
import { parseModelConfig } from '../language-server/src/model/config';
import { openModelFolder } from '../language-server/src/model/folder';
import { openDecoder } from '../language-server/src/model/openDecoder';
import { Tokenizer } from '../language-server/src/tokenizer/tokenizer';
import { heldOutSources } from './heldOut';
import { SHAPED_FILES, shapedModel } from './shapedModel';

const root = join(__dirname, '..', '..');
const arg = (name: string, dflt: string) =>
  process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1]! : dflt;

/** The cost of a pass of `tokens` tokens, interpolated between measured sizes. */
function costAt(costs: PassCost[], tokens: number): number {
  const hi = costs.findIndex((c) => c.tokens >= tokens);
  if (hi <= 0) return hi === 0 ? costs[0]!.ms : costs[costs.length - 1]!.ms;
  const [a, b] = [costs[hi - 1]!, costs[hi]!];
  return a.ms + ((b.ms - a.ms) * (tokens - a.tokens)) / (b.tokens - a.tokens);
}

async function shapedCosts(report: SpeculativeReport, prompt: number[]): Promise<string> {
  const dir = shapedModel();
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), {}, dir);
  const lines = [
    `\nQwen2.5-Coder-0.5B's shape (random weights; ${config.layers} layers, GQA ${config.heads}/${config.kvHeads}, head ${config.headDim}, vocab ${config.vocabSize})`,
  ];
  for (const file of SHAPED_FILES) {
    const { decoder } = await openDecoder(join(dir, 'onnx', file), config, { threads: 1 });
    const costs = await passCosts(decoder, prompt, [1, 2, 3, 4, 6, 8, 12, 16, 24]);
    await decoder.release();
    lines.push(
      `${file}: one pass of N tokens, ms (× a step): ${costs.map((c) => `${c.tokens}: ${c.ms.toFixed(0)} (×${c.ratio.toFixed(2)})`).join(', ')}`,
    );
    // Each mode's tokens per pass (measured above on the default model) at this size's pass costs.
    const plain = report.modes[0]!;
    const rate = (m: (typeof report.modes)[number]) => m.tokensPerPass / costAt(costs, 1 + m.draftedPerPass);
    lines.push(
      `  projected ×plain at this size: ${report.modes
        .slice(1)
        .map((m) => `${m.name} ×${(rate(m) / rate(plain)).toFixed(2)}`)
        .join(', ')}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const folder = openModelFolder(arg('model', join(root, 'models', 'tessera-tiny')), arg('precision', 'fp32') as 'fp32');
  const tok = Tokenizer.fromFile(folder.tokenizerPath);
  const { decoder, copiedBecause } = await openDecoder(folder.onnxPath, folder.config, { threads: 1 });
  const sources = heldOutSources(Number(arg('files', '4')), 7);
  const prompts = cutPrompts(sources, (t) => tok.encodeIds(t), DEFAULT_SPECULATIVE);
  const report = await measureSpeculative(decoder, tok, prompts, DEFAULT_SPECULATIVE);
  await decoder.release();
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`bench/speculative — ${describeMachine(report.machine)}`);
  console.log(`${folder.onnxPath} (${copiedBecause ?? 'cache in place'}); ${sources.length} held-out files`);
  console.log(formatSpeculative(report));
  if (process.argv.includes('--shaped')) console.log(await shapedCosts(report, prompts[0]!.ids));
}

void main();
