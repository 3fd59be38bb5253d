"""The default model as a hand-built ONNX graph: same inputs and outputs as torch's export (the Optimum
decoder layout), a fifth of its nodes. A model this small spends most of a decode step in per-node
overhead, not arithmetic: torch's trace has ~400 nodes after onnxruntime's fusions (shape arithmetic,
rotary slices, masks, cache concats); here each layer is one packed QKV MatMul, onnxruntime's
GroupQueryAttention (rotary positions, causal mask and the cache concat in one kernel), and the MLP,
with each residual add and the RMSNorm after it in one SkipSimplifiedLayerNormalization. Attention takes
an additive bias (tree_attention.py): zeros for plain runs, ancestors-only for a draft tree. The logits
come out log-softmax normalized (the same distribution under softmax, argmax and temperature): the
runtime then reads a token's log-probability instead of summing 8,192 exponentials in JavaScript.
"""
import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto as T

import tree_attention
from model import Decoder


def build(model: Decoder, rope_positions: int, merge=None) -> onnx.ModelProto:
    """With `merge` (merge.Merge) the export takes `token_group` and pools subtokens (merged_embeddings)."""
    c = model.c
    H, KV, D, L = c.n_heads, c.n_kv_heads, c.head_dim, c.n_layers
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    # Weights go straight into the model as they are made: make_graph and make_model would each copy them
    # (at Qwen2.5-Coder-1.5B's shape, 6 GB a copy: more than a 24 GB machine holds).
    m = onnx.ModelProto()
    nodes = []

    def init(name, array):
        m.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, outputs, domain='', **attrs):
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], domain=domain, **attrs))
        return outputs[0]

    def add_rms_norm(x, residual, weight, out):
        """(RMSNorm(x + residual), x + residual) in one contrib node."""
        node('SkipSimplifiedLayerNormalization', [x, residual, init(f'{out}.weight', weight)], [out, '', '', f'{out}/sum'],
             domain='com.microsoft', epsilon=float(c.norm_eps))
        return out, f'{out}/sum'

    def rms_norm(x, weight, out):
        # The decomposition onnxruntime fuses into SimplifiedLayerNormalization.
        sq = node('Pow', [x, 'two'], [f'{out}/sq'])
        mean = node('ReduceMean', [sq], [f'{out}/mean'], axes=[-1], keepdims=1)
        eps = node('Add', [mean, 'eps'], [f'{out}/eps'])
        std = node('Sqrt', [eps], [f'{out}/std'])
        normed = node('Div', [x, std], [f'{out}/normed'])
        return node('Mul', [normed, init(f'{out}.weight', weight)], [out])

    init('two', np.array(2.0, dtype=np.float32))
    init('eps', np.array(c.norm_eps, dtype=np.float32))
    init('one', np.array([1], dtype=np.int64))
    # Rotary tables for GroupQueryAttention: [positions, head_dim / 2].
    inv_freq = 1.0 / (c.rope_theta ** (np.arange(0, D, 2, dtype=np.float64) / D))
    freqs = np.outer(np.arange(rope_positions, dtype=np.float64), inv_freq)
    init('cos_cache', np.cos(freqs).astype(np.float32))
    init('sin_cache', np.sin(freqs).astype(np.float32))
    # seqlens_k (int32 [batch]): attended positions - 1; total_sequence_length (int32 scalar).
    mask_sum = node('ReduceSum', ['attention_mask', 'one'], ['mask_sum'], keepdims=0)
    lens = node('Sub', [mask_sum, 'one'], ['seqlens_k_64'])
    node('Cast', [lens], ['seqlens_k'], to=T.INT32)
    shape = node('Shape', ['attention_mask'], ['mask_shape'])
    total = node('Gather', [shape, init('axis1', np.array(1, dtype=np.int64))], ['total_64'], axis=0)
    node('Cast', [total], ['total_sequence_length'], to=T.INT32)

    emb = init('model.embed_tokens.weight', sd['embed_tokens.weight'])
    x = node('Gather', [emb, 'input_ids'], ['token_embeds' if merge else 'embeds'], axis=0)
    if merge is not None:
        x = merged_embeddings(x, merge, init, node)
    h = rms_norm(x, sd['layers.0.input_layernorm.weight'], 'l0/attn_norm')
    for i in range(L):
        p = f'layers.{i}.'
        wqkv = np.concatenate([sd[p + 'self_attn.q_proj.weight'], sd[p + 'self_attn.k_proj.weight'], sd[p + 'self_attn.v_proj.weight']], 0).T
        qkv = node('MatMul', [h, init(f'l{i}.qkv.weight', wqkv)], [f'l{i}/qkv'])
        if c.qkv_bias:
            bias = np.concatenate([sd[p + 'self_attn.q_proj.bias'], sd[p + 'self_attn.k_proj.bias'], sd[p + 'self_attn.v_proj.bias']])
            qkv = node('Add', [qkv, init(f'l{i}.qkv.bias', bias)], [f'l{i}/qkv_bias'])
        attn = node('GroupQueryAttention',
                    [qkv, '', '', f'past_key_values.{i}.key', f'past_key_values.{i}.value', 'seqlens_k',
                     'total_sequence_length', 'cos_cache', 'sin_cache', 'position_ids', tree_attention.NAME],
                    [f'l{i}/attn', f'present.{i}.key', f'present.{i}.value'], domain='com.microsoft',
                    num_heads=H, kv_num_heads=KV, do_rotary=1, rotary_interleaved=0, scale=float(D ** -0.5))
        o = node('MatMul', [attn, init(f'l{i}.o.weight', sd[p + 'self_attn.o_proj.weight'].T)], [f'l{i}/o'])
        h, x = add_rms_norm(o, x, sd[p + 'post_attention_layernorm.weight'], f'l{i}/mlp_norm')
        gate = node('MatMul', [h, init(f'l{i}.gate.weight', sd[p + 'gate_proj.weight'].T)], [f'l{i}/gate'])
        up = node('MatMul', [h, init(f'l{i}.up.weight', sd[p + 'up_proj.weight'].T)], [f'l{i}/up'])
        sig = node('Sigmoid', [gate], [f'l{i}/sigmoid'])
        silu = node('Mul', [gate, sig], [f'l{i}/silu'])
        act = node('Mul', [silu, up], [f'l{i}/act'])
        down = node('MatMul', [act, init(f'l{i}.down.weight', sd[p + 'down_proj.weight'].T)], [f'l{i}/down'])
        last = i == L - 1
        h, x = add_rms_norm(down, x, sd['norm.weight'] if last else sd[f'layers.{i + 1}.input_layernorm.weight'],
                            'final_norm' if last else f'l{i + 1}/attn_norm')
    x = h
    # Tied head: logits = x @ embedding^T, through Gemm(transB) on 2-D rows.
    flat = node('Reshape', [x, init('rows_shape', np.array([-1, c.d_model], dtype=np.int64))], ['rows'])
    scores = node('Gemm', [flat, emb], ['scores_2d'], transB=1)
    logits2d = node('LogSoftmax', [scores], ['logits_2d'], axis=-1)
    # [batch, positions, vocab]: positions are position_ids' (fewer than input_ids' when merged).
    out_shape = node('Concat', [node('Shape', ['position_ids'], ['positions_shape']), init('vocab', np.array([c.vocab_size], dtype=np.int64))], ['logits_shape'], axis=0)
    node('Reshape', [logits2d, out_shape], ['logits'])

    kv = lambda name, seq: helper.make_tensor_value_info(name, T.FLOAT, ['batch_size', KV, seq, D])
    inputs = [helper.make_tensor_value_info('input_ids', T.INT64, ['batch_size', 'sequence_length']),
              helper.make_tensor_value_info('attention_mask', T.INT64, ['batch_size', 'total_sequence_length']),
              helper.make_tensor_value_info('position_ids', T.INT64, ['batch_size', 'sequence_length']),
              tree_attention.bias_input()]
    if merge is not None:
        inputs.append(helper.make_tensor_value_info(GROUP, T.INT64, ['batch_size', 'tokens']))
    outputs = [helper.make_tensor_value_info('logits', T.FLOAT, ['batch_size', 'sequence_length', c.vocab_size])]
    for i in range(L):
        inputs += [kv(f'past_key_values.{i}.key', 'past_sequence_length'), kv(f'past_key_values.{i}.value', 'past_sequence_length')]
        outputs += [kv(f'present.{i}.key', 'total_sequence_length'), kv(f'present.{i}.value', 'total_sequence_length')]
    # What helper.make_graph and make_model would set, on the model that already holds the weights.
    m.graph.name = 'tessera_decoder'
    m.graph.node.extend(nodes)
    m.graph.input.extend(inputs)
    m.graph.output.extend(outputs)
    m.opset_import.extend([helper.make_opsetid('', 17), helper.make_opsetid('com.microsoft', 1)])
    m.producer_name = 'tessera models/recipe/graph.py'
    m.ir_version = 8
    return m


