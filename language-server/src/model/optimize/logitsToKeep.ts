// Logits only where they are used. A prefill of 512 positions needs the last one's logits, yet an
// export computes the head for all 512: at Qwen2.5-Coder-0.5B's shape the head is 136M multiply-adds
// per position, over a quarter of the prefill. This pass adds HF transformers' `logits_to_keep` input
// (int64 [1]: the number of last positions that get logits; 0 keeps all) and slices the hidden states
// before the head, so the head, and whatever follows it (a log-softmax), runs on those rows only.
import { addGraphInput, dropUnused, graphInputNames, graphOutputNames, int64Constant, intAttribute, plainNode } from './graphEdit';
import { LOGITS_TO_KEEP } from '../decoderInputs';
import { INT64, type OnnxModel, type OnnxNode } from './onnxModel';

/** Ops between the head and the logits output that act on each position alone, input first. */
const PER_POSITION = new Set(['LogSoftmax', 'Softmax', 'Cast', 'Identity', 'Add', 'Mul', 'Div', 'Tanh']);
const HEADS = new Set(['MatMul', 'MatMulNBits', 'Gemm']);

/**
 * Where the head sits. Exports write it three ways: a MatMul on [batch, positions, hidden]
 * (onnx-community's); or a Reshape to rows [batch × positions, hidden], a MatMul or Gemm, and a Reshape
 * back to [batch, positions, vocab] whose shape is taken from input_ids (torch's exporter, ours). Either
 * way `hidden` is the 3-D tensor the head reads, and the Reshapes' shapes must follow the slice.
 */
interface HeadSite {
  head: OnnxNode;
  hidden: string;
  /** The Reshape to rows, when the head reads rows. */
  toRows?: OnnxNode;
  /** The Reshape that makes the logits output, when there is one. */
  toLogits?: OnnxNode;
}

function headSite(model: OnnxModel): HeadSite | undefined {
  const outputs = graphOutputNames(model);
  let name = outputs.find((o) => o === 'logits') ?? outputs[0];
  const producer = new Map<string, OnnxNode>();
  for (const n of model.nodes) for (const o of n.outputs) producer.set(o, n);
  let toLogits: OnnxNode | undefined;
  for (let steps = 0; name && steps < 8; steps++) {
    const node = producer.get(name);
    if (!node) return undefined;
    if (HEADS.has(node.opType)) {
      const before = producer.get(node.inputs[0]!);
      const toRows = before?.opType === 'Reshape' ? before : undefined;
      // A head reading 2-D rows without a Reshape before it: its rows cannot be told apart by position.
      if (node.opType === 'Gemm' && !toRows) return undefined;
      return {
        head: node,
        hidden: toRows ? toRows.inputs[0]! : node.inputs[0]!,
        ...(toRows ? { toRows } : {}),
        ...(toLogits ? { toLogits } : {}),
      };
    }
    if (node.opType === 'Reshape' && !toLogits && steps === 0) toLogits = node;
    else if (!PER_POSITION.has(node.opType)) return undefined;
    name = node.inputs[0];
  }
  return undefined;
}

/**
 * Adds `logits_to_keep` before the head. Returns false (and changes nothing) where the graph has it
 * already, or its head is not found or not one that takes positions.
 */
export function keepLastLogits(model: OnnxModel, vocabSize: number): boolean {
  if (graphInputNames(model).includes(LOGITS_TO_KEEP)) return false;
  const site = headSite(model);
  if (!site) return false;
  const p = `${LOGITS_TO_KEEP}/`;
  const constant = (name: string, values: bigint[]) => int64Constant(model, p + name, values);
  const kept = `${p}hidden`;
  // Slice from -k to the end: k last positions, and -0 = 0 is all of them, as in transformers.
  const slicing = [
    plainNode('Neg', [LOGITS_TO_KEEP], `${p}start`),
    plainNode('Slice', [site.hidden, `${p}start`, constant('end', [0x7fffffffffffffffn]), constant('axis', [1n])], kept),
    plainNode('Shape', [kept], `${p}shape`),
  ];
  const dims = (name: string, from: bigint, to: bigint) =>
    plainNode(
      'Slice',
      [`${p}shape`, constant(`${name}/from`, [from]), constant(`${name}/to`, [to]), constant(`${name}/axes`, [0n])],
      p + name,
    );
  const first = site.toRows ?? site.head;
  if (site.toRows) {
    // Rows [-1, hidden]: the old shape was computed from input_ids' length.
    slicing.push(
      dims('hiddenSize', 2n, 3n),
      plainNode('Concat', [constant('minusOne', [-1n]), `${p}hiddenSize`], `${p}rowsShape`, [intAttribute('axis', 0)]),
    );
    site.toRows.inputs = [kept, `${p}rowsShape`];
  } else site.head.inputs[0] = kept;
  model.nodes.splice(model.nodes.indexOf(first), 0, ...slicing);
  if (site.toLogits) {
    // [batch, kept, vocab]: the kept positions, not input_ids' length.
    const shaping = [
      dims('batchKept', 0n, 2n),
      plainNode('Concat', [`${p}batchKept`, constant('vocab', [BigInt(vocabSize)])], `${p}logitsShape`, [intAttribute('axis', 0)]),
    ];
    model.nodes.splice(model.nodes.indexOf(site.toLogits), 0, ...shaping);
    site.toLogits.inputs[1] = `${p}logitsShape`;
  }
  dropUnused(model); // the Reshapes' old shapes, computed from input_ids
  addGraphInput(model, LOGITS_TO_KEEP, INT64, [1]);
  return true;
}
