"""Trains the default model on the pre-tokenized corpus, with fill-in-the-middle in both orders.

    /usr/bin/python3 models/recipe/train.py --out DIR [--steps N] [--d-model 128 --layers 6 ...]
    /usr/bin/python3 models/recipe/train.py --out DIR --bench 20     (tokens/s of a config, no training)

Checkpoints to DIR/checkpoint.pt every --save-every steps (atomically) and resumes from it; logs JSON
lines to DIR/log.jsonl (elapsed_s: wall time, cpu_s: CPU time of all threads). On 2 cores, other heavy
work costs training 3-5x: pause it meanwhile (kill -STOP / -CONT). Changing the thread count of a
running process is no help: measured, it left training 3x slower until restarted.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import Config, Decoder

EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FILE_SEP = 0, 1, 2, 3, 4


class Corpus:
    """Token stream + per-document (start, content start, end, content bytes)."""

    def __init__(self, directory: str, split: str):
        self.tokens = np.fromfile(os.path.join(directory, f'{split}.tokens.u16'), dtype=np.uint16).astype(np.int64)
        self.docs = np.fromfile(os.path.join(directory, f'{split}.docs.i32'), dtype=np.int32).reshape(-1, 4).astype(np.int64)
        lengths = self.docs[:, 2] - self.docs[:, 1]
        self.cumulative = np.cumsum(lengths)

    def random_doc(self, rng) -> int:
        """A document chosen with probability proportional to its length."""
        return int(np.searchsorted(self.cumulative, rng.integers(self.cumulative[-1]), side='right'))


def fim_segment(header, window, rng, spm: bool):
    """One FIM example from a window of content: the middle is a short span (1-256 tokens, log-uniform:
    completions are mostly a line or a few), prefix and suffix are what surrounds it in the window."""
    w = len(window)
    m = int(math.exp(rng.uniform(0, math.log(max(2, min(w // 2, 256))))))
    a = int(rng.integers(0, w - m + 1))
    pre, mid, suf = window[:a], window[a:a + m], window[a + m:]
    if spm:  # SPM as StarCoder/Codestral write it: prefix and middle adjacent, the cursor last
        parts = [header, [FIM_PREFIX, FIM_SUFFIX], suf, [FIM_MIDDLE], pre, mid, [EOT]]
    else:
        parts = [header, [FIM_PREFIX], pre, [FIM_SUFFIX], suf, [FIM_MIDDLE], mid, [EOT]]
    return np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]), len(header) + (len(suf) + 3 + len(pre) if spm else len(pre) + len(suf) + 3), m


def segment(corpus: Corpus, rng, seq: int, fim_rate: float):
    d = corpus.random_doc(rng)
    start, cstart, end, _ = corpus.docs[d]
    header = corpus.tokens[start:cstart]
    content = corpus.tokens[cstart:end]
    room = seq - len(header) - 4
    if len(content) >= 8 and room >= 16 and rng.random() < fim_rate:
        w = min(len(content), int(rng.integers(min(64, room), room + 1)))
        ws = int(rng.integers(0, len(content) - w + 1))
        return fim_segment(header, content[ws:ws + w], rng, spm=rng.random() < 0.5)[0]
    ws = 0 if rng.random() < 0.25 else int(rng.integers(0, max(1, len(content) - 16)))
    chunk = content[ws:ws + seq]
    tail = [EOT] if ws + seq >= len(content) else []
    return np.concatenate([header, chunk, np.asarray(tail, dtype=np.int64)])


def batch(corpus: Corpus, rng, batch_size: int, seq: int, fim_rate: float):
    rows = []
    for _ in range(batch_size):
        parts, n = [], 0
        while n < seq + 1:
            s = segment(corpus, rng, seq, fim_rate)
            parts.append(s)
            n += len(s)
        rows.append(np.concatenate(parts)[:seq + 1])
    t = torch.from_numpy(np.stack(rows))
    return t[:, :-1], t[:, 1:]


@torch.no_grad()
def bits_per_byte(model, corpus: Corpus, seq: int, max_docs=None):
    """Held-out loss on whole files (content tokens only, the header is context), in bits per UTF-8 byte."""
    model.eval()
    nats, nbytes, ntokens = 0.0, 0, 0
    docs = corpus.docs if max_docs is None else corpus.docs[:max_docs]
    for start, cstart, end, cbytes in docs:
        toks = torch.from_numpy(corpus.tokens[start:end])
        for s in range(0, len(toks) - 1, seq):
            x = toks[s:s + seq][None]
            y = toks[s + 1:s + seq + 1][None]
            n = y.shape[1]
            x = x[:, :n]
            with torch.autocast('cpu', dtype=torch.bfloat16):
                logits, _ = model(x)
            loss = F.cross_entropy(logits.float()[0], y[0], reduction='none')
            target_pos = torch.arange(s + 1, s + 1 + n) + start
            keep = target_pos >= cstart
            nats += float(loss[keep].sum())
            ntokens += int(keep.sum())
        nbytes += int(cbytes)
    model.train()
    return nats / math.log(2) / nbytes, nats / max(1, ntokens)


@torch.no_grad()
def fim_middle_loss(model, corpus: Corpus, seq: int, token_bytes, count=200, seed=1234):
    """Loss on the middle (and its end-of-text) of fixed FIM examples cut from held-out files."""
    model.eval()
    rng = np.random.default_rng(seed)
    out = {}
    for spm in (False, True):
        r = np.random.default_rng(seed)
        nats, ntok, nbytes = 0.0, 0, 0
        for _ in range(count):
            d = corpus.random_doc(r)
            start, cstart, end, _ = corpus.docs[d]
            header, content = corpus.tokens[start:cstart], corpus.tokens[cstart:end]
            if len(content) < 16:
                continue
            w = min(len(content), seq - len(header) - 4)
            ws = int(r.integers(0, len(content) - w + 1))
            toks, mid_start, m = fim_segment(header, content[ws:ws + w], r, spm)
            x = torch.from_numpy(toks[:-1])[None]
            y = torch.from_numpy(toks[1:])
            with torch.autocast('cpu', dtype=torch.bfloat16):
                logits, _ = model(x)
            loss = F.cross_entropy(logits.float()[0], y, reduction='none')
            # targets at positions >= mid_start are the middle tokens and the end-of-text
            nats += float(loss[mid_start - 1:].sum())
            ntok += m + 1
            nbytes += int(token_bytes[toks[mid_start:mid_start + m]].sum())
        out['spm' if spm else 'psm'] = {'nats_per_token': nats / ntok, 'bits_per_byte': nats / math.log(2) / max(1, nbytes)}
    del rng
    model.train()
    return out


def token_byte_lengths(tokenizer_path: str, vocab_size: int):
    """UTF-8 length of each token (byte-level alphabet: one char = one byte); specials count 0."""
    with open(tokenizer_path) as f:
        tok = json.load(f)
    lengths = np.zeros(vocab_size, dtype=np.int64)
    for token, i in tok['model']['vocab'].items():
        lengths[i] = len(token)
    for added in tok.get('added_tokens', []):
        lengths[added['id']] = 0
    return lengths


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--corpus', default=os.path.expanduser(os.environ.get('TESSERA_CORPUS_DIR', '~/.cache/tessera/corpus')))
    p.add_argument('--tokenizer', default=os.path.join(os.path.dirname(__file__), '..', 'tessera-tiny', 'tokenizer.json'))
    p.add_argument('--out', required=True)
    p.add_argument('--d-model', type=int, default=128)
    p.add_argument('--layers', type=int, default=6)
    p.add_argument('--heads', type=int, default=4)
    p.add_argument('--d-ff', type=int, default=384)
    p.add_argument('--seq', type=int, default=512)
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--steps', type=int, default=11000)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--warmup', type=int, default=200)
    p.add_argument('--fim-rate', type=float, default=0.5)
    p.add_argument('--save-every', type=int, default=200)
    p.add_argument('--eval-every', type=int, default=1000)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--bench', type=int, default=0, help='time this many steps and exit')
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()

    os.makedirs(args.out, exist_ok=True)
    # As the model grows confident, softmax produces subnormal floats, and x86 computes on those
    # ~100x slower: measured, training slowed from 0.5 to 1.3 s/step. Flush them to zero, before the
    # thread pool exists (the flag is per thread; new threads copy it from their creator), and after.
    torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    train, valid = Corpus(args.corpus, 'train'), Corpus(args.corpus, 'valid')
    config = Config(d_model=args.d_model, n_layers=args.layers, n_heads=args.heads, n_kv_heads=args.heads, d_ff=args.d_ff)
    model = Decoder(config)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    token_bytes = token_byte_lengths(args.tokenizer, config.vocab_size)
    ckpt_path = os.path.join(args.out, 'checkpoint.pt')
    step, tokens_seen, elapsed, cpu = 0, 0, 0.0, 0.0
    rng = np.random.default_rng(args.seed)
    if os.path.exists(ckpt_path) and not args.bench:
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, tokens_seen, elapsed, cpu = ck['step'], ck['tokens'], ck['elapsed'], ck.get('cpu', 0.0)
        rng = np.random.default_rng(args.seed + step)  # a fresh, reproducible stream after a resume
        print(f'resumed at step {step}', flush=True)
    print(f'params {model.num_params():,} ({json.dumps(config.to_dict())})', flush=True)
    log = open(os.path.join(args.out, 'log.jsonl'), 'a')
    model.train()
    window_loss, window_n, t_last, c_last = 0.0, 0, time.time(), time.process_time()
    bench_start = None
    total = args.bench or args.steps
    while step < total:
        if args.bench and step == 2:
            bench_start = time.time()
        lr = lr_at(step, args.steps, args.lr, args.warmup)
        for g in opt.param_groups:
            g['lr'] = lr
        x, y = batch(train, rng, args.batch, args.seq, args.fim_rate)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            logits, _ = model(x)
        loss = F.cross_entropy(logits.float().view(-1, config.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens_seen += x.numel()
        window_loss += float(loss)
        window_n += 1
        now, cnow = time.time(), time.process_time()
        elapsed += now - t_last
        cpu += cnow - c_last
        t_last, c_last = now, cnow
        if args.bench:
            continue
        if step % 50 == 0:
            rec = {'step': step, 'tokens': tokens_seen, 'elapsed_s': round(elapsed, 1), 'cpu_s': round(cpu, 1), 'lr': lr,
                   'train_loss': window_loss / window_n, 'tok_per_s': round(tokens_seen / elapsed),
                   'threads': torch.get_num_threads()}
            window_loss, window_n = 0.0, 0
            if step % args.eval_every == 0 or step == args.steps:
                bpb, nats = bits_per_byte(model, valid, args.seq, None if step == args.steps else 60)
                rec.update({'valid_bits_per_byte': bpb, 'valid_nats_per_token': nats, 'valid_docs': 'all' if step == args.steps else 60})
                rec['fim_middle'] = fim_middle_loss(model, valid, args.seq, token_bytes, count=200 if step == args.steps else 60)
                t_last, c_last = time.time(), time.process_time()  # evaluation time is not training time
            log.write(json.dumps(rec) + '\n')
            log.flush()
            print(json.dumps(rec), flush=True)
        if step % args.save_every == 0 or step == args.steps:
            tmp = ckpt_path + '.tmp'
            torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'tokens': tokens_seen,
                        'elapsed': elapsed, 'cpu': cpu, 'config': config.to_dict(), 'args': vars(args)}, tmp)
            os.replace(tmp, ckpt_path)
    if args.bench:
        dt = time.time() - bench_start
        print(json.dumps({'params': model.num_params(), 'tok_per_s': round((args.bench - 2) * args.batch * args.seq / dt),
                          'config': config.to_dict()}), flush=True)


if __name__ == '__main__':
    main()