GROUP = 'token_group'


def merged_embeddings(embeds, merge, init, node):
    """merge.py's pooling as ONNX: input_ids [1, tokens] and token_group [1, tokens] (the new position
    each token pools into, non-decreasing from 0) give [1, positions, d], positions = position_ids' length.
    A group of one token passes its embedding through exactly (weight 1, slot 0 and marker 0 add zeros)."""
    table = merge.slot_table().detach().float().numpy()
    init('merge.slot', table)
    init('merge.query', merge.query.detach().float().numpy()[:, None])
    init('merge.marker', merge.marker.detach().float().numpy())
    init('merge.max_rank', np.array(table.shape[0] - 1, dtype=np.int64))
    init('merge.zero', np.array(0, dtype=np.int64))
    init('merge.step', np.array(1, dtype=np.int64))
    init('merge.fone', np.array(1.0, dtype=np.float32))
    init('merge.fzero', np.array(0.0, dtype=np.float32))
    init('merge.neg', np.array(-1e9, dtype=np.float32))
    init('merge.last', np.array([-1], dtype=np.int64))
    init('merge.col', np.array([1, -1, 1], dtype=np.int64))
    init('merge.axis1', np.array([1], dtype=np.int64))
    init('merge.row', np.array([1, 1, -1], dtype=np.int64))
    scalar = lambda shape_of, out: node('Squeeze', [node('Gather', [node('Shape', [shape_of], [f'{out}/shape']), 'merge.axis1'], [f'{out}/dim'], axis=0)], [out])
    positions = scalar('position_ids', 'merge/positions')
    tokens = scalar(GROUP, 'merge/tokens')
    slots = node('Reshape', [node('Range', ['merge.zero', positions, 'merge.step'], ['merge/range_pos']), 'merge.col'], ['merge/pos_col'])
    member = node('Equal', [node('Unsqueeze', [GROUP, 'merge.axis1'], ['merge/group_row']), slots], ['merge/member'])  # [1, pos, tok]
    m = node('Cast', [member], ['merge/m'], to=T.FLOAT)
    # rank = token index - index of its group's first token (ArgMax takes the first 1 of a row)
    first = node('ArgMax', [m], ['merge/first'], axis=-1, keepdims=0)
    first_of_token = node('GatherElements', [first, GROUP], ['merge/first_of_token'], axis=1)
    rank = node('Sub', [node('Range', ['merge.zero', tokens, 'merge.step'], ['merge/range_tok']), first_of_token], ['merge/rank'])
    slot = node('Gather', ['merge.slot', node('Min', [rank, 'merge.max_rank'], ['merge/rank_capped'])], ['merge/slot'], axis=0)
    x = node('Add', [embeds, slot], ['merge/x'])
    score = node('Reshape', [node('MatMul', [x, 'merge.query'], ['merge/score_col']), 'merge.row'], ['merge/score'])
    outside = node('Mul', [node('Sub', ['merge.fone', m], ['merge/not_m']), 'merge.neg'], ['merge/outside'])
    gmax = node('ReduceMax', [node('Add', [node('Mul', [score, m], ['merge/score_m']), outside], ['merge/masked'])], ['merge/gmax'], axes=[-1], keepdims=1)
    shifted = node('Min', [node('Sub', [score, gmax], ['merge/shifted_raw']), 'merge.fzero'], ['merge/shifted'])
    w = node('Mul', [node('Exp', [shifted], ['merge/exp']), m], ['merge/w'])
    den = node('ReduceSum', [w, 'merge.last'], ['merge/den'], keepdims=1)
    pooled = node('MatMul', [node('Div', [w, den], ['merge/weights']), x], ['merge/pooled'])
    count = node('ReduceSum', [m, 'merge.last'], ['merge/count'], keepdims=1)
    several = node('Cast', [node('Greater', [count, 'merge.fone'], ['merge/several_b'])], ['merge/several'], to=T.FLOAT)
    return node('Add', [pooled, node('Mul', [several, 'merge.marker'], ['merge/marker'])], ['embeds'])


