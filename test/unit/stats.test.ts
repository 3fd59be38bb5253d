import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentStats, lineCount, utf8Length } from '../../language-server/src/documents/stats';
import { seededRandom } from '../../language-server/src/generation/processors';

test('utf8Length equals Buffer.byteLength on ASCII, BMP, astral and lone surrogates', () => {
  const samples = ['', 'abc', 'Führer', '日本語', 'a😀b', '\u{1F468}\u200D\u{1F469}', '\uD800', 'x\uDC00y', '\uD83D\uD83D', '\uFEFFhi\r\n'];
  for (const s of samples) assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
});

test('utf8Length matches Buffer.byteLength on random UTF-16 strings', () => {
  const rand = seededRandom(12345);
  const pools = [0x7f, 0x7ff, 0xffff, 0xd800, 0xdc00];
  for (let n = 0; n < 2000; n++) {
    let s = '';
    const len = Math.floor(rand() * 20);
    for (let i = 0; i < len; i++) {
      const pool = pools[Math.floor(rand() * pools.length)]!;
      const code = pool >= 0xd800 && pool <= 0xdc00 ? pool + Math.floor(rand() * 0x400) : Math.floor(rand() * pool);
      s += String.fromCharCode(code);
    }
    assert.equal(utf8Length(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
  }
});

test('lineCount counts \\n, \\r\\n and lone \\r as VS Code does', () => {
  assert.equal(lineCount(''), 1);
  assert.equal(lineCount('a'), 1);
  assert.equal(lineCount('a\n'), 2);
  assert.equal(lineCount('a\r\nb\r\n'), 3);
  assert.equal(lineCount('a\rb\nc'), 3);
  assert.equal(lineCount('\r\r\n\n'), 4);
});

test('documentStats reports both UTF-16 length and UTF-8 bytes', () => {
  assert.deepEqual(documentStats('file:///a.ts', 3, 'const s = "😀";\n'), {
    uri: 'file:///a.ts',
    version: 3,
    lines: 2,
    utf16Length: 16,
    utf8Bytes: 18,
  });
});
