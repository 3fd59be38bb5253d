import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCount } from '../../extension/src/lens/countView';
import { RECENT_CRASH_MS, renderStatus } from '../../extension/src/statusModel';

const ok = { state: 'ok' as const, message: 'Ready (ONNX Runtime 1.30.0)' };

test('starting, then ready once the server reports its health', () => {
  assert.equal(renderStatus({ phase: 'starting', now: 0 }).label, 'Tessera: starting');
  assert.equal(renderStatus({ phase: 'running', now: 0 }).label, 'Tessera: starting');
  const ready = renderStatus({ phase: 'running', health: ok, now: 0 });
  assert.equal(ready.label, 'Tessera: ready');
  assert.equal(ready.severity, 'normal');
  assert.match(ready.tooltip, /ONNX Runtime 1\.30\.0/);
});

test('a recovered crash says "restarted" for a while, and the tooltip keeps it', () => {
  const lastCrash = { at: 1_000, crashes: 1, limit: 5 };
  const soon = renderStatus({ phase: 'running', health: ok, lastCrash, now: 2_000 });
  assert.equal(soon.label, 'Tessera: ready (restarted)');
  assert.match(soon.text, /restarted/);
  assert.match(soon.tooltip, /crashed at .* and was restarted \(1 of 5/);
  const later = renderStatus({ phase: 'running', health: ok, lastCrash, now: 1_000 + RECENT_CRASH_MS + 1 });
  assert.equal(later.label, 'Tessera: ready');
  assert.match(later.tooltip, /was restarted/);
});

test('restarting and failed are flagged with their reason', () => {
  const restarting = renderStatus({ phase: 'restarting', now: 0 });
  assert.equal(restarting.severity, 'warning');
  assert.equal(restarting.label, 'Tessera: restarting');
  const failed = renderStatus({ phase: 'failed', failure: 'the server crashed 6 times in 180 s and was not restarted', now: 0 });
  assert.equal(failed.severity, 'error');
  assert.equal(failed.label, 'Tessera: error: the server crashed 6 times in 180 s and was not restarted');
  assert.match(failed.tooltip, /Click to restart/);
});

test('server health warnings and errors are shown as such', () => {
  const warn = renderStatus({ phase: 'running', health: { state: 'warning', message: 'ONNX Runtime unavailable' }, now: 0 });
  assert.equal(warn.severity, 'warning');
  assert.equal(warn.label, 'Tessera: warning: ONNX Runtime unavailable');
  const err = renderStatus({ phase: 'running', health: { state: 'error', message: 'model is corrupt' }, now: 0 });
  assert.equal(err.severity, 'error');
  assert.equal(err.label, 'Tessera: error: model is corrupt');
});

test('the token count item: tokens and characters per token, or why there is no count', () => {
  const base = { version: 1, tokenizer: 'starcoder2', characters: 216, selection: false };
  const view = renderCount({ ...base, tokens: 59 });
  assert.equal(view.text, '$(symbol-numeric) 59 tokens · 3.66 ch/tok');
  assert.equal(view.label, 'Tessera: 59 tokens, 3.66 characters per token');
  assert.match(view.tooltip, /59 starcoder2 tokens in the file: 216 characters/);
  const none = renderCount({ ...base, tokens: 0, unavailable: 'the file is 50.0 M characters, over the 8 MB limit' });
  assert.equal(none.text, '$(symbol-numeric) — tokens');
  assert.match(none.tooltip, /over the 8 MB limit/);
});

test('after a completion the status bar names the model and its latency; the tooltip its cost', () => {
  const lastCompletion = {
    uri: 'file:///a.ts',
    model: 'tessera-tiny',
    latencyMs: 18.4,
    tokens: 12,
    prefillTokens: 2,
    reusedTokens: 300,
    confidence: 0.41,
    shown: true,
  };
  const v = renderStatus({ phase: 'running', health: { ...ok, detail: 'llama, 6 layers; FIM: tessera (SPM)' }, lastCompletion, now: 0 });
  assert.equal(v.text, '$(check) Tessera tessera-tiny 18 ms');
  assert.equal(v.label, 'Tessera: ready');
  assert.match(v.tooltip, /FIM: tessera \(SPM\)/);
  assert.match(v.tooltip, /18 ms, 12 tokens \(2 prompt tokens run, 300 from the cache\), confidence 0\.41/);
  const healed = renderStatus({
    phase: 'running',
    health: ok,
    lastCompletion: { ...lastCompletion, healing: 'exact' as const, canonical: false },
    now: 0,
  });
  assert.match(healed.tooltip, /started inside a word \(exact byte-level prompting\); its tokens are not the canonical encoding/);
  const held = renderStatus({
    phase: 'running',
    health: ok,
    lastCompletion: { ...lastCompletion, shown: false, reason: 'confidence 0.12 below 0.2' },
    now: 0,
  });
  assert.match(held.tooltip, /not shown: confidence 0\.12 below 0\.2/);
});

test('typing through a completion: the tooltip says the rest came with no model run', () => {
  const info = {
    uri: 'file:///a.ts',
    model: 'tessera-tiny',
    latencyMs: 0.2,
    tokens: 0,
    prefillTokens: 0,
    reusedTokens: 0,
    confidence: 1,
    shown: true,
    typedThrough: true,
  };
  const v = renderStatus({ phase: 'running', health: { state: 'ok', message: 'Ready' }, lastCompletion: info, now: 0 });
  assert.match(v.tooltip, /the rest of the one before, which you are typing \(no model run\)/);
});
