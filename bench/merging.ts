// AST-aware subtoken merging on held-out code (bench/heldOut.ts): positions saved, bits per byte of the
// unmerged targets at the same position budget (plain model, merging export unmerged and merged), and
// prefill time of the same context as tokens and as merged positions (language-server/src/measure/merging.ts).
//   npm run bench -- merging [--files N] [--tail T] [--model DIR] [--precision fp32|quantized] [--json]
// --tail: tokens before each cut left unmerged (default: what completions leave, completion/merging.ts).
import { join } from 'node:path';
import { describeMachine } from '../language-server/src/measure/machine';
import {
  DEFAULT_MERGING,
  formatMerging,
  type MergingFile,
  measureMergingFolder,
  mergingFile,
} from '../language-server/src/measure/merging';
import { openModelFolder } from '../language-server/src/model/folder';
import { SyntaxService } from '../language-server/src/syntax/parser';
import { Tokenizer } from '../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../scripts/lib/repoRoot';
import { heldOutSources } from './heldOut';

const arg = (name: string, dflt: string) =>
  process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1]! : dflt;

async function main(): Promise<void> {
  const folder = openModelFolder(arg('model', join(repoRoot, 'models', 'tessera-tiny')), arg('precision', 'fp32') as 'fp32');
  const tok = Tokenizer.fromFile(folder.tokenizerPath);
  const syntax = await SyntaxService.create(join(repoRoot, 'dist', 'wasm'));
  const files: MergingFile[] = [];
  for (const s of heldOutSources(Number(arg('files', '8')), 11)) {
    const f = await mergingFile(syntax, tok, s.path, s.text);
    if (f) files.push(f);
  }
  const report = await measureMergingFolder(folder, files, {
    ...DEFAULT_MERGING,
    unmergedTail: Number(arg('tail', String(DEFAULT_MERGING.unmergedTail))),
  });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`bench/merging — ${describeMachine(report.machine)}`);
  console.log(`${folder.onnxPath} and ${folder.mergingOnnxPath}; ${files.length} held-out files`);
  console.log(formatMerging(report));
}

void main();