def state_dict_of(proto: onnx.ModelProto, c) -> dict:
    """The torch weights an export of build() holds (fp32 only): build()'s initializers, unpacked."""
    w = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    sd = {'embed_tokens.weight': w['model.embed_tokens.weight'], 'norm.weight': w['final_norm.weight']}
    q, kv = c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim
    for i in range(c.n_layers):
        p = f'layers.{i}.'
        qkv = w[f'l{i}.qkv.weight'].T
        sd[p + 'self_attn.q_proj.weight'], sd[p + 'self_attn.k_proj.weight'], sd[p + 'self_attn.v_proj.weight'] = qkv[:q], qkv[q:q + kv], qkv[q + kv:]
        if c.qkv_bias:
            b = w[f'l{i}.qkv.bias']
            sd[p + 'self_attn.q_proj.bias'], sd[p + 'self_attn.k_proj.bias'], sd[p + 'self_attn.v_proj.bias'] = b[:q], b[q:q + kv], b[q + kv:]
        sd[p + 'self_attn.o_proj.weight'] = w[f'l{i}.o.weight'].T
        sd[p + 'gate_proj.weight'] = w[f'l{i}.gate.weight'].T
        sd[p + 'up_proj.weight'] = w[f'l{i}.up.weight'].T
        sd[p + 'down_proj.weight'] = w[f'l{i}.down.weight'].T
        sd[p + 'input_layernorm.weight'] = w[f'l{i}/attn_norm.weight']
        sd[p + 'post_attention_layernorm.weight'] = w[f'l{i}/mlp_norm.weight']
    return {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in sd.items()}
