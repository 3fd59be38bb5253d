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


def quantize_matmul_weights(model: onnx.ModelProto, min_elements=1024) -> onnx.ModelProto:
    """MatMul(x, W) with W a float initializer becomes
    DynamicQuantizeLinear(x) → MatMulInteger(x_u8, W_s8) → Cast → Mul(x_scale * w_scale[col]).
    Weights are symmetric int8 per output column; activations uint8 per tensor, computed at run time."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    new_nodes, drop = [], set()
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == 'MatMul' and len(node.input) == 2 else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2 or np.prod(w.dims) < min_elements:
            new_nodes.append(node)
            continue
        weights = numpy_helper.to_array(w)
        scale = np.maximum(np.abs(weights).max(axis=0), 1e-8) / 127.0
        q = np.clip(np.round(weights / scale), -127, 127).astype(np.int8)
        base = node.name or node.output[0]
        qname, sname = f'{w.name}_quantized', f'{w.name}_scale'
        if len(consumers.get(w.name, [])) == 1:
            drop.add(w.name)
        if qname not in inits:
            graph.initializer.extend([numpy_helper.from_array(q, qname), numpy_helper.from_array(scale.astype(np.float32), sname)])
            inits[qname] = True
        x, y = node.input[0], node.output[0]
        new_nodes += [
            helper.make_node('DynamicQuantizeLinear', [x], [f'{base}_xq', f'{base}_xs', f'{base}_xz'], name=f'{base}_quant'),
            helper.make_node('MatMulInteger', [f'{base}_xq', qname, f'{base}_xz'], [f'{base}_i32'], name=f'{base}_matmul_int'),
            helper.make_node('Cast', [f'{base}_i32'], [f'{base}_f32'], to=TensorProto.FLOAT, name=f'{base}_cast'),
            helper.make_node('Mul', [f'{base}_xs', sname], [f'{base}_scale'], name=f'{base}_scale_mul'),
            helper.make_node('Mul', [f'{base}_f32', f'{base}_scale'], [y], name=f'{base}_rescale'),
        ]
    del graph.node[:]
    graph.node.extend(new_nodes)
    kept = [i for i in graph.initializer if i.name not in drop]
    del graph.initializer[:]
    graph.initializer.extend(kept)
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
