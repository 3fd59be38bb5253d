"""Writes a graph.py export (the default model, or shaped.py's) as a GGUF file for llama.cpp, so the
benchmark runs the same weights in both runtimes (bench/llamacpp.ts). Our own writer of the format
ggml documents in docs/gguf.md: a header, key-value metadata, tensor infos, aligned tensor data.

    /usr/bin/python3 models/recipe/gguf.py MODEL_DIR OUT.gguf [--type f32|f16|q8_0|q4_0]

Architecture `qwen2` (llama.cpp's Qwen2: RMSNorm, SwiGLU, q/k/v biases, rotary over halves, tied
embeddings): exactly graph.py's model. Models without q/k/v biases get zero biases (adding zero changes
nothing). The tokenizer goes in as byte-level BPE (`gpt2`): its tokens, merges and control tokens;
the benchmark feeds token ids, so pre-tokenization does not matter.
"""
import argparse
import json
import os
import struct

import numpy as np
import onnx
from onnx import numpy_helper

ALIGNMENT = 32
# ggml tensor types (and the general.file_type of a file mostly in each) and GGUF value types used here.
F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8
FILE_TYPE = {F32: 0, F16: 1, Q4_0: 2, Q8_0: 7}
U32, I32, F32V, STRING, ARRAY = 4, 5, 6, 8, 9


