"""Fine-tunes the default model to read merged identifiers (merge.py), and exports it with `token_group`:

    /usr/bin/python3 models/recipe/train_merge.py --out DIR [--steps 1200]
    /usr/bin/python3 models/recipe/train_merge.py --out DIR --export models/tessera-tiny --prompt-ids JSON

Starts from the shipped fp32 export's weights (graph.state_dict_of), so it needs no checkpoint of the
original run. Each row is a window of the token files; identifiers before a random cut are merged (as in
a prompt: the context merged, what follows generated unmerged), so the model keeps reading unmerged
input too (a cut at 0 is a plain row). Positions are capped at --seq, so merged rows carry more code.
Checkpoints to DIR/checkpoint.pt and resumes; logs to DIR/log.jsonl.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F

import graph
from merge import Merge, grouping, identifier_runs, merged_reference, word_classes
from model import Config, Decoder
from onnx_export import check, write_json
from train import Corpus, batch, lr_at

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, '..', 'tessera-tiny')


def merged_rows(x, y, classes, rng, seq: int, plain_rate: float):
    """Per row: token ids, group, rank and per-position labels (the token after each group's last
    token), cut to `seq` positions and padded to the longest row (group -1, label -100)."""
    start, cont = classes
    rows = []
    for ids, nxt in zip(x.numpy(), y.numpy()):
        cut = 0 if rng.random() < plain_rate else int(rng.integers(0, len(ids) + 1))
        runs = [r for r in identifier_runs(ids, start, cont) if r[1] < cut]
        group, rank, _ = grouping(len(ids), runs)
        keep = group < seq
        group, rank = group[keep], rank[keep]
        positions = int(group[-1]) + 1
        labels = np.full(positions, -100, dtype=np.int64)
        labels[group] = nxt[:len(group)]  # the last token of a group writes last: its successor
        rows.append((ids[:len(group)], group, rank, labels))
    n = max(len(r[0]) for r in rows)
    s = max(len(r[3]) for r in rows)
    ids = np.zeros((len(rows), n), dtype=np.int64)
    group = np.full((len(rows), n), -1, dtype=np.int64)
    rank = np.zeros((len(rows), n), dtype=np.int64)
    labels = np.full((len(rows), s), -100, dtype=np.int64)
    for i, (a, g, r, lab) in enumerate(rows):
        ids[i, :len(a)], group[i, :len(g)], rank[i, :len(r)], labels[i, :len(lab)] = a, g, r, lab
    return [torch.from_numpy(t) for t in (ids, group, rank, labels)], s


def forward(model, merge, ids, group, rank, positions):
    embeds = merge(model.embed_tokens(ids), group, rank, positions)
    logits, _ = model(None, embeds=embeds)
    return logits


@torch.no_grad()
def target_loss(model, merge, corpus, classes, budget: int, target: int, count: int, merged: bool, seed=7):
    """Nats per token of `target` unmerged tokens after a context of at most `budget` positions (merged
    identifiers or not) on held-out files: what merging buys at a fixed position budget."""
    model.eval()
    rng = np.random.default_rng(seed)
    nats, n = 0.0, 0
    for _ in range(count):
        d = corpus.random_doc(rng)
        _, cstart, end, _ = corpus.docs[d]
        if end - cstart < 3 * budget:
            continue
        at = int(rng.integers(cstart + 2 * budget, end - target))
        ctx = corpus.tokens[at - 2 * budget:at]
        tail = corpus.tokens[at:at + target]
        runs = identifier_runs(ctx, *classes) if merged else []
        group, rank, positions = grouping(len(ctx), runs)
        first = int(np.searchsorted(group, positions - budget))  # earliest token whose position fits
        ctx, group, rank = ctx[first:], group[first:] - group[first], rank[first:]
        ids = np.concatenate([ctx, tail[:-1]])
        group = np.concatenate([group, group[-1] + 1 + np.arange(target - 1)])
        rank = np.concatenate([rank, np.zeros(target - 1, dtype=np.int64)])
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a))[None]
        logits = forward(model, merge, t(ids), t(group), t(rank), int(group[-1]) + 1)
        loss = F.cross_entropy(logits[0, -target:].float(), torch.from_numpy(tail.astype(np.int64)), reduction='sum')
        nats += float(loss)
        n += target
    model.train()
    return nats / max(1, n)


def load(out_dir: str, c: Config):
    model, merge = Decoder(c), Merge(c.d_model)
    ckpt = os.path.join(out_dir, 'checkpoint.pt')
    ck = torch.load(ckpt) if os.path.exists(ckpt) else None
    if ck:
        model.load_state_dict(ck['model'])
        merge.load_state_dict(ck['merge'])
    else:
        model.load_state_dict(graph.state_dict_of(onnx.load(os.path.join(MODEL_DIR, 'onnx', 'model.onnx')), c))
    return model, merge, ck


def export(model, merge, c: Config, out: str, prompt_ids):
    """DIR/onnx/model_merging.onnx (fp32; an off-by-default feature ships in one precision) and
    DIR/merge_reference.json: torch's logits for the prompt with its identifiers merged."""
    model.eval()
    proto = graph.build(model, rope_positions=4096, merge=merge)
    check(proto)
    onnx.save(proto, os.path.join(out, 'onnx', 'model_merging.onnx'))
    classes = word_classes(os.path.join(out, 'tokenizer.json'), c.vocab_size)
    group, _, _ = grouping(len(prompt_ids), identifier_runs(np.asarray(prompt_ids), *classes))
    write_json(os.path.join(out, 'merge_reference.json'), merged_reference(model, merge, prompt_ids, group))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--corpus', default=os.path.expanduser(os.environ.get('TESSERA_CORPUS_DIR', '~/.cache/tessera/corpus')))
    p.add_argument('--out', required=True)
    p.add_argument('--steps', type=int, default=1200)
    p.add_argument('--seq', type=int, default=512)
    p.add_argument('--tokens', type=int, default=640, help='tokens per row before merging')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--lr', type=float, default=3e-4, help='the model weights (already trained: a tenth of training peak)')
    p.add_argument('--merge-lr', type=float, default=1e-2)
    p.add_argument('--plain-rate', type=float, default=0.2)
    p.add_argument('--fim-rate', type=float, default=0.5)
    p.add_argument('--save-every', type=int, default=100)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--export', help='write the merging export into this model folder and stop')
    p.add_argument('--prompt-ids', help='JSON token ids for merge_reference.json (with --export)')
    args = p.parse_args()
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(MODEL_DIR, 'config.json')) as f:
        hf = json.load(f)
    c = Config(vocab_size=hf['vocab_size'], d_model=hf['hidden_size'], n_layers=hf['num_hidden_layers'],
               n_heads=hf['num_attention_heads'], n_kv_heads=hf['num_key_value_heads'], d_ff=hf['intermediate_size'])
    model, merge, ck = load(args.out, c)
    if args.export:
        export(model, merge, c, args.export, json.loads(args.prompt_ids))
        return
    classes = word_classes(os.path.join(MODEL_DIR, 'tokenizer.json'), c.vocab_size)
    train, valid = Corpus(args.corpus, 'train'), Corpus(args.corpus, 'valid')
    decay = [q for q in model.parameters() if q.dim() >= 2]
    no_decay = [q for q in model.parameters() if q.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1, 'lr_scale': 1.0},
                             {'params': no_decay, 'weight_decay': 0.0, 'lr_scale': 1.0},
                             {'params': list(merge.parameters()), 'weight_decay': 0.0, 'lr_scale': args.merge_lr / args.lr}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    step, elapsed = 0, 0.0
    if ck:
        opt.load_state_dict(ck['opt'])
        step, elapsed = ck['step'], ck['elapsed']
    rng = np.random.default_rng(args.seed + step)
    log = open(os.path.join(args.out, 'log.jsonl'), 'a')

    def evaluate():
        return {f'{name}_nats_per_token': target_loss(model, merge, valid, classes, 256, 64, 80, merged)
                for name, merged in (('plain', False), ('merged', True))}

    if step == 0:
        rec = {'step': 0, **evaluate()}
        log.write(json.dumps(rec) + '\n')
        print(json.dumps(rec), flush=True)
    model.train()
    t_last, window = time.time(), []
    while step < args.steps:
        lr = lr_at(step, args.steps, args.lr, 50)
        for g in opt.param_groups:
            g['lr'] = lr * g['lr_scale']
        x, y = batch(train, rng, args.batch, args.tokens, args.fim_rate)
        (ids, group, rank, labels), positions = merged_rows(x, y, classes, rng, args.seq, args.plain_rate)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            logits = forward(model, merge, ids, group, rank, positions)
        loss = F.cross_entropy(logits.float().reshape(-1, c.vocab_size), labels.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([*model.parameters(), *merge.parameters()], 1.0)
        opt.step()
        step += 1
        window.append(float(loss))
        now = time.time()
        elapsed += now - t_last
        t_last = now
        if step % 50 == 0 or step == args.steps:
            rec = {'step': step, 'elapsed_s': round(elapsed, 1), 'lr': lr, 'train_loss': sum(window) / len(window)}
            window = []
            if step % 400 == 0 or step == args.steps:
                rec.update(evaluate())
                t_last = time.time()
            log.write(json.dumps(rec) + '\n')
            log.flush()
            print(json.dumps(rec), flush=True)
        if step % args.save_every == 0 or step == args.steps:
            tmp = os.path.join(args.out, 'checkpoint.pt.tmp')
            torch.save({'model': model.state_dict(), 'merge': merge.state_dict(), 'opt': opt.state_dict(), 'step': step,
                        'elapsed': elapsed, 'config': c.to_dict(), 'args': vars(args)}, tmp)
            os.replace(tmp, os.path.join(args.out, 'checkpoint.pt'))


if __name__ == '__main__':
    main()
