"""AST-aware subtoken merging (Saad et al. 2025, adapted to a decoder): the subtokens of one identifier
in the context are pooled into one position, so a 512-position model reads more code. What the model
generates stays unmerged: a merged position predicts the first token after its identifier.

The pooling is learned (the mean of the subtokens is its starting point, all parameters zero):
    x_n   = embed(token_n) + slot[rank_n]     rank_n: place in its group, capped at SLOTS-1; slot[0] = 0
    w_n   = softmax over its group of (x_n . query)
    pos_s = sum_n w_n x_n  +  marker * [group s has more than one token]
A group of one token is its embedding exactly (rank 0, weight 1, no marker): unmerged inputs give what
the plain model gives. graph.py builds the same arithmetic into the `token_group` export.
"""
import json

import numpy as np
import torch
from torch import nn

SLOTS = 8


class Merge(nn.Module):
    def __init__(self, d_model: int):
        super().__init__()
        self.slot = nn.Parameter(torch.zeros(SLOTS - 1, d_model))  # ranks 1..7; rank 0 adds nothing
        self.query = nn.Parameter(torch.zeros(d_model))
        self.marker = nn.Parameter(torch.zeros(d_model))

    def slot_table(self):
        return torch.cat((torch.zeros_like(self.slot[:1]), self.slot), 0)

    def forward(self, embeds, group, rank, positions: int):
        """embeds [b, n, d] of the tokens; group [b, n]: the position each token pools into (-1: none);
        rank [b, n]: its place in the group. Returns [b, positions, d]."""
        x = embeds + self.slot_table()[rank.clamp(0, SLOTS - 1)].to(embeds.dtype)
        m = (group[:, None, :] == torch.arange(positions, device=group.device)[None, :, None]).to(x.dtype)
        score = (x @ self.query.to(x.dtype))[:, None, :]  # [b, 1, n]
        gmax = (score * m + (1 - m) * -1e9).amax(-1, keepdim=True)
        w = torch.exp((score - gmax).clamp(max=0)) * m
        w = w / w.sum(-1, keepdim=True).clamp_min(1e-30)
        count = m.sum(-1, keepdim=True)
        return w @ x + (count > 1).to(x.dtype) * self.marker.to(x.dtype)


def ranks_of(group):
    """Each token's place in its group (group non-decreasing)."""
    group = np.asarray(group, dtype=np.int64)
    starts = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(group)), 0))
    return np.arange(len(group)) - first


@torch.no_grad()
def merged_reference(model, merge, ids, group):
    """What the tests hold a token_group export to: torch's logits per position for `ids` pooled by
    `group` (argmax, logsumexp and every 97th logit of each position)."""
    t = lambda a: torch.from_numpy(np.asarray(a, dtype=np.int64))[None]
    positions = int(group[-1]) + 1
    logits, _ = model(None, embeds=merge(model.embed_tokens(t(ids)), t(group), t(ranks_of(group)), positions))
    probe = list(range(0, logits.shape[-1], 97))
    return {'prompt': [int(i) for i in ids], 'group': [int(g) for g in group], 'probe_ids': probe,
            'positions': [{'argmax': int(r.argmax()), 'logsumexp': float(torch.logsumexp(r, 0)), 'probe': [float(r[i]) for i in probe]}
                          for r in logits[0]]}


def word_classes(tokenizer_path: str, vocab_size: int):
    """Per token id: can it start an identifier (optional leading space, then a word), and can it continue
    one (word characters only, no space)? Byte-level alphabet: 'Ġ' is a space."""
    with open(tokenizer_path) as f:
        vocab = json.load(f)['model']['vocab']
    start = np.zeros(vocab_size, dtype=bool)
    cont = np.zeros(vocab_size, dtype=bool)
    for text, i in vocab.items():
        if i >= vocab_size:
            continue
        body = text[1:] if text.startswith('Ġ') else text
        word = body != '' and all(ch.isascii() and (ch.isalnum() or ch in '_$') for ch in body)
        start[i] = word and not body[0].isdigit()
        cont[i] = word and not text.startswith('Ġ')
    return start, cont


def identifier_runs(tokens, start, cont, max_len=SLOTS):
    """(first, last) token indices of multi-token identifiers: a token that can start one, not glued to a
    word before it, followed by continuation tokens. Runs longer than max_len are left unmerged."""
    runs = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        glued = i > 0 and cont[tokens[i - 1]] and cont[t]
        if start[t] and not glued:
            j = i + 1
            while j < n and cont[tokens[j]]:
                j += 1
            if 2 <= j - i <= max_len:
                runs.append((i, j - 1))
            i = j
        else:
            i += 1
    return runs


def grouping(n: int, runs):
    """`runs` merged: (group [n], rank [n], positions). A merged run's tokens share the position of its
    first token."""
    rank = np.zeros(n, dtype=np.int64)
    merged = np.zeros(n, dtype=bool)
    for a, b in runs:
        merged[a + 1:b + 1] = True
        rank[a:b + 1] = np.arange(b - a + 1)
    group = np.cumsum(~merged) - 1
    return group, rank, int(group[-1]) + 1 if n else 0
