// A tokenizer's vocabulary packed for the inference worker (tokenizer/tokenTable.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packTokenTable, unpackTokenTable } from '../../language-server/src/tokenizer/tokenTable';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { tokenizerPath } from '../../scripts/lib/testTokenizers';

test('packed and unpacked, every token has its bytes and control flag', () => {
  for (const name of ['tessera-tiny', 'llama2', 'deepseek-style']) {
    const tok = Tokenizer.fromFile(tokenizerPath(name));
    const packed = packTokenTable(tok);
    // What crosses to the worker is plain arrays (structured clone copies them as they are).
    const table = unpackTokenTable(structuredClone(packed));
    assert.equal(table.vocabSize, tok.vocabSize, name);
    for (let id = 0; id < tok.vocabSize; id++) {
      assert.deepEqual(table.tokenBytes(id), tok.tokenBytes(id), `${name} ${id}`);
      assert.equal(table.isControl(id), tok.isControl(id), `${name} ${id}`);
    }
  }
});