class Writer:
    def __init__(self):
        self.kv = []       # bytes of each key-value pair
        self.tensors = []  # (name, array or (bytes, shape), type)

    @staticmethod
    def string(s: str) -> bytes:
        b = s.encode('utf-8')
        return struct.pack('<Q', len(b)) + b

    def add(self, key, vtype, value):
        out = self.string(key) + struct.pack('<I', vtype)
        if vtype == U32:
            out += struct.pack('<I', value)
        elif vtype == I32:
            out += struct.pack('<i', value)
        elif vtype == F32V:
            out += struct.pack('<f', value)
        elif vtype == STRING:
            out += self.string(value)
        else:
            raise ValueError(vtype)
        self.kv.append(out)

    def add_array(self, key, vtype, values):
        out = self.string(key) + struct.pack('<IIQ', ARRAY, vtype, len(values))
        if vtype == STRING:
            out += b''.join(self.string(v) for v in values)
        elif vtype == I32:
            out += np.asarray(values, dtype='<i4').tobytes()
        else:
            raise ValueError(vtype)
        self.kv.append(out)

    def tensor(self, name, array: np.ndarray, ttype):
        """`array` in torch's layout ([out, in] for a weight); GGUF lists dimensions innermost first."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        data = {Q8_0: quantize_q8_0, Q4_0: quantize_q4_0, F16: lambda a: a.astype('<f2').tobytes()}.get(ttype, lambda a: a.tobytes())(array)
        self.tensors.append((name, list(reversed(array.shape)), ttype, data))

    def write(self, path):
        infos, offset = [], 0
        for name, dims, ttype, data in self.tensors:
            infos.append(self.string(name) + struct.pack('<I', len(dims)) + struct.pack(f'<{len(dims)}Q', *dims)
                         + struct.pack('<IQ', ttype, offset))
            offset += pad(len(data))
        with open(path, 'wb') as f:
            f.write(b'GGUF' + struct.pack('<IQQ', 3, len(self.tensors), len(self.kv)))
            for kv in self.kv:
                f.write(kv)
            for info in infos:
                f.write(info)
            f.write(b'\0' * (pad(f.tell()) - f.tell()))
            for _, _, _, data in self.tensors:
                f.write(data)
                f.write(b'\0' * (pad(len(data)) - len(data)))


def pad(n):
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def quantize_q8_0(x: np.ndarray) -> bytes:
    """Blocks of 32 along the rows: one fp16 scale (max |x| / 127) and 32 int8 values, 34 bytes."""
    blocks = x.reshape(-1, 32)
    d = np.abs(blocks).max(axis=1, keepdims=True) / 127.0
    q = np.round(blocks / np.where(d == 0, 1, d)).clip(-127, 127).astype(np.int8)
    out = np.empty(len(blocks), dtype=[('d', '<f2'), ('qs', 'i1', 32)])
    out['d'] = d[:, 0].astype(np.float16)
    out['qs'] = q
    return out.tobytes()


def quantize_q4_0(x: np.ndarray) -> bytes:
    """Blocks of 32: one fp16 scale d = (the value of largest magnitude) / -8 and 32 4-bit values
    round(x / d) + 8 in 0..15, the first 16 in the low nibbles, the last 16 in the high ones; 18 bytes."""
    blocks = x.reshape(-1, 32)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(axis=1)]
    d = extreme / -8.0
    inv = np.where(d == 0, 0, 1 / np.where(d == 0, 1, d))
    q = np.clip(np.floor(blocks * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    out = np.empty(len(blocks), dtype=[('d', '<f2'), ('qs', 'u1', 16)])
    out['d'] = d.astype(np.float16)
    out['qs'] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('model_dir')
    p.add_argument('out')
    p.add_argument('--type', choices=['f32', 'f16', 'q8_0', 'q4_0'], default='f32')
    args = p.parse_args()
    cfg = json.load(open(os.path.join(args.model_dir, 'config.json')))
    onnx_model = onnx.load(os.path.join(args.model_dir, 'onnx', 'model.onnx'))
    w = {i.name: numpy_helper.to_array(i) for i in onnx_model.graph.initializer}
    H, KV, L = cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['num_hidden_layers']
    d, hd, V = cfg['hidden_size'], cfg.get('head_dim') or cfg['hidden_size'] // H, cfg['vocab_size']
    big = {'f32': F32, 'f16': F16, 'q8_0': Q8_0, 'q4_0': Q4_0}[args.type]

    g = Writer()
    arch = 'qwen2'
    g.add('general.architecture', STRING, arch)
    g.add('general.name', STRING, os.path.basename(os.path.normpath(args.model_dir)))
    g.add('general.file_type', U32, FILE_TYPE[big])
    g.add(f'{arch}.context_length', U32, cfg['max_position_embeddings'])
    g.add(f'{arch}.embedding_length', U32, d)
    g.add(f'{arch}.block_count', U32, L)
    g.add(f'{arch}.feed_forward_length', U32, cfg['intermediate_size'])
    g.add(f'{arch}.attention.head_count', U32, H)
    g.add(f'{arch}.attention.head_count_kv', U32, KV)
    g.add(f'{arch}.attention.key_length', U32, hd)
    g.add(f'{arch}.attention.value_length', U32, hd)
    g.add(f'{arch}.rope.freq_base', F32V, float(cfg['rope_theta']))
    g.add(f'{arch}.attention.layer_norm_rms_epsilon', F32V, float(cfg['rms_norm_eps']))
    tokenizer(g, args.model_dir, V)

    g.tensor('token_embd.weight', w['model.embed_tokens.weight'], big)
    for i in range(L):
        qkv = w[f'l{i}.qkv.weight'].T  # [q | k | v rows, d]
        bias = w.get(f'l{i}.qkv.bias', np.zeros(qkv.shape[0], dtype=np.float32))
        q, k = H * hd, KV * hd
        g.tensor(f'blk.{i}.attn_norm.weight', w[f'l{i}/attn_norm.weight'], F32)
        g.tensor(f'blk.{i}.attn_q.weight', qkv[:q], big)
        g.tensor(f'blk.{i}.attn_k.weight', qkv[q:q + k], big)
        g.tensor(f'blk.{i}.attn_v.weight', qkv[q + k:], big)
        g.tensor(f'blk.{i}.attn_q.bias', bias[:q], F32)
        g.tensor(f'blk.{i}.attn_k.bias', bias[q:q + k], F32)
        g.tensor(f'blk.{i}.attn_v.bias', bias[q + k:], F32)
        g.tensor(f'blk.{i}.attn_output.weight', w[f'l{i}.o.weight'].T, big)
        g.tensor(f'blk.{i}.ffn_norm.weight', w[f'l{i}/mlp_norm.weight'], F32)
        g.tensor(f'blk.{i}.ffn_gate.weight', w[f'l{i}.gate.weight'].T, big)
        g.tensor(f'blk.{i}.ffn_up.weight', w[f'l{i}.up.weight'].T, big)
        g.tensor(f'blk.{i}.ffn_down.weight', w[f'l{i}.down.weight'].T, big)
    g.tensor('output_norm.weight', w['final_norm.weight'], F32)
    g.write(args.out)
    print(args.out, os.path.getsize(args.out))


def tokenizer(g: Writer, model_dir: str, vocab_size: int):
    """Byte-level BPE from tokenizer.json; without one (shaped.py's random models), placeholder tokens."""
    path = os.path.join(model_dir, 'tokenizer.json')
    if os.path.exists(path):
        t = json.load(open(path, encoding='utf-8'))
        vocab = t['model']['vocab']
        tokens = [''] * vocab_size
        for tok, i in vocab.items():
            tokens[i] = tok
        types = [1] * vocab_size
        for a in t.get('added_tokens', []):
            tokens[a['id']] = a['content']
            types[a['id']] = 3 if a.get('special') else 4
        merges = [m if isinstance(m, str) else ' '.join(m) for m in t['model']['merges']]
    else:
        # One byte-level symbol per token id up to 256, then unique placeholders: loads, never decodes text.
        tokens = [f'<t{i}>' for i in range(vocab_size)]
        types = [1] * vocab_size
        merges = []
    g.add('tokenizer.ggml.model', STRING, 'gpt2')
    g.add('tokenizer.ggml.pre', STRING, 'default')
    g.add_array('tokenizer.ggml.tokens', STRING, tokens)
    g.add_array('tokenizer.ggml.token_type', I32, types)
    g.add_array('tokenizer.ggml.merges', STRING, merges)
    g.add('tokenizer.ggml.bos_token_id', U32, 0)
    g.add('tokenizer.ggml.eos_token_id', U32, 0)
    g.add('tokenizer.ggml.padding_token_id', U32, 0)


if __name__ == '__main__':
    main()
