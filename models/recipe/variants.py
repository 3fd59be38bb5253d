"""The precision variants onnx-community publishes beside model.onnx, written from an fp32 export the way
their tools write them, so that the loader is tested on each (weights quantized here, by our own code):

    onnx/model_int8.onnx    DynamicQuantizeLinear + MatMulInteger, int8 weights (per tensor, symmetric)
    onnx/model_uint8.onnx   the same with uint8 weights (per tensor, asymmetric)
    onnx/model_q4.onnx      MatMulNBits (com.microsoft): 4-bit weights in blocks of 16 along K, one
                            scale per block, the default zero point 8
    onnx/model_fp16.onnx    every float tensor half precision: weights, inputs, outputs (the cache and
                            the logits), casts and constants (clamped to ±65504, so masks stay finite)
    onnx/model_q4f16.onnx   the fp16 model with q4's MatMulNBits (half-precision activations and scales)

    /usr/bin/python3 models/recipe/variants.py SRC/onnx/model.onnx OUT/onnx [NAME ...]
    e.g. test/fixtures/models/tiny-gqa-qwen2/onnx/model.onnx → test/fixtures/models/tiny-gqa-qwen2-variants/onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnx_export import check


def matmul_weights(model):
    """(node, weight initializer) for each MatMul whose second input is a 2-D float initializer."""
    inits = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        w = inits.get(node.input[1]) if node.op_type == 'MatMul' and len(node.input) == 2 else None
        if w is not None and w.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16) and len(w.dims) == 2:
            yield node, w


def rewrite(model, replace):
    """Each eligible MatMul replaced by the nodes and initializers `replace(node, weights)` returns."""
    graph = model.graph
    targets = {node.output[0]: w for node, w in matmul_weights(model)}
    nodes, inits, dropped = [], [], set()
    for node in graph.node:
        w = targets.get(node.output[0]) if node.op_type == 'MatMul' else None
        if w is None:
            nodes.append(node)
            continue
        new_nodes, new_inits = replace(node, numpy_helper.to_array(w))
        nodes += new_nodes
        inits += new_inits
        dropped.add(w.name)
    still_used = {name for n in nodes for name in n.input}
    kept = [i for i in graph.initializer if i.name not in dropped or i.name in still_used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + inits)
    return model


def dynamic_int(weight_type):
    def replace(node, w):
        base = node.name or node.output[0]
        if weight_type == np.int8:
            scale = max(np.abs(w).max(), 1e-8) / 127.0
            zero = 0
            q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        else:
            lo, hi = min(w.min(), 0.0), max(w.max(), 0.0)
            scale = max(hi - lo, 1e-8) / 255.0
            zero = int(np.clip(np.round(-lo / scale), 0, 255))
            q = np.clip(np.round(w / scale) + zero, 0, 255).astype(np.uint8)
        inits = [
            numpy_helper.from_array(q, f'{base}_wq'),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f'{base}_ws'),
            numpy_helper.from_array(np.array(zero, dtype=weight_type), f'{base}_wz'),
        ]
        nodes = [
            helper.make_node('DynamicQuantizeLinear', [node.input[0]], [f'{base}_xq', f'{base}_xs', f'{base}_xz']),
            helper.make_node('MatMulInteger', [f'{base}_xq', f'{base}_wq', f'{base}_xz', f'{base}_wz'], [f'{base}_i32']),
            helper.make_node('Cast', [f'{base}_i32'], [f'{base}_f32'], to=TensorProto.FLOAT),
            helper.make_node('Mul', [f'{base}_xs', f'{base}_ws'], [f'{base}_s']),
            helper.make_node('Mul', [f'{base}_f32', f'{base}_s'], [node.output[0]]),
        ]
        return nodes, inits
    return replace


def q4(block=16):
    def replace(node, w):
        base = node.name or node.output[0]
        k, n = w.shape
        assert k % block == 0, f'K={k} is not a multiple of {block}'
        blocks = k // block
        cols = w.T.astype(np.float32).reshape(n, blocks, block)   # [N, blocks, block]
        scale = np.maximum(np.abs(cols).max(axis=2), 1e-8) / 7.0  # symmetric around the zero point 8
        q = np.clip(np.round(cols / scale[:, :, None]) + 8, 0, 15).astype(np.uint8)
        packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)  # low nibble first
        inits = [
            numpy_helper.from_array(packed, f'{base}_q4'),
            numpy_helper.from_array(scale.reshape(-1).astype(w.dtype), f'{base}_scales'),  # the activations' type
        ]
        nodes = [helper.make_node('MatMulNBits', [node.input[0], f'{base}_q4', f'{base}_scales'], [node.output[0]],
                                  domain='com.microsoft', K=k, N=n, bits=4, block_size=block)]
        return nodes, inits
    return replace


HALF_MAX = 65504.0


def half(array):
    return np.clip(array, -HALF_MAX, HALF_MAX).astype(np.float16)


def to_fp16(model):
    """Every float tensor of the graph in half precision, as onnx-community's fp16 exports have it."""
    graph = model.graph
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(half(numpy_helper.to_array(init)), init.name))
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    for node in graph.node:
        for attr in node.attribute:
            if node.op_type == 'Cast' and attr.name == 'to' and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
            elif attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == TensorProto.FLOAT:
                attr.t.CopyFrom(numpy_helper.from_array(half(numpy_helper.to_array(attr.t)), attr.t.name))
    return model


def with_contrib(model):
    model.opset_import.extend([helper.make_opsetid('com.microsoft', 1)])
    return model


VARIANTS = {
    'model_int8.onnx': lambda m: rewrite(m, dynamic_int(np.int8)),
    'model_uint8.onnx': lambda m: rewrite(m, dynamic_int(np.uint8)),
    'model_q4.onnx': lambda m: with_contrib(rewrite(m, q4())),
    'model_fp16.onnx': to_fp16,
    'model_q4f16.onnx': lambda m: with_contrib(rewrite(to_fp16(m), q4())),
}

if __name__ == '__main__':
    src, out = sys.argv[1], sys.argv[2]
    for name in sys.argv[3:] or list(VARIANTS):
        model = VARIANTS[name](onnx.load(src))
        check(model)
        onnx.save(model, os.path.join(out, name))
        print(name, os.path.getsize(os.path.join(out, name)))
