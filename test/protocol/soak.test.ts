// A typing replay against the real server with the Token Lens on: a real source file typed key by key
// (with a backspace now and then), each keystroke followed by what the editor asks — an inline
// completion, the lens's tokens for the visible lines, now and then the count. Resident memory is
// read at the start, halfway and at the end; the second half must not grow as a leak would.
//   TESSERA_SOAK_KEYSTROKES=… sets the length (default 400; `npm run test:soak` types 20,000).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TokensResult } from '../../language-server/src/lsp_ext';
import { Tokenizer } from '../../language-server/src/tokenizer/tokenizer';
import { repoRoot } from '../../scripts/lib/repoRoot';
import { processUse, readyServer, stopAll } from './lspClient';

const keystrokes = Number(process.env.TESSERA_SOAK_KEYSTROKES ?? 400);
after(stopAll);

test(`soak: ${keystrokes} keystrokes typed with completions and the lens on; memory flat, tokens exact`, async (t) => {
  const server = await readyServer();

  // The text to type: real code, as long as needed (the file again from the top when it runs out).
  const source = readFileSync(join(repoRoot, 'language-server', 'src', 'completion', 'service.ts'), 'utf8');
  const uri = 'file:///soak/service.ts';
  let text = '';
  let version = 1;
  await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version, text } });
  const position = (offset: number) => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length - 1;
    return { line, character: offset - (before.lastIndexOf('\n') + 1) };
  };
  const edit = async (start: number, end: number, insert: string) => {
    const range = { start: position(start), end: position(end) };
    text = text.slice(0, start) + insert + text.slice(end);
    await server.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: ++version },
      contentChanges: [{ range, text: insert }],
    });
  };

  const samples: Array<[number, number]> = [];
  let shown = 0;
  for (let k = 0, at = 0; k < keystrokes; k++) {
    if (k % 97 === 96 && text.length > 0)
      await edit(text.length - 1, text.length, ''); // a backspace
    else {
      await edit(text.length, text.length, source[at % source.length]!);
      at++;
    }
    const items = (await server.connection.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri },
      position: position(text.length),
      context: { triggerKind: 2 },
    })) as unknown[] | null;
    if (items?.length) shown++;
    await server.connection.sendRequest('tessera/tokens', { uri, ranges: [[Math.max(0, text.length - 3000), text.length]] });
    if (k % 25 === 0) await server.connection.sendRequest('tessera/count', { uri });
    if (k === 50 || k === Math.floor(keystrokes / 2) || k === keystrokes - 1) samples.push([k, processUse(server.proc.pid!).rssMB]);
  }
  t.diagnostic(
    `${keystrokes} keystrokes, ${shown} completions shown; RSS ${samples.map(([k, mb]) => `${mb.toFixed(0)} MB at ${k}`).join(', ')}`,
  );
  const [, start] = samples[0]!;
  const [, half] = samples[1]!;
  const [, end] = samples[2]!;
  // Flat: the second half grows less than the cache's own bound (≈ 20 MB here) plus a margin, whatever its length.
  assert.ok(
    end - half < 64,
    `RSS grew ${(end - half).toFixed(0)} MB in the second half (${start.toFixed(0)} → ${half.toFixed(0)} → ${end.toFixed(0)})`,
  );
  // And the lens still holds the exact tokens of the final text.
  const tokens = (await server.connection.sendRequest('tessera/tokens', { uri, ranges: [[0, text.length]] })) as TokensResult;
  const tokenizer = Tokenizer.fromFile(join(repoRoot, 'models', 'tessera-tiny', 'tokenizer.json'));
  assert.deepEqual(tokens.ids, tokenizer.encodeIds(text));
});
