"""Shared by the default model's export and the test fixtures: torch.onnx.export in the Hugging Face
Optimum decoder layout, and an int8 weight rewrite (the onnxruntime Python package, whose
quantize_dynamic would do this, is not available offline here)."""
import json
import os

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

OPSET = 17


def export_decoder(module, example_inputs, input_names, output_names, dynamic_axes, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, example_inputs, path, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
    model = tie_lm_head(onnx.load(path))
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return model


def tie_lm_head(model: onnx.ModelProto) -> onnx.ModelProto:
    """torch folds the tied head's transpose into a second copy of the embedding; use the embedding
    itself through Gemm(transB=1) instead (the head's input is already 2-D)."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    by_content = {}
    for init in graph.initializer:
        if len(init.dims) == 2:
            by_content.setdefault((tuple(init.dims), init.raw_data[:64]), []).append(init)
    drop = set()
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == 'MatMul' else None
        if w is None or len(w.dims) != 2:
            continue
        wt = numpy_helper.to_array(w).T
        for cand in by_content.get((tuple(wt.shape), np.ascontiguousarray(wt).tobytes()[:64]), []):
            if cand.name != w.name and np.array_equal(numpy_helper.to_array(cand), wt):
                node.op_type = 'Gemm'
                node.input[1] = cand.name
                node.attribute.extend([helper.make_attribute('transB', 1)])
                drop.add(w.name)
                break
    kept = [i for i in graph.initializer if i.name not in drop]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model


def kv_axes(names, seq_axis, seq_name):
    return {n: {0: 'batch_size', seq_axis: seq_name} for n in names}


def weight_of(node, inits):
    """(W, whether it is stored transposed) of a node computing x @ W with W an initializer: MatMul(x, W),
    or the tied head's Gemm(x, E, transB=1), whose int8 copy of E^T then serves the head while the
    embedding lookup keeps reading E: a token's pass reads the int8 head, not the float embedding."""
    if node.op_type == 'MatMul' and len(node.input) == 2:
        return inits.get(node.input[1]), False
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == 'Gemm' and len(node.input) == 2 and attrs == {'transB': 1}:
        return inits.get(node.input[1]), True
    return None, False


def quantize_matmul_weights(model: onnx.ModelProto, min_elements=1024) -> onnx.ModelProto:
    """MatMul(x, W) with W a float initializer (and the tied head, see weight_of) becomes an integer
    product whose result depends on each row of x alone, so a sequence gives the same numbers however it
    is cut into runs:
        s = max(|x|, over the row) / 127            one scale per token (per-row), at run time
        x_u8 = round(x / s) + 128                   symmetric, shifted into uint8
        y = MatMulInteger(x_u8, W_u8, 128, 128) * s * w_scale[col]
    W is symmetric int8 per output column, stored shifted as uint8 (zero point 128). uint8 × uint8
    because onnxruntime's AVX2 kernel for uint8 × int8 (without VNNI) adds pairs of products in 16 bits,
    which can saturate; its uint8 × uint8 kernel widens first and is exact on every x86-64 CPU."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    shared = [
        numpy_helper.from_array(np.array(128, dtype=np.uint8), 'q_zero_point'),
        numpy_helper.from_array(np.array(127.0, dtype=np.float32), 'q_levels'),
        numpy_helper.from_array(np.array(128.0, dtype=np.float32), 'q_shift'),
        numpy_helper.from_array(np.array(1e-30, dtype=np.float32), 'q_tiny'),
    ]
    new_nodes, drop, used = [], set(), False
    for node in graph.node:
        w, transposed = weight_of(node, inits)
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2 or np.prod(w.dims) < min_elements:
            new_nodes.append(node)
            continue
        used = True
        weights = numpy_helper.to_array(w)
        if transposed:
            weights = weights.T
        scale = np.maximum(np.abs(weights).max(axis=0), 1e-8) / 127.0
        q = (np.clip(np.round(weights / scale), -127, 127) + 128).astype(np.uint8)
        base = node.name or node.output[0]
        qname, sname = f'{w.name}_quantized', f'{w.name}_scale'
        if len(consumers.get(w.name, [])) == 1:
            drop.add(w.name)
        if qname not in inits:
            graph.initializer.extend([numpy_helper.from_array(q, qname), numpy_helper.from_array(scale.astype(np.float32), sname)])
            inits[qname] = True
        x, y = node.input[0], node.output[0]
        n = lambda suffix: f'{base}_{suffix}'
        new_nodes += [
            helper.make_node('Abs', [x], [n('abs')], name=n('abs')),
            helper.make_node('ReduceMax', [n('abs')], [n('absmax')], axes=[-1], keepdims=1, name=n('absmax')),
            helper.make_node('Max', [n('absmax'), 'q_tiny'], [n('absmax_pos')], name=n('absmax_pos')),
            helper.make_node('Div', [n('absmax_pos'), 'q_levels'], [n('xs')], name=n('xs')),
            helper.make_node('Div', [x, n('xs')], [n('xdiv')], name=n('xdiv')),
            helper.make_node('Round', [n('xdiv')], [n('xround')], name=n('xround')),
            helper.make_node('Add', [n('xround'), 'q_shift'], [n('xshift')], name=n('xshift')),
            helper.make_node('Cast', [n('xshift')], [n('xq')], to=TensorProto.UINT8, name=n('xq')),
            helper.make_node('MatMulInteger', [n('xq'), qname, 'q_zero_point', 'q_zero_point'], [n('i32')], name=n('matmul_int')),
            helper.make_node('Cast', [n('i32')], [n('f32')], to=TensorProto.FLOAT, name=n('cast')),
            helper.make_node('Mul', [n('f32'), n('xs')], [n('rows')], name=n('row_scale')),
            helper.make_node('Mul', [n('rows'), sname], [y], name=n('rescale')),
        ]
    del graph.node[:]
    graph.node.extend(new_nodes)
    kept = [i for i in graph.initializer if i.name not in drop]
    del graph.initializer[:]
    graph.initializer.extend(kept + (shared if used else []))
    check(model)
    return model


def check(model: onnx.ModelProto) -> None:
    """onnx's checker knows only standard ops; a graph with onnxruntime's contrib ops is checked by
    onnxruntime when it loads (the tests load every export)."""
    if all(o.domain in ('', 'ai.onnx') for o in model.opset_import):
        onnx.checker.check_model(model)


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')
