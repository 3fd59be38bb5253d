"""Exports a trained checkpoint as a Hugging Face ONNX model folder (onnx-community layout), through the
hand-built graph of graph.py (export_with_past, torch's trace of the same model, serves the fixtures):

    DIR/config.json, generation_config.json       (LlamaForCausalLM: the weights mean what it says)
    DIR/onnx/model.onnx                            fp32, Optimum decoder with KV cache
    DIR/onnx/model_quantized.onnx                  int8 weights (MatMulInteger)
    DIR/reference.json                             torch's logits and greedy tokens for a fixed prompt

    /usr/bin/python3 models/recipe/export.py --checkpoint CKPT --out models/tessera-tiny
Inputs: input_ids, attention_mask, position_ids, past_key_values.{i}.key|value [batch, kv_heads, past, head_dim];
outputs: logits, present.{i}.key|value. An empty past (length 0) is the first call.
"""
import argparse
import json
import os

import onnx
import torch

import graph
from model import Config, Decoder
from onnx_export import check, export_decoder, kv_axes, quantize_matmul_weights, write_json

class WithPast(torch.nn.Module):
    """Flat tensors in and out, in the Optimum order."""

    def __init__(self, model: Decoder):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *[t for kv in presents for t in kv])


def io_names(n_layers):
    past = [f'past_key_values.{i}.{kind}' for i in range(n_layers) for kind in ('key', 'value')]
    present = [f'present.{i}.{kind}' for i in range(n_layers) for kind in ('key', 'value')]
    return ['input_ids', 'attention_mask', 'position_ids', *past], ['logits', *present], past, present


def export_with_past(model: Decoder, path: str):
    c = model.c
    inputs, outputs, past, present = io_names(c.n_layers)
    b, s, p = 1, 3, 2
    example = (torch.ones(b, s, dtype=torch.long), torch.ones(b, p + s, dtype=torch.long),
               torch.arange(p, p + s)[None],
               *[torch.zeros(b, c.n_kv_heads, p, c.head_dim) for _ in past])
    axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'},
            'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
            'position_ids': {0: 'batch_size', 1: 'sequence_length'},
            'logits': {0: 'batch_size', 1: 'sequence_length'},
            **kv_axes(past, 2, 'past_sequence_length'), **kv_axes(present, 2, 'total_sequence_length')}
    return export_decoder(WithPast(model).eval(), example, inputs, outputs, axes, path)


def hf_config(c: Config, max_positions: int) -> dict:
    return {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama',
        'vocab_size': c.vocab_size, 'hidden_size': c.d_model, 'intermediate_size': c.d_ff,
        'num_hidden_layers': c.n_layers, 'num_attention_heads': c.n_heads, 'num_key_value_heads': c.n_kv_heads,
        'head_dim': c.head_dim, 'hidden_act': 'silu', 'max_position_embeddings': max_positions,
        'rms_norm_eps': c.norm_eps, 'rope_theta': c.rope_theta, 'tie_word_embeddings': True,
        'attention_bias': c.qkv_bias, 'bos_token_id': 0, 'eos_token_id': 0, 'pad_token_id': 0,
        'torch_dtype': 'float32', 'use_cache': True,
    }


@torch.no_grad()
def reference(model: Decoder, prompt_ids, steps=24):
    """What the test compares onnxruntime against: per-position logits at fixed ids, argmax and
    logsumexp, and greedy tokens decoded without a cache (the whole sequence re-run each step)."""
    x = torch.tensor([prompt_ids])
    logits, _ = model(x)
    probe = list(range(0, logits.shape[-1], 97))
    rows = []
    for pos in range(logits.shape[1]):
        row = logits[0, pos]
        rows.append({'argmax': int(row.argmax()), 'logsumexp': float(torch.logsumexp(row, 0)),
                     'probe': [float(row[i]) for i in probe]})
    seq = list(prompt_ids)
    for _ in range(steps):
        out, _ = model(torch.tensor([seq]))
        seq.append(int(out[0, -1].argmax()))
    return {'prompt': list(prompt_ids), 'probe_ids': probe, 'positions': rows, 'greedy': seq[len(prompt_ids):]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--prompt-ids', required=True, help='JSON list of token ids for reference.json')
    p.add_argument('--max-positions', type=int, default=None)
    p.add_argument('--rope-positions', type=int, default=4096, help='rows of the rotary tables: the longest sequence the export can run')
    args = p.parse_args()
    ck = torch.load(args.checkpoint)
    c = Config(**ck['config'])
    model = Decoder(c)
    model.load_state_dict(ck['model'])
    model.eval()
    onnx_dir = os.path.join(args.out, 'onnx')
    os.makedirs(onnx_dir, exist_ok=True)
    fp32 = graph.build(model, rope_positions=args.rope_positions)
    check(fp32)
    onnx.save(fp32, os.path.join(onnx_dir, 'model.onnx'))
    int8 = quantize_matmul_weights(fp32)
    onnx.save(int8, os.path.join(onnx_dir, 'model_quantized.onnx'))
    write_json(os.path.join(args.out, 'config.json'), hf_config(c, args.max_positions or ck['args']['seq']))
    write_json(os.path.join(args.out, 'generation_config.json'),
               {'bos_token_id': 0, 'eos_token_id': 0, 'pad_token_id': 0, 'do_sample': False})
    write_json(os.path.join(args.out, 'reference.json'), reference(model, json.loads(args.prompt_ids)))
    sizes = {f: os.path.getsize(os.path.join(onnx_dir, f)) for f in os.listdir(onnx_dir)}
    print(json.dumps({'params': model.num_params(), 'step': ck['step'], 'tokens': ck['tokens'], 'files': sizes}))


if __name__ == '__main__':
    main()
