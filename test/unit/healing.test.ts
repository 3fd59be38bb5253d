// Completing from inside a word: which tokens leave the prompt (prompt/healing.ts), and token healing's
// constraint on what comes next (generation/healing.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healingConstraint } from '../../language-server/src/generation/healing';
import { allowedTokens, coversOf, lastWord, planHealing } from '../../language-server/src/prompt/healing';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { vocabIndexOf } from '../../language-server/src/tokenizer/vocabIndex';
import { TOKENIZER_NAMES, tokenizerPath } from '../../scripts/lib/testTokenizers';

const utf8 = new TextEncoder();
const load = (name: string) => Tokenizer.fromFile(tokenizerPath(name));

test("the last word: from the last pre-token boundary, spelled by the prefix's last tokens; never a line break", () => {
  const tok = load('tessera-tiny');
  const prefix = '    const n = console.lo';
  const ids = tok.encodeIds(prefix);
  const word = lastWord(tok, prefix, ids)!;
  assert.equal(word.text, 'lo');
  assert.equal(tok.decode(ids.slice(ids.length - word.tokens)), 'lo');
  assert.equal(lastWord(tok, 'x = 1\n', tok.encodeIds('x = 1\n')), undefined, 'a line break is never backed off');
  const long = `x = ${'a'.repeat(40)}`;
  assert.equal(lastWord(tok, long, tok.encodeIds(long)), undefined, 'longer than the limit: left alone');
  // SentencePiece has no pre-tokenizer: the word runs from the last space (its ▁ starts the word's first token).
  const spm = load('llama2');
  const s = 'int main() { return getVal';
  const w = lastWord(spm, s, spm.encodeIds(s))!;
  assert.equal(w.text, ' getVal');
});

test('control tokens are never backed off', () => {
  const tok = load('tessera-tiny');
  const ids = [...tok.encodeIds('const x = fo'), tok.id('<fim_middle>')!];
  // The text ends in 'fo', but the last token of the ids is a control token: nothing is planned.
  assert.equal(lastWord(tok, 'const x = fo', ids), undefined);
});

// For every tokenizer family the tests have: a cursor inside an identifier heals to the word.
for (const name of TOKENIZER_NAMES) {
  test(`${name}: a mid-identifier cursor heals to the word (heal and exact)`, () => {
    const tok = load(name);
    const index = vocabIndexOf(tok);
    const prefix = 'const nodes = document.getElementsByTagNa';
    const ids = tok.encodeIds(prefix);
    const heal = planHealing('heal', tok, index, prefix, ids)!;
    assert.ok(heal, 'a plan');
    const word = new TextDecoder().decode(heal.bytes);
    assert.ok('document.getElementsByTagNa'.endsWith(word.trimStart()) && word.length > 0, JSON.stringify(word));
    // The word's canonical tokens once completed ("…TagName"): each is allowed where it comes.
    const full = tok.encodeFragment(`${word}me`);
    let covered = 0;
    for (const id of full) {
      if (covered >= heal.bytes.length) break;
      assert.ok(heal.allowed![covered]!.includes(id), `${JSON.stringify(tok.token(id))} allowed after ${covered} bytes`);
      covered += tok.tokenBytes(id).length;
    }
    // Exact: that encoding's first tokens covering the word are one of the covers.
    const exact = planHealing('exact', tok, index, prefix, ids)!;
    let n = 0;
    let spelled = 0;
    while (spelled < heal.bytes.length) spelled += tok.tokenBytes(full[n++]!).length;
    const cover = full.slice(0, n);
    assert.ok(
      exact.covers!.some((g) => g.left.join() === cover.slice(0, -1).join() && g.tokens.includes(cover.at(-1)!)),
      `cover ${JSON.stringify(cover.map((id) => tok.token(id)))} found`,
    );
  });
}

test('allowed tokens: those starting with the rest, and those that are a prefix of it', () => {
  const tok = load('tessera-tiny');
  const index = vocabIndexOf(tok);
  const allowed = allowedTokens(index, utf8.encode('lo'));
  const texts = (ids: Int32Array) => [...ids].map((id) => tok.decode([id]));
  assert.ok(texts(allowed[0]!).includes('log') && texts(allowed[0]!).includes('l'), texts(allowed[0]!).slice(0, 20).join('|'));
  assert.ok(texts(allowed[0]!).every((t) => t.startsWith('lo') || 'lo'.startsWith(t)));
  assert.ok(texts(allowed[1]!).every((t) => t.startsWith('o')));
});

test('the constraint: only allowed tokens until the bytes are covered, then nothing', () => {
  const tok = load('tessera-tiny');
  const allowed = allowedTokens(vocabIndexOf(tok), utf8.encode('lo'));
  const constraint = healingConstraint(2, allowed, tok);
  const logits = new Float32Array(tok.vocabSize);
  constraint(logits, { generated: [] });
  const open = [...logits.keys()].filter((i) => logits[i] === 0);
  assert.deepEqual(
    open.sort((a, b) => a - b),
    [...allowed[0]!].sort((a, b) => a - b),
  );
  const afterL = new Float32Array(tok.vocabSize);
  constraint(afterL, { generated: [tok.id('l')!] });
  assert.ok([...afterL.keys()].filter((i) => afterL[i] === 0).every((i) => tok.decode([i]).startsWith('o')));
  const done = new Float32Array(tok.vocabSize);
  constraint(done, { generated: [tok.id('log')!] });
  assert.ok(
    done.every((x) => x === 0),
    'covered: the constraint lifts',
  );
});

test('covers are canonical: a split the tokenizer would never make is not one', () => {
  const tok = load('tessera-tiny');
  const groups = coversOf(tok, vocabIndexOf(tok), 'getElem');
  for (const g of groups) {
    for (const t of g.tokens) {
      const ids = [...g.left, t];
      assert.deepEqual(tok.encodeFragment(tok.decode(ids)), ids);
      assert.ok(tok.decode(ids).startsWith('getElem'));
    }
  }
  assert.ok(groups.length >= 2, 'the word can be split at several places');
});
