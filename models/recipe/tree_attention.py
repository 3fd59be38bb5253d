"""Gives a GroupQueryAttention export the input tree verification needs: `attention_bias`
[batch, 1, sequence_length, total_sequence_length], added to every layer's attention scores. With it a
whole draft tree runs in one pass: each node attends to its ancestors only (-inf elsewhere) at its own
position id, while the cache layout and the weights stay as they are. Zeros leave the logits unchanged,
which is what plain runs feed. graph.py builds the input in; this rewrites an export made before it
(or one of onnxruntime-genai's GroupQueryAttention exports):

    /usr/bin/python3 models/recipe/tree_attention.py models/tessera-tiny/onnx/model.onnx [more.onnx ...]
"""
import sys

import onnx
from onnx import TensorProto, helper

from onnx_export import check

NAME = 'attention_bias'
# GroupQueryAttention's inputs: query, key, value, past_key, past_value, seqlens_k,
# total_sequence_length, cos_cache, sin_cache, position_ids, attention_bias (onnxruntime >= 1.22).
BIAS_INPUT = 10


def bias_input():
    return helper.make_tensor_value_info(NAME, TensorProto.FLOAT, ['batch_size', 1, 'sequence_length', 'total_sequence_length'])


def add_tree_attention(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    if any(i.name == NAME for i in graph.input):
        return model
    attention = [n for n in graph.node if n.op_type == 'GroupQueryAttention']
    if not attention:
        raise SystemExit('no GroupQueryAttention node: this export cannot take an attention bias here')
    for n in attention:
        inputs = list(n.input) + [''] * max(0, BIAS_INPUT - len(n.input))
        if len(inputs) > BIAS_INPUT and inputs[BIAS_INPUT]:
            raise SystemExit(f'{n.name} already takes an attention bias ({inputs[BIAS_INPUT]})')
        inputs[BIAS_INPUT:BIAS_INPUT + 1] = [NAME]
        del n.input[:]
        n.input.extend(inputs)
    graph.input.append(bias_input())
    return model


if __name__ == '__main__':
    for path in sys.argv[1:]:
        model = add_tree_attention(onnx.load(path))
        check(model)
        onnx.save(model, path)
        print(path, 'takes', NAME)
