// Exact byte-level prompting (generation/exact.ts) on a handmade vocabulary and a model whose every
// probability is known: the covers' summed probability equals brute-force enumeration of token
// sequences, the next byte's distribution sums to one, and a word no token extends gives plain
// decoding's distribution.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CoverSet, END, exactStart, logSumExp } from '../../language-server/src/generation/exact';
import type { SequenceModel } from '../../language-server/src/generation/generate';
import { seededRandom } from '../../language-server/src/generation/processors';
import { coversOf } from '../../language-server/src/prompt/healing';
import { BYTE_TO_CHAR } from '../../language-server/src/tokenizer/byteLevel';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { vocabIndexOf } from '../../language-server/src/tokenizer/vocabIndex';

/** Byte-level BPE: the 256 byte symbols and a few merges of a, b, c; an end-of-text token. */
function tinyTokenizer(): Tokenizer {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((ch, b) => {
    vocab[ch] = b;
  });
  const merged = ['ab', 'bc', 'abc', 'ca', 'cab', 'bb', 'cc'];
  merged.forEach((t, i) => {
    vocab[t] = 256 + i;
  });
  const json = {
    version: '1.0',
    added_tokens: [
      { id: 263, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: 'BPE', vocab, merges: ['a b', 'b c', 'ab c', 'c a', 'ca b', 'b b', 'c c'] },
  };
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tiny-vocab-'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  return Tokenizer.fromFile(dir);
}

/** A model whose next-token log-probabilities are a fixed function of the sequence before them. */
function knownModel(vocab: number): SequenceModel & { logProbOf(seq: readonly number[], next: number): number } {
  const rowOf = (seq: readonly number[]): Float32Array => {
    let h = 2166136261;
    for (const id of seq) h = Math.imul(h ^ id, 16777619) >>> 0;
    const rand = seededRandom(h);
    const logits = Float32Array.from({ length: vocab }, () => (rand() - 0.5) * 6);
    let max = -Infinity;
    for (const x of logits) max = Math.max(max, x);
    let sum = 0;
    for (const x of logits) sum += Math.exp(x - max);
    const lse = max + Math.log(sum);
    return logits.map((x) => x - lse);
  };
  let ids: number[] = [];
  const rows = (from: number, to: number) => {
    const out = new Float32Array((to - from) * vocab);
    for (let p = from; p < to; p++) out.set(rowOf(ids.slice(0, p + 1)), (p - from) * vocab);
    return out;
  };
  return {
    logProbs: true,
    get length() {
      return ids.length;
    },
    async prefill(prompt) {
      ids = [...prompt];
      return { logits: rowOf(ids), ran: prompt.length, reused: 0 };
    },
    async step(id) {
      ids.push(id);
      return rowOf(ids);
    },
    async extend(more) {
      const from = ids.length;
      ids.push(...more);
      return rows(from, ids.length);
    },
    rewind(n) {
      ids.length = Math.min(ids.length, n);
    },
    logProbOf: (seq, next) => rowOf(seq)[next]!,
  };
}

const tok = tinyTokenizer();
const index = vocabIndexOf(tok);
const utf8 = new TextEncoder();
const EOT = 263;
const options = { stopIds: new Set([EOT]), suppressIds: [], expand: 264 };

/** Every canonical token sequence that covers `word`, by exhaustive search over consistent tokens. */
function bruteForceCovers(word: Uint8Array): number[][] {
  const out: number[][] = [];
  const search = (seq: number[], at: number) => {
    for (let t = 0; t < tok.vocabSize; t++) {
      if (tok.isControl(t)) continue;
      const b = tok.tokenBytes(t);
      let ok = true;
      for (let k = 0; k < b.length && at + k < word.length; k++) if (b[k] !== word[at + k]) ok = false;
      if (!ok) continue;
      const next = [...seq, t];
      if (at + b.length >= word.length) {
        if (JSON.stringify(tok.encodeFragment(tok.decode(next))) === JSON.stringify(next)) out.push(next);
      } else search(next, at + b.length);
    }
  };
  search([], 0);
  return out;
}

test('the probability of a word is the sum over its covers: equal to brute-force enumeration', async () => {
  const model = knownModel(tok.vocabSize);
  const prompt = tok.encodeIds('x = ');
  for (const word of ['abcab', 'cab', 'bbc', 'a', 'cc']) {
    const bytes = utf8.encode(word);
    const set = await CoverSet.of(model, tok, prompt, bytes, coversOf(tok, index, word), options);
    const brute = bruteForceCovers(bytes).map((seq) => {
      let lp = 0;
      seq.forEach((t, k) => {
        lp += model.logProbOf([...prompt, ...seq.slice(0, k)], t);
      });
      return lp;
    });
    assert.ok(brute.length > 0);
    assert.ok(Math.abs(set.wordLogProb - logSumExp(brute)) < 1e-5, `${word}: covers ${set.wordLogProb}, brute force ${logSumExp(brute)}`);
  }
});

test("the next byte's distribution sums to one, at every step of a choice", async () => {
  const model = knownModel(tok.vocabSize);
  const prompt = tok.encodeIds('y = ');
  const set = await CoverSet.of(model, tok, prompt, utf8.encode('ab'), coversOf(tok, index, 'ab'), options);
  for (let step = 0; step < 4 && !set.settled; step++) {
    const dist = await set.distribution();
    const total = [...dist.values()].reduce((s, lp) => s + Math.exp(lp), 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `step ${step}: ${total}`);
    let best = -1;
    for (const [b, lp] of dist) if (best < 0 || lp > dist.get(best)!) best = b;
    if (best === END) break;
    set.choose(best);
  }
});

test("a word no token extends: the distribution is plain decoding's, by first byte", async () => {
  const model = knownModel(tok.vocabSize);
  const prompt = tok.encodeIds('z = ');
  const x = tok.encodeIds('x')[0]!;
  assert.equal(index.startingWith(utf8.encode('x')).length, 1, 'only x itself starts with x');
  const set = await CoverSet.of(model, tok, prompt, utf8.encode('x'), coversOf(tok, index, 'x'), options);
  assert.equal(set.settled, true, 'one cover, on a boundary: nothing to choose');
  const dist = await set.distribution();
  // Plain decoding after the prompt and x: each token's probability, gathered by its first byte.
  const plain = new Map<number, number[]>();
  for (let t = 0; t < tok.vocabSize; t++) {
    const key = t === EOT ? END : tok.tokenBytes(t)[0]!;
    plain.set(key, [...(plain.get(key) ?? []), model.logProbOf([...prompt, x], t)]);
  }
  for (const [b, lps] of plain) assert.ok(Math.abs(dist.get(b)! - logSumExp(lps)) < 1e-6, `byte ${b}`);
  // And the start exact prompting chooses is x itself: decoding goes on as plain decoding would.
  const start = (await exactStart(model, tok, prompt, utf8.encode('x'), coversOf(tok, index, 'x'), options))!;
  assert.deepEqual(start.tokens, [x]);
  assert.equal(start.extra.length, 0);
});

test('greedy choice ends on one cover at a token boundary, its text starting with the word', async () => {
  const model = knownModel(tok.vocabSize);
  const prompt = tok.encodeIds('w = ');
  for (const word of ['abc', 'ca', 'b']) {
    const start = (await exactStart(model, tok, prompt, utf8.encode(word), coversOf(tok, index, word), options))!;
    const text = tok.decode(start.tokens);
    assert.ok(text.startsWith(word), `${word}: ${JSON.stringify(text)}`);
    assert.equal(text, word + new TextDecoder().decode(start.extra));
    assert.deepEqual(tok.encodeFragment(text).slice(0, start.tokens.length), start.tokens, 'a canonical start');
    assert.ok(start.logProb <= 1e-9, 'a conditional log-probability');
  }
});
