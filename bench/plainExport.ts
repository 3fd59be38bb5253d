// The default model as a plain Hugging Face decoder export, for baselines that know only those inputs
// (transformers.js feeds input_ids, attention_mask, position_ids and the cache, nothing else). Our export
// also takes attention_bias (draft trees); here the graph makes it itself, all zeros: [1, 1, new, total]
// from input_ids' and attention_mask's lengths. The weights and every other node are the same.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { int64Constant, intAttribute, plainNode } from '../language-server/src/model/optimize/graphEdit';
import { type OnnxModel, readModel, writeModel } from '../language-server/src/model/optimize/onnxModel';
import { decode, str } from '../language-server/src/model/optimize/protobuf';

const BIAS = 'attention_bias';

/** Replaces the attention_bias input by zeros the graph computes (float32: ConstantOfShape's default). */
function biasInGraph(model: OnnxModel): void {
  const at = model.graphFields.findIndex((f) => f.num === 11 && str(decode(f.value as Buffer), 1) === BIAS);
  if (at < 0) return;
  model.graphFields.splice(at, 1);
  const p = `${BIAS}/`;
  const one = int64Constant(model, `${p}one`, [1]);
  const two = int64Constant(model, `${p}two`, [2]);
  const axis = int64Constant(model, `${p}axis`, [0]);
  const ones = int64Constant(model, `${p}ones`, [1, 1]);
  model.nodes.unshift(
    plainNode('Shape', ['input_ids'], `${p}ids`),
    plainNode('Slice', [`${p}ids`, one, two, axis], `${p}new`),
    plainNode('Shape', ['attention_mask'], `${p}mask`),
    plainNode('Slice', [`${p}mask`, one, two, axis], `${p}total`),
    plainNode('Concat', [ones, `${p}new`, `${p}total`], `${p}shape`, [intAttribute('axis', 0)]),
    plainNode('ConstantOfShape', [`${p}shape`], BIAS),
  );
}

/** A copy of model folder `dir` whose `file` takes no attention_bias, under a temporary folder; returns the copy. */
export function plainExport(dir: string, file: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'tessera-plain-')), basename(dir));
  mkdirSync(join(out, 'onnx'), { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.json')) cpSync(join(dir, f), join(out, f));
  const model = readModel(join(dir, 'onnx', file));
  biasInGraph(model);
  writeModel(model, join(out, 'onnx', file));
  if (!existsSync(join(out, 'onnx', file))) throw new Error(`could not write ${file}`);
  return out;
}
