import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliJs, root, serverJs } from './lspClient';

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const run = (file: string, args: string[]) => spawnSync(file, args, { encoding: 'utf8' });

test('the package bins are executable scripts', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.deepEqual(pkg.bin, { tessera: './dist/cli.js', 'tessera-lsp': './dist/server.js' });
  for (const file of [cliJs, serverJs]) assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('tessera --version and --help', () => {
  const v = run(cliJs, ['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout, `${version}\n`);
  const h = run(cliJs, ['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Usage:\n\s+tessera <command>/);
  assert.match(h.stdout, /\binfo\b/);
});

test('tessera info --json reports the runtime that loads here', () => {
  const r = run(cliJs, ['info', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { version: string; onnxruntime: { available: boolean; version: string } };
  assert.equal(info.version, version);
  assert.equal(info.onnxruntime.available, true);
  const human = run(cliJs, ['info']);
  assert.match(human.stdout, new RegExp(`^Tessera ${version.replace(/\./g, '\\.')}\\n`));
});

test('tessera with an unknown command exits 2 and says so', () => {
  const r = run(cliJs, ['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('tessera-lsp --version, --help, and no transport is an error', () => {
  assert.equal(run(serverJs, ['--version']).stdout, `${version}\n`);
  assert.match(run(serverJs, ['--help']).stdout, /--stdio/);
  const none = run(serverJs, []);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /choose a transport/);
});

test("tessera tokens without --tokenizer uses the default model's tokenizer", () => {
  const r = spawnSync(cliJs, ['tokens', '-', '--json'], { input: 'def f(x):\n    return x + 1\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokenizer: string; count: number; tokens: Array<{ text: string }> };
  assert.equal(out.tokenizer, 'tessera-tiny');
  assert.equal(out.tokens.map((t) => t.text).join(''), 'def f(x):\n    return x + 1\n');
});

test('tessera complete FILE --at LINE:COL --json: the embedded model completes at a 1-based position', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-complete-'));
  try {
    const file = join(dir, 'words.py');
    writeFileSync(file, 'def count_words(text):\n    words = text.split()\n    return len(\n');
    const r = spawnSync(cliJs, ['complete', file, '--at', '3:16', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['completion', 'tokens', 'confidence', 'prefillTokens', 'latencyMs']) assert.ok(key in out, `${key} in ${r.stdout}`);
    assert.equal(out.model, 'tessera-tiny');
    assert.ok((out.tokens as number) > 0 && (out.prefillTokens as number) > 10);
    assert.ok(typeof out.completion === 'string' && !(out.completion as string).includes('\n'), 'mid-line: one line');
    // Positions outside the file are usage errors; a folder that is not a model is named.
    const past = spawnSync(cliJs, ['complete', file, '--at', '9:1'], { encoding: 'utf8' });
    assert.equal(past.status, 2);
    assert.match(past.stderr, /line 9 is past the end of the file/);
    const bad = spawnSync(cliJs, ['complete', file, '--at', '1:1', '--model', dir], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /is not a usable model: no tokenizer\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tessera fim-check: spans of each kind filled in each mode, scored, deterministic for a seed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fim-'));
  try {
    const file = join(dir, 'shapes.ts');
    const body = Array.from(
      { length: 12 },
      (_, i) => `export function area${i}(w: number, h: number): number {\n  const a = w * h * ${i};\n  return a;\n}\n`,
    ).join('\n');
    writeFileSync(file, body);
    const args = ['fim-check', file, '--n', '2', '--seed', '5', '--json'];
    const r = run(cliJs, args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /fim-check: 18\/18 fills/);
    const report = JSON.parse(r.stdout) as {
      model: string;
      samples: Array<{ file: string; kind: string; start: number; end: number; expected: string; generated: Record<string, string> }>;
      summary: Record<string, { n: number; exactMatch: number; editSimilarity: number; parseRate: number; nonCanonical: number }>;
    };
    assert.equal(report.model, 'tessera-tiny');
    assert.deepEqual([...new Set(report.samples.map((s) => s.kind))], ['line', 'multiline', 'random']);
    const text = readFileSync(file, 'utf8');
    for (const s of report.samples) {
      assert.equal(s.expected, text.slice(s.start, s.end));
      assert.deepEqual(Object.keys(s.generated).sort(), ['exact', 'heal', 'off']);
    }
    for (const mode of ['off', 'heal', 'exact']) {
      const row = report.summary[mode]!;
      assert.equal(row.n, 6);
      for (const v of [row.exactMatch, row.editSimilarity, row.parseRate, row.nonCanonical]) assert.ok(v >= 0 && v <= 1);
    }
    // The fills are the model's text: something comes back, and some of it matches.
    assert.ok(report.summary.off!.editSimilarity > 0, JSON.stringify(report.summary.off));
    const again = JSON.parse(run(cliJs, args).stdout) as typeof report;
    assert.deepEqual(
      again.samples.map((s) => [s.start, s.end, s.generated]),
      report.samples.map((s) => [s.start, s.end, s.generated]),
    );
    assert.equal(run(cliJs, ['fim-check', file, '--modes', 'sideways']).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `tessera bench WHICH --cuts 2 --json` on a source file of this repository: its report, after exit 0. */
function benchReport<T>(which: string): T {
  const file = join(root, 'language-server', 'src', 'completion', 'service.ts');
  const r = spawnSync(cliJs, ['bench', which, file, '--cuts', '2', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

test('tessera bench speculative FILE --json: chains and trees on the file, the same tokens as plain greedy, faster per pass', () => {
  const report = benchReport<{
    prompts: number;
    identical: boolean;
    speedup: number;
    acceptedPerPass: number;
    modes: Array<{ name: string; tokensPerPass: number; identical: boolean }>;
    passCost: Array<{ tokens: number; ms: number }>;
  }>('speculative');
  assert.equal(report.prompts, 2);
  assert.equal(report.identical, true);
  assert.deepEqual(
    report.modes.map((m) => m.name),
    ['plain', 'chain 8', 'tree 3', 'tree 4', 'tree 6', 'tree 8', 'tree 12', 'tree 16', 'tree 24', 'auto'],
  );
  const tree = report.modes.find((m) => m.name === 'tree 24')!;
  assert.ok(tree.tokensPerPass > report.modes[0]!.tokensPerPass, `${tree.tokensPerPass} tokens per tree pass`);
  assert.ok(report.acceptedPerPass > 0 && Number.isFinite(report.speedup) && report.passCost.length > 3);
  const usage = spawnSync(cliJs, ['bench', 'speculative'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /which FILE/);
});

test('tessera bench merging FILE --json: identifiers merged into fewer positions, bits per byte at the same budget, finite logits', () => {
  const report = benchReport<{
    files: number;
    finite: boolean;
    budgets: Array<{ positions: number; cuts: number; plainTokens: number; mergedTokens: number; bitsPerByte: Record<string, number> }>;
    prefill: { tokens: number; positions: number };
    summary: { positionsSaved: number; prefillSpeedup: number; bitsPerByte: { merged: number; plain: number } };
  }>('merging');
  assert.equal(report.files, 1);
  assert.equal(report.finite, true);
  // TypeScript cut by an 8k vocabulary: many identifiers take several tokens.
  assert.ok(report.summary.positionsSaved > 0.03 && report.summary.positionsSaved < 0.5, `${report.summary.positionsSaved}`);
  for (const b of report.budgets) {
    assert.equal(b.cuts, 2);
    assert.ok(b.mergedTokens > b.plainTokens, `${b.positions} positions: ${b.mergedTokens} merged tokens, ${b.plainTokens} plain`);
    for (const x of Object.values(b.bitsPerByte)) assert.ok(x > 0 && x < 8, `${x} bits per byte`);
  }
  assert.ok(report.prefill.positions < report.prefill.tokens && Number.isFinite(report.summary.prefillSpeedup));
  const readme = join(root, 'README.md');
  const none = spawnSync(cliJs, ['bench', 'merging', readme], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no grammar for this language/);
});

test('a file that is not valid UTF-8: read as the editor shows it (U+FFFD), with a warning naming the first bad byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-utf8-'));
  try {
    const file = join(dir, 'latin1.py');
    const bytes = Buffer.concat([
      Buffer.from('def f():\n    s = "caf'),
      Buffer.from([0xe9, 0x22, 0x0a, 0xed, 0xa0, 0x80]),
      Buffer.from('\n    return s\n'),
    ]);
    writeFileSync(file, bytes);
    const tokens = spawnSync(cliJs, ['tokens', file, '--json'], { encoding: 'utf8' });
    assert.equal(tokens.status, 0, tokens.stderr);
    assert.match(tokens.stderr, /latin1\.py: not valid UTF-8 \(first at byte 21\); invalid bytes are read as U\+FFFD/);
    const decoded = new TextDecoder().decode(bytes);
    const out = JSON.parse(tokens.stdout) as { tokens: Array<{ end: number }> };
    assert.equal(out.tokens.at(-1)!.end, decoded.length, 'the tokens cover the text as decoded');
    const complete = spawnSync(cliJs, ['complete', file, '--at', '4:13', '--json'], { encoding: 'utf8' });
    assert.equal(complete.status, 0, complete.stderr);
    assert.ok('completion' in (JSON.parse(complete.stdout) as object));
    // Valid UTF-8 says nothing.
    writeFileSync(file, 'ok = "café"\n');
    assert.equal(spawnSync(cliJs, ['tokens', file], { encoding: 'utf8' }).stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
