"""A model of a released model's shape with random weights, for the speed benchmarks only: what a
forward pass costs at the size users run (never committed, made at benchmark time, deterministic).

    /usr/bin/python3 models/recipe/shaped.py --out DIR [--shape qwen2.5-coder-0.5b|qwen2.5-coder-1.5b] [--int8] [--variants]
    → DIR/config.json, DIR/onnx/model.onnx + model.onnx_data (fp32, external weights: over 2 GB),
      DIR/onnx/model_quantized.onnx (+ _data) with --int8, and with --variants the forms onnx-community
      publishes, written by variants.py: model_fp16.onnx, model_q4.onnx, model_q4f16.onnx
The graph is graph.py's (GroupQueryAttention with the tree attention bias, the in-place cache).
"""
import argparse
import json
import os

import onnx
import torch

import graph
import variants
from export import hf_config
from model import Config, Decoder
from onnx_export import quantize_matmul_weights, write_json

SHAPES = {
    # Qwen2.5-Coder-0.5B: 24 layers, d 896, 14 query / 2 key-value heads of 64, SwiGLU 4864, tied head.
    'qwen2.5-coder-0.5b': Config(vocab_size=151936, d_model=896, n_layers=24, n_heads=14, n_kv_heads=2, d_ff=4864,
                                 rope_theta=1000000.0, max_positions=32768, norm_eps=1e-6, qkv_bias=True),
    # Qwen2.5-Coder-1.5B: 28 layers, d 1536, 12 query / 2 key-value heads of 128, SwiGLU 8960, tied head.
    'qwen2.5-coder-1.5b': Config(vocab_size=151936, d_model=1536, n_layers=28, n_heads=12, n_kv_heads=2, d_ff=8960,
                                 rope_theta=1000000.0, max_positions=32768, norm_eps=1e-6, qkv_bias=True),
}


def save(model: onnx.ModelProto, path: str):
    data = path + '_data'
    if os.path.exists(data):
        os.remove(data)  # onnx appends to an existing data file
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location=os.path.basename(data), size_threshold=1024)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', required=True)
    p.add_argument('--shape', default='qwen2.5-coder-0.5b', choices=sorted(SHAPES))
    p.add_argument('--int8', action='store_true')
    p.add_argument('--variants', action='store_true')
    args = p.parse_args()
    c = SHAPES[args.shape]
    torch.manual_seed(0)
    with torch.no_grad():
        model = Decoder(c).eval()
        # Small random weights keep activations in a trained model's range (no overflow in 24 layers).
        for name, w in model.named_parameters():
            if w.dim() == 2:
                w.normal_(0, 0.02)
    onnx_dir = os.path.join(args.out, 'onnx')
    os.makedirs(onnx_dir, exist_ok=True)
    built = graph.build(model, rope_positions=4096)
    del model  # the weights now live in `built`: one copy fewer while it is saved
    save(built, os.path.join(onnx_dir, 'model.onnx'))
    del built
    fp32 = os.path.join(onnx_dir, 'model.onnx')
    if args.int8:
        save(quantize_matmul_weights(onnx.load(fp32)), os.path.join(onnx_dir, 'model_quantized.onnx'))
    if args.variants:
        for name in ('model_fp16.onnx', 'model_q4.onnx', 'model_q4f16.onnx'):
            save(variants.VARIANTS[name](onnx.load(fp32)), os.path.join(onnx_dir, name))
    write_json(os.path.join(args.out, 'config.json'), hf_config(c, 4096))
    print(json.dumps({f: os.path.getsize(os.path.join(onnx_dir, f)) for f in sorted(os.listdir(onnx_dir))}))


if __name__ == '__main__':
    main()
