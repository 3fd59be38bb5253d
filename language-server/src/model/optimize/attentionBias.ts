// The input Token Recycling's draft trees need (models/recipe/tree_attention.py did it in Python):
// `attention_bias` [batch, 1, new, total], added to every GroupQueryAttention's scores. With it a whole
// draft tree verifies in one pass, each node attending to its ancestors only; zeros, which plain runs
// feed, leave the logits as they were. A tree's nodes also sit at their own positions (past + depth), so
// an attention that applies the rotary itself (do_rotary) must read position_ids, not count positions.
import { ATTENTION_BIAS, POSITION_IDS } from '../decoderInputs';
import { addGraphInput, graphInputNames, intAttributeOf } from './graphEdit';
import { FLOAT, INT64, type OnnxModel, type OnnxNode } from './onnxModel';

/** GroupQueryAttention's inputs by index (onnxruntime's contrib op; the bias since onnxruntime 1.22). */
const POSITION_IDS_INPUT = 9;
const BIAS_INPUT = 10;

const doesRotary = (node: OnnxNode) => intAttributeOf(node, 'do_rotary') === 1;

export type AttentionBiasResult = 'added' | 'already there' | 'no GroupQueryAttention';

/**
 * Gives every GroupQueryAttention the attention_bias input (and, where it rotates by itself, the graph's
 * position_ids, added as an input when the graph has none).
 */
export function addAttentionBias(model: OnnxModel): AttentionBiasResult {
  const inputs = graphInputNames(model);
  if (inputs.includes(ATTENTION_BIAS)) return 'already there';
  const attention = model.nodes.filter((n) => n.opType === 'GroupQueryAttention');
  if (attention.length === 0) return 'no GroupQueryAttention';
  let positions = false;
  for (const node of attention) {
    const wired = [...node.inputs, ...Array<string>(Math.max(0, BIAS_INPUT + 1 - node.inputs.length)).fill('')];
    if (wired[BIAS_INPUT]) throw new Error(`${node.name} already takes an attention bias (${wired[BIAS_INPUT]})`);
    wired[BIAS_INPUT] = ATTENTION_BIAS;
    if (!wired[POSITION_IDS_INPUT] && doesRotary(node)) {
      wired[POSITION_IDS_INPUT] = POSITION_IDS;
      positions = true;
    }
    node.inputs = wired;
  }
  addGraphInput(model, ATTENTION_BIAS, FLOAT, ['batch_size', 1, 'sequence_length', 'total_sequence_length']);
  if (positions && !inputs.includes(POSITION_IDS)) addGraphInput(model, POSITION_IDS, INT64, ['batch_size', 'sequence_length']);
  return 'added';
}
