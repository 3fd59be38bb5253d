// The optimizer's passes over a decoder graph, each one onnxruntime's fast path on a CPU:
//   - weight MatMuls → MatMulNBits (4 or 8 bits, block 32, symmetric, accuracy level 4: int8 dot products);
//   - the head (the MatMul to the vocabulary) at 8 bits whatever the body's bits;
//   - an existing MatMulNBits keeps its weights (requantizing 4-bit weights loses accuracy) and gets
//     accuracy level 4.
//   - 8-bit MatMulInteger (DynamicQuantizeLinear → MatMulInteger → Cast → Mul by the scales, as dynamic
//     quantization writes int8 files) → MatMulNBits from its own dequantized weights (per block, its
//     per-tensor grid is kept within half a step);
// What no pass applies to is left as it is and named in the report.
import { quantizeBlockwise } from './blockQuant';
import { dropUnused, intAttribute, intAttributeOf } from './graphEdit';
import { FLOAT, INT8, type OnnxModel, type OnnxNode, type OnnxTensor, tensor, UINT8 } from './onnxModel';
import { decode, encodeChunks, type Field, intField, lenField, one, str } from './protobuf';

export type OptimizeBits = 4 | 8;

export interface PassOptions {
  /** The body's bits: 4 (q4) or 8 (int8). */
  bits: OptimizeBits;
  block?: number;
  /** The vocabulary size (config.json): the MatMul with this many outputs is the head. */
  vocabSize: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface PassReport {
  /** MatMuls quantized, by bits. */
  quantized: { 4: number; 8: number };
  head: 'quantized to 8 bits' | 'already MatMulNBits' | 'not found';
  /** Existing MatMulNBits given accuracy level 4. */
  retuned: number;
  /** What was left as it was, with counts ("MatMulInteger ×168"). */
  left: string[];
  vocabSize: number;
}

const attrName = (a: Field[]) => str(a, 1);

function setAttr(node: OnnxNode, name: string, value: number): void {
  node.attributes = [...node.attributes.filter((a) => attrName(a) !== name), intAttribute(name, value)];
}

/** An fp32 initializer's values (fp16 graphs are widened before the passes: widen.ts). */
function floats(t: OnnxTensor): Float32Array {
  const b = t.data();
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** A float attribute (Gemm's alpha), where the node sets it. */
function floatAttr(node: OnnxNode, name: string): number | undefined {
  const a = node.attributes.find((x) => attrName(x) === name);
  const v = a && one(a, 2)?.value;
  return v instanceof Buffer ? v.readFloatLE(0) : undefined;
}

interface Weight {
  tensor: OnnxTensor;
  K: number;
  N: number;
  /** Stored [N, K] (a Gemm with transB, as tied heads are exported): transposed when quantized. */
  transposed: boolean;
}

/**
 * The 2-D float initializer a MatMul (or a plain Gemm: no bias, alpha 1, transB as tied heads have it)
 * multiplies by, when MatMulNBits can take it.
 */
function weightOf(model: OnnxModel, node: OnnxNode): Weight | undefined {
  const w = model.initializers.get(node.inputs[1] ?? '');
  if (node.domain || !w || w.dims.length !== 2 || w.dataType !== FLOAT) return undefined;
  if (node.opType === 'MatMul') return { tensor: w, K: w.dims[0]!, N: w.dims[1]!, transposed: false };
  const plainGemm = node.inputs.length === 2 && !intAttributeOf(node, 'transA') && (floatAttr(node, 'alpha') ?? 1) === 1;
  if (node.opType === 'Gemm' && plainGemm) {
    const t = intAttributeOf(node, 'transB') === 1;
    return { tensor: w, K: w.dims[t ? 1 : 0]!, N: w.dims[t ? 0 : 1]!, transposed: t };
  }
  return undefined;
}

/** The value of a scalar or one-per-column scale/zero initializer at column `n`. */
function at(t: OnnxTensor, n: number): number {
  const b = t.data();
  const i = t.dims.length === 0 || t.dims.every((d) => d === 1) ? 0 : n;
  if (t.dataType === FLOAT) return b.readFloatLE(4 * i);
  return t.dataType === INT8 ? b.readInt8(i) : b.readUInt8(i);
}

/**
 * A dynamic-quantization MatMul (MatMulInteger of DynamicQuantizeLinear(x) by an 8-bit initializer, then
 * Cast and Mul by the scales' product) as the float weight it stands for and the node that ends it.
 */
function integerMatMul(model: OnnxModel, node: OnnxNode): { x: string; end: OnnxNode; weight: Weight } | undefined {
  if (node.opType !== 'MatMulInteger' || node.domain) return undefined;
  const [xq, wq, , wz] = node.inputs;
  const q = model.initializers.get(wq ?? '');
  const dql = model.nodes.find((n) => n.opType === 'DynamicQuantizeLinear' && n.outputs[0] === xq);
  const cast = model.nodes.find((n) => n.opType === 'Cast' && n.inputs[0] === node.outputs[0]);
  const end = cast && model.nodes.find((n) => n.opType === 'Mul' && n.inputs.includes(cast.outputs[0]!));
  const scaleMul =
    end && model.nodes.find((n) => n.opType === 'Mul' && end.inputs.includes(n.outputs[0]!) && n.inputs.includes(dql?.outputs[1] ?? '\0'));
  const ws = scaleMul && model.initializers.get(scaleMul.inputs.find((i) => i !== dql?.outputs[1]) ?? '');
  const zero = wz ? model.initializers.get(wz) : undefined;
  if (!q || !dql || !end || !ws || (wz && !zero) || q.dims.length !== 2) return undefined;
  const [K, N] = q.dims as [number, number];
  const raw = q.data();
  const w = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    const scale = at(ws, n);
    const z = zero ? at(zero, n) : 0;
    for (let k = 0; k < K; k++) {
      const v = q.dataType === INT8 ? raw.readInt8(k * N + n) : raw.readUInt8(k * N + n);
      w[k * N + n] = (v - z) * scale;
    }
  }
  return { x: dql.inputs[0]!, end, weight: { tensor: tensor(q.name, [K, N], FLOAT, Buffer.from(w.buffer)), K, N, transposed: false } };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

export function optimizeGraph(model: OnnxModel, options: PassOptions): PassReport {
  const uses = new Map<string, number>();
  for (const n of model.nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const report: PassReport = {
    quantized: { 4: 0, 8: 0 },
    head: 'not found',
    retuned: 0,
    left: [],
    vocabSize: options.vocabSize,
  };
  const left = new Map<string, number>();
  const block = options.block ?? 32;
  const fits = (w: Weight | undefined): w is Weight => !!w && w.K % block === 0;
  const targets = model.nodes.filter((n) => fits(weightOf(model, n)) || n.opType === 'MatMulInteger');
  let done = 0;
  const made = new Set<OnnxNode>(); // nodes a rewrite turned into MatMulNBits (a chain's end comes later)
  for (const node of model.nodes) {
    if (options.signal?.aborted) throw new Error('the optimization was cancelled');
    if (made.has(node)) continue;
    if (node.opType === 'MatMulNBits') {
      setAttr(node, 'accuracy_level', 4);
      report.retuned++;
      if (intAttributeOf(node, 'N') === options.vocabSize) report.head = 'already MatMulNBits';
      continue;
    }
    const integer = integerMatMul(model, node);
    if (integer && fits(integer.weight)) {
      // The chain's last Mul becomes the MatMulNBits (its output is the chain's); the rest is dropped after.
      quantizeInto(model, integer.end, integer.x, integer.weight, integer.weight.N === options.vocabSize ? 8 : options.bits, block, report);
      made.add(integer.end);
      options.onProgress?.(++done, targets.length);
      continue;
    }
    const w = weightOf(model, node);
    if (!fits(w)) {
      // Weights MatMulNBits cannot take (K not a multiple of the block, 8-bit per-tensor MatMulInteger).
      if (w || node.opType === 'MatMulInteger') left.set(node.opType, (left.get(node.opType) ?? 0) + 1);
      continue;
    }
    const count = (uses.get(w.tensor.name) ?? 0) - 1;
    uses.set(w.tensor.name, count);
    if (count === 0) model.initializers.delete(w.tensor.name); // a tied embedding stays for its lookup
    quantizeInto(model, node, node.inputs[0]!, w, w.N === options.vocabSize ? 8 : options.bits, block, report);
    options.onProgress?.(++done, targets.length);
  }
  dropUnused(model);
  report.left = [...left].map(([op, n]) => `${op} ×${n}`);
  if (report.quantized[4] + report.quantized[8] > 0) useContribOpset(model);
  return report;
}

/** Turns `node` into a MatMulNBits of `x` by `w` quantized to `bits`, block `block`, accuracy level 4. */
function quantizeInto(model: OnnxModel, node: OnnxNode, x: string, w: Weight, bits: OptimizeBits, block: number, report: PassReport): void {
  const { K, N } = w;
  const values = floats(w.tensor);
  const q = quantizeBlockwise(w.transposed ? transpose(values, N, K) : values, K, N, bits, block);
  const base = w.tensor.name;
  const bName = `${base}_MatMulNBits_${bits}b${block}`;
  const sName = `${base}_MatMulNBits_scales${bits}b${block}`;
  model.initializers.set(
    bName,
    tensor(bName, [N, q.blocks, (block * bits) / 8], UINT8, Buffer.from(q.packed.buffer, q.packed.byteOffset, q.packed.byteLength)),
  );
  model.initializers.set(
    sName,
    tensor(sName, [N * q.blocks], FLOAT, Buffer.from(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength)),
  );
  Object.assign(node, {
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    inputs: [x, bName, sName],
    attributes: [
      intAttribute('K', K),
      intAttribute('N', N),
      intAttribute('bits', bits),
      intAttribute('block_size', block),
      intAttribute('accuracy_level', 4),
    ],
  });
  report.quantized[bits]++;
  if (N === report.vocabSize) report.head = 'quantized to 8 bits';
}

/** MatMulNBits lives in onnxruntime's com.microsoft domain: the model must import it. */
function useContribOpset(model: OnnxModel): void {
  const has = model.modelFields.some((f) => f.num === 8 && str(decode(f.value as Buffer), 1) === 'com.microsoft');
  if (!has) model.modelFields.push(lenField(8, Buffer.concat(encodeChunks([lenField(1, 'com.microsoft'), intField(2, 1)]))));
}
