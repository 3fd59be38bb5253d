"""The default model's architecture: a LLaMA-style decoder (RMSNorm, rotary positions, SwiGLU, tied
embeddings), written so one forward serves training and the ONNX export with a KV cache, and so its
weights mean what a Hugging Face `LlamaForCausalLM` (or Qwen2 with q/k/v biases) config says they mean.
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Config:
    vocab_size: int = 8192
    d_model: int = 128
    n_layers: int = 6
    n_heads: int = 4
    n_kv_heads: int = 4
    d_ff: int = 384
    rope_theta: float = 10000.0
    max_positions: int = 2048
    norm_eps: float = 1e-5
    qkv_bias: bool = False

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        hd = c.head_dim
        self.q_proj = nn.Linear(c.d_model, c.n_heads * hd, bias=c.qkv_bias)
        self.k_proj = nn.Linear(c.d_model, c.n_kv_heads * hd, bias=c.qkv_bias)
        self.v_proj = nn.Linear(c.d_model, c.n_kv_heads * hd, bias=c.qkv_bias)
        self.o_proj = nn.Linear(c.n_heads * hd, c.d_model, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        b, s, _ = x.shape
        c, hd = self.c, self.c.head_dim
        q = self.q_proj(x).view(b, s, c.n_heads, hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, c.n_kv_heads, hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, c.n_kv_heads, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat((past_k.to(k.dtype), k), dim=2)
            v = torch.cat((past_v.to(v.dtype), v), dim=2)
        present = (k, v)
        rep = c.n_heads // c.n_kv_heads
        if rep > 1:
            t = k.shape[2]
            k = k[:, :, None].expand(b, c.n_kv_heads, rep, t, hd).reshape(b, c.n_heads, t, hd)
            v = v[:, :, None].expand(b, c.n_kv_heads, rep, t, hd).reshape(b, c.n_heads, t, hd)
        scores = torch.matmul(q, k.transpose(2, 3)) * (hd ** -0.5) + bias.to(q.dtype)
        probs = torch.softmax(scores.float(), dim=-1).to(v.dtype)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, c.n_heads * hd)
        return self.o_proj(out), present


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.input_layernorm = RMSNorm(c.d_model, c.norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.d_model, c.norm_eps)
        self.gate_proj = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.up_proj = nn.Linear(c.d_model, c.d_ff, bias=False)
        self.down_proj = nn.Linear(c.d_ff, c.d_model, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, bias, past_k, past_v)
        x = x + a
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h)), present


class Decoder(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.d_model)
        self.layers = nn.ModuleList(Block(c) for _ in range(c.n_layers))
        self.norm = RMSNorm(c.d_model, c.norm_eps)
        inv_freq = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2).float() / c.head_dim))
        self.register_buffer('inv_freq', inv_freq, persistent=False)
        self.apply(self._init)
        for layer in self.layers:  # residual branches start small (GPT-2's scaled init)
            nn.init.normal_(layer.self_attn.o_proj.weight, std=0.02 / (2 * c.n_layers) ** 0.5)
            nn.init.normal_(layer.down_proj.weight, std=0.02 / (2 * c.n_layers) ** 0.5)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None, embeds=None):
        """Logits for input_ids (or for `embeds` [batch, positions, d], merged ones: merge.py); past is a
        list of (key, value) [batch, kv_heads, past, head_dim]. Returns (logits, presents). Positions are
        computed in the graph from position_ids, so the export has no table that bounds the context."""
        x = self.embed_tokens(input_ids) if embeds is None else embeds
        b, s = x.shape[:2]
        device = x.device
        past_len = 0 if past is None else past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(b, past_len + s, dtype=torch.long, device=device)
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + s, device=device)[None].expand(b, s)
        total = attention_mask.shape[1]
        rows = torch.arange(s, device=device)[:, None] + (total - s)
        cols = torch.arange(total, device=device)[None, :]
        allowed = (cols <= rows)[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(~allowed, -1e9)
        freqs = position_ids[..., None].float() * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)[:, None]  # [b, 1, s, head_dim]
        cos, sin = emb.cos(), emb.sin()
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (None, None) if past is None else past[i]
            x, present = layer(x, cos.to(x.dtype), sin.to(x.dtype), bias, pk, pv)
            presents.append(present)
        x = self.norm(x)
        # Tied head as a 2-D linear: exports as Gemm(transB) over the embedding's own initializer.
        logits = F.linear(x.reshape(b * s, -1), self.embed_tokens.weight).reshape(b, s, -1)
        return logits, presents

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
