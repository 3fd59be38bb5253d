import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { declaredSettings, settingsSnapshot } from '../../extension/src/settingsSnapshot';
import { DEFAULT_SETTINGS, readSettings } from '../../language-server/src/settings';
import { repoRoot } from '../../scripts/lib/repoRoot';

test('completion and model settings: defaults for what is missing or malformed, ~ expanded', () => {
  assert.deepEqual(readSettings(undefined).completion, DEFAULT_SETTINGS.completion);
  assert.deepEqual(readSettings({}).model, { path: '', precision: 'fp32', threads: 0, optimize: true });
  assert.equal(readSettings({ model: { optimize: false } }).model.optimize, false);
  const s = readSettings({
    model: { path: ' ~/models/coder ', precision: 'quantized', threads: 99 },
    completion: {
      maxTokens: 10_000,
      minConfidence: 2,
      fimOrder: 'sideways',
      temperature: -1,
      topP: 0,
      tokenHealing: false,
      fimTemplate: 'starcoder2',
    },
  });
  assert.deepEqual(s.model, { path: `${homedir()}/models/coder`, precision: 'quantized', threads: 16, optimize: true });
  assert.equal(s.completion.maxTokens, 512);
  assert.equal(s.completion.minConfidence, DEFAULT_SETTINGS.completion.minConfidence);
  assert.equal(s.completion.fimOrder, 'auto');
  assert.equal(s.completion.temperature, 0);
  assert.equal(s.completion.topP, DEFAULT_SETTINGS.completion.topP);
  assert.equal(s.completion.healing, 'off', 'the earlier boolean still turns healing off');
  assert.equal(readSettings({ completion: { healing: 'exact', tokenHealing: false } }).completion.healing, 'exact');
  assert.equal(readSettings({ completion: { healing: 'sideways' } }).completion.healing, DEFAULT_SETTINGS.completion.healing);
  assert.equal(s.completion.fimTemplate, 'starcoder2');
});

test("package.json declares every setting the server reads, with the server's defaults", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
  };
  const declared = pkg.contributes.configuration.properties;
  const keys = declaredSettings(pkg);
  // What the client sends when nothing is set: each declared default, nested as VS Code nests it.
  const sent = settingsSnapshot(keys, (key) => declared[`tessera.${key}`]!.default);
  assert.deepEqual(readSettings(sent), DEFAULT_SETTINGS);
  // Each of the server's settings, leaf by leaf, is declared with the same default.
  const leaves = (o: object, path: string[] = []): Array<[string, unknown]> =>
    Object.entries(o).flatMap(([k, v]) =>
      v && typeof v === 'object' && !Array.isArray(v) ? leaves(v, [...path, k]) : [[[...path, k].join('.'), v] as [string, unknown]],
    );
  for (const [key, value] of leaves(DEFAULT_SETTINGS)) {
    assert.ok(`tessera.${key}` in declared, `package.json does not declare tessera.${key}`);
    assert.deepEqual(declared[`tessera.${key}`]!.default, value, `tessera.${key}`);
  }
  const serverKeys = new Set(leaves(DEFAULT_SETTINGS).map(([k]) => k));
  // The rest are the client's own, and the boolean tokenHealing the server still reads (legacy).
  assert.deepEqual(keys.filter((k) => !serverKeys.has(k)).sort(), [
    'completion.tokenHealing',
    'lens.whitespaceGlyphs',
    'server.logLevel',
    'server.restartLimit',
    'server.restartWindowSeconds',
    'trace.server',
  ]);
});

test('the settings snapshot nests dotted keys and leaves out what is unset', () => {
  const values: Record<string, unknown> = { tokenizer: 'x', 'tokens.maxFileMB': 2, 'completion.topP': 0.5, 'model.path': undefined };
  assert.deepEqual(
    settingsSnapshot(Object.keys(values), (k) => values[k]),
    { tokenizer: 'x', tokens: { maxFileMB: 2 }, completion: { topP: 0.5 } },
  );
  assert.deepEqual(declaredSettings({ contributes: { configuration: { properties: { 'tessera.a.b': {}, 'other.c': {} } } } }), ['a.b']);
  assert.deepEqual(declaredSettings({}), []);
});

test('docs/settings.md lists every declared setting with its default; settings that load content are restricted in untrusted workspaces', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown; scope?: string }> } };
    capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  };
  const page = readFileSync(join(repoRoot, 'docs', 'settings.md'), 'utf8');
  for (const [key, p] of Object.entries(pkg.contributes.configuration.properties)) {
    const row = page.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row, `docs/settings.md has no row for ${key}`);
    assert.ok(
      row.includes(`\`${JSON.stringify(p.default)}\``),
      `${key}: the default in docs/settings.md is not ${JSON.stringify(p.default)}`,
    );
  }
  const restricted = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
  for (const key of ['tessera.model.path', 'tessera.hub.endpoint', 'tessera.tokenizer']) assert.ok(restricted.includes(key), key);
  assert.equal(pkg.contributes.configuration.properties['tessera.hub.endpoint']!.scope, 'application');
});
