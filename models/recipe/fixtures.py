"""Tiny random-weight exports in the layouts real Hugging Face ONNX models use, so the loader is tested on
each without downloading anything (each folder < 2 MB, with the default tokenizer):

    tiny-gqa-qwen2/onnx/model.onnx                  grouped-query attention, q/k/v biases (Qwen2, LLaMA-3)
    tiny-mqa-bigcode/onnx/model.onnx                multi-query, fused past_key_values.{i}.key_value
                                                    [batch, past, 2*head_dim] (GPT-BigCode, StarCoder)
    tiny-merged-llama/onnx/decoder_model_merged.onnx  one graph, an If on use_cache_branch choosing the
                                                    no-past or the with-past decoder (Optimum's merge)
    tiny-gqa-qwen2-external/onnx/model.onnx + model.onnx_data
                                                    the GQA model with its weights in an external data
                                                    file, as exports over protobuf's 2 GB keep them
    tiny-gqa-tree/onnx/model.onnx, model_fp16.onnx  the GQA model through graph.py (GroupQueryAttention,
                                                    the tree attention bias), fp32 and fp16
    tiny-gqa-merging/onnx/model.onnx, model_merging.onnx
                                                    the same, and its subtoken-merging export (token_group,
                                                    random merge weights); merge_reference.json

    /usr/bin/python3 models/recipe/fixtures.py --out test/fixtures/models --tokenizer models/tessera-tiny [--only NAME ...]
"""
import argparse
import hashlib
import math
import os
import shutil

import onnx
import torch
import torch.nn.functional as F
from onnx import helper, TensorProto
from torch import nn

from export import WithPast, export_with_past, hf_config, io_names, reference
from model import Config, Decoder
import graph
import merge
import variants
from onnx_export import check, export_decoder, kv_axes, write_json

VOCAB = 8192
PROMPT = [4, 300, 301, 302, 10, 11, 12, 13]


def causal_bias(attention_mask, s):
    total = attention_mask.shape[1]
    rows = torch.arange(s)[:, None] + (total - s)
    allowed = (torch.arange(total)[None, :] <= rows)[None, None] & (attention_mask[:, None, None, :] > 0)
    return torch.zeros(allowed.shape).masked_fill(~allowed, -1e9)


class BigCodeBlock(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, d + 2 * self.hd)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, bias, past_kv):
        b, s, d = x.shape
        qkv = self.c_attn(self.ln_1(x))
        q = qkv[..., :d].reshape(b, s, self.heads, self.hd).transpose(1, 2)
        kv = qkv[..., d:]
        if past_kv is not None:
            kv = torch.cat((past_kv, kv), dim=1)
        k, v = kv[..., :self.hd], kv[..., self.hd:]  # one key and one value head shared by all heads
        scores = torch.matmul(q, k[:, None].transpose(2, 3)) / math.sqrt(self.hd) + bias
        out = torch.matmul(torch.softmax(scores, -1), v[:, None]).transpose(1, 2).reshape(b, s, d)
        x = x + self.attn_proj(out)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh')), kv


class BigCode(nn.Module):
    """GPT-BigCode with multi_query=True, as Optimum exports it for transformers < 4.54."""

    def __init__(self, d=32, heads=4, layers=2, positions=512):
        super().__init__()
        self.d, self.heads, self.n_layers, self.positions = d, heads, layers, positions
        self.wte = nn.Embedding(VOCAB, d)
        self.wpe = nn.Embedding(positions, d)
        self.h = nn.ModuleList(BigCodeBlock(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        b, s = input_ids.shape
        past_len = 0 if past is None else past[0].shape[1]
        if attention_mask is None:
            attention_mask = torch.ones(b, past_len + s, dtype=torch.long)
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + s)[None]
        x = self.wte(input_ids) + self.wpe(position_ids)
        bias = causal_bias(attention_mask, s)
        presents = []
        for i, block in enumerate(self.h):
            x, kv = block(x, bias, None if past is None else past[i])
            presents.append(kv)
        x = self.ln_f(x)
        return F.linear(x.reshape(b * s, -1), self.wte.weight).reshape(b, s, -1), presents


class BigCodeWithPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past):
        logits, presents = self.model(input_ids, attention_mask, position_ids, list(past))
        return (logits, *presents)


def randomize(model, seed):
    """Random weights larger than the training init, so logits differ clearly between tokens and a
    layout mistake (wrong head split, wrong cache order) changes the greedy tokens."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
            elif 'bias' in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model.eval()


def gqa(out):
    c = Config(vocab_size=VOCAB, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=64, qkv_bias=True)
    model = randomize(Decoder(c), 1)
    export_with_past(model, os.path.join(out, 'onnx', 'model.onnx'))
    config = hf_config(c, 512)
    config.update({'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'tie_word_embeddings': True})
    del config['attention_bias']  # Qwen2 always has q/k/v biases
    return config, reference(model, PROMPT)


def gqa_graph(out):
    """The GQA model through graph.py (GroupQueryAttention with the tree attention bias, the in-place
    cache) as onnx/model.onnx: (model, config, reference). Heads of 16: GroupQueryAttention takes no
    smaller."""
    c = Config(vocab_size=VOCAB, d_model=32, n_layers=2, n_heads=2, n_kv_heads=1, d_ff=64, qkv_bias=True)
    model = randomize(Decoder(c), 1)
    fp32 = graph.build(model, rope_positions=512)
    check(fp32)
    onnx.save(fp32, os.path.join(out, 'onnx', 'model.onnx'))
    config = hf_config(c, 512)
    config.update({'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'tie_word_embeddings': True})
    del config['attention_bias']
    return model, fp32, config, reference(model, PROMPT)


def gqa_tree(out):
    """gqa_graph in fp32 and, as variants.py writes it, fp16: draft trees on a half-precision export."""
    _, fp32, config, ref = gqa_graph(out)
    onnx.save(variants.to_fp16(fp32), os.path.join(out, 'onnx', 'model_fp16.onnx'))
    return config, ref


MERGE_GROUP = [0, 1, 1, 1, 2, 3, 3, 4]  # PROMPT with two runs pooled: 8 tokens in 5 positions


def gqa_merging(out):
    """gqa_graph and its token_group export with random (non-zero) merge weights: identity groups must
    give the plain export's logits exactly, merged ones torch's."""
    model, _, config, ref = gqa_graph(out)
    m = merge.Merge(model.c.d_model)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    proto = graph.build(model, rope_positions=512, merge=m)
    check(proto)
    onnx.save(proto, os.path.join(out, 'onnx', 'model_merging.onnx'))
    write_json(os.path.join(out, 'merge_reference.json'), merge.merged_reference(model, m, PROMPT, MERGE_GROUP))
    return config, ref


def mqa(out):
    model = randomize(BigCode(), 2)
    past = [f'past_key_values.{i}.key_value' for i in range(model.n_layers)]
    present = [f'present.{i}.key_value' for i in range(model.n_layers)]
    b, s, p = 1, 3, 2
    example = (torch.ones(b, s, dtype=torch.long), torch.ones(b, p + s, dtype=torch.long), torch.arange(p, p + s)[None],
               *[torch.zeros(b, p, 2 * (model.d // model.heads)) for _ in past])
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'logits': {0: 'batch_size', 1: 'sequence_length'},
            **kv_axes(past, 1, 'past_sequence_length'), **kv_axes(present, 1, 'total_sequence_length')}
    export_decoder(BigCodeWithPast(model).eval(), example, ['input_ids', 'attention_mask', 'position_ids', *past],
                   ['logits', *present], axes, os.path.join(out, 'onnx', 'model.onnx'))
    config = {'architectures': ['GPTBigCodeForCausalLM'], 'model_type': 'gpt_bigcode', 'vocab_size': VOCAB,
              'n_embd': model.d, 'n_head': model.heads, 'n_layer': model.n_layers, 'n_positions': model.positions,
              'n_inner': 4 * model.d, 'multi_query': True, 'activation_function': 'gelu_pytorch_tanh',
              'layer_norm_epsilon': 1e-5, 'bos_token_id': 0, 'eos_token_id': 0, 'use_cache': True}
    return config, reference(model, PROMPT)


class NoPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids):
        logits, presents = self.model(input_ids, attention_mask, position_ids, None)
        return (logits, *[t for kv in presents for t in kv])


def merged(out, tmp):
    c = Config(vocab_size=VOCAB, d_model=32, n_layers=2, n_heads=4, n_kv_heads=4, d_ff=64)
    model = randomize(Decoder(c), 3)
    inputs, outputs, past, present = io_names(c.n_layers)
    with_past = export_with_past(model, os.path.join(tmp, 'with_past.onnx'))
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'logits': {0: 'batch_size', 1: 'sequence_length'}, **kv_axes(present, 2, 'sequence_length')}
    example = (torch.ones(1, 3, dtype=torch.long), torch.ones(1, 3, dtype=torch.long), torch.arange(3)[None])
    no_past = export_decoder(NoPast(model).eval(), example, inputs[:3], outputs, axes, os.path.join(tmp, 'no_past.onnx'))
    model_proto = merge_on_use_cache_branch(no_past, with_past)
    onnx.save(model_proto, os.path.join(out, 'onnx', 'decoder_model_merged.onnx'))
    return hf_config(c, 512), reference(model, PROMPT)


def merge_on_use_cache_branch(no_past: onnx.ModelProto, with_past: onnx.ModelProto) -> onnx.ModelProto:
    """One graph with the with-past graph's inputs plus use_cache_branch (bool [1]); an If runs the
    with-past body when it is true, the no-past body (which ignores the past inputs) when false.
    Weights equal in both are stored once, in the outer graph."""
    outer_inits, by_digest, renames = [], {}, ({}, {})
    for k, graph in enumerate((no_past.graph, with_past.graph)):
        for init in graph.initializer:
            digest = hashlib.sha256(init.raw_data + bytes(str(list(init.dims)) + str(init.data_type), 'ascii')).hexdigest()
            if digest not in by_digest:
                by_digest[digest] = f'shared_{len(by_digest)}'
                t = onnx.TensorProto()
                t.CopyFrom(init)
                t.name = by_digest[digest]
                outer_inits.append(t)
            renames[k][init.name] = by_digest[digest]
    input_names = {i.name for i in with_past.graph.input}
    outputs = [o.name for o in with_past.graph.output]

    def branch(graph, k, prefix):
        def rename(name):
            if name == '' or name in input_names:
                return name
            return renames[k].get(name, f'{prefix}{name}')
        nodes = []
        for node in graph.node:
            n = onnx.NodeProto()
            n.CopyFrom(node)
            n.name = prefix + node.name
            n.input[:] = [rename(x) for x in node.input]
            n.output[:] = [rename(x) for x in node.output]
            nodes.append(n)
        outs = []
        for o in graph.output:
            v = onnx.ValueInfoProto()
            v.CopyFrom(o)
            v.name = rename(o.name)
            v.type.tensor_type.ClearField('shape')
            outs.append(v)
        return helper.make_graph(nodes, f'{prefix}graph', [], outs)

    if_node = helper.make_node('If', ['use_cache_branch'], outputs, name='optimum::if',
                               then_branch=branch(with_past.graph, 1, 'with_past_'),
                               else_branch=branch(no_past.graph, 0, 'no_past_'))
    cond = helper.make_tensor_value_info('use_cache_branch', TensorProto.BOOL, [1])
    graph = helper.make_graph([if_node], 'merged_decoder', [*with_past.graph.input, cond],
                              list(with_past.graph.output), outer_inits)
    model = helper.make_model(graph, opset_imports=with_past.opset_import)
    model.ir_version = with_past.ir_version
    onnx.checker.check_model(model)
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    p.add_argument('--tokenizer', required=True, help='folder with tokenizer.json and tokenizer_config.json')
    p.add_argument('--only', nargs='*', help='make only these fixtures (the others stay as they are)')
    args = p.parse_args()
    torch.manual_seed(0)
    tmp = os.path.join(args.out, '.tmp')
    os.makedirs(tmp, exist_ok=True)
    makers = (('tiny-gqa-qwen2', gqa), ('tiny-gqa-tree', gqa_tree), ('tiny-gqa-merging', gqa_merging), ('tiny-mqa-bigcode', mqa),
              ('tiny-merged-llama', lambda o: merged(o, tmp)))
    for name, make in makers:
        if args.only and name not in args.only:
            continue
        out = os.path.join(args.out, name)
        os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
        config, ref = make(out)
        write_json(os.path.join(out, 'config.json'), config)
        write_json(os.path.join(out, 'generation_config.json'), {'bos_token_id': 0, 'eos_token_id': 0})
        write_json(os.path.join(out, 'reference.json'), ref)
        for f in ('tokenizer.json', 'tokenizer_config.json'):
            shutil.copy(os.path.join(args.tokenizer, f), os.path.join(out, f))
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
        print(f'{name}: {size / 1e6:.2f} MB')
    if args.only and 'tiny-gqa-qwen2-external' not in args.only:
        shutil.rmtree(tmp)
        return
    external = os.path.join(args.out, 'tiny-gqa-qwen2-external')
    shutil.rmtree(external, ignore_errors=True)
    shutil.copytree(os.path.join(args.out, 'tiny-gqa-qwen2'), external)
    path = os.path.join(external, 'onnx', 'model.onnx')
    onnx.save_model(onnx.load(path), path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location='model.onnx_data', size_threshold=1024)
    shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
