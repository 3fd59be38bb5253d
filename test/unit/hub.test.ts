// Downloads from the Hub, against a stand-in on 127.0.0.1 that speaks the Hub's documented endpoints
// (scripts/lib/hubStandIn.ts; the real Hub cannot be reached from here), serving real model folders.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkRepoPath, hubCacheDir, repoFolder } from '../../language-server/src/hub/cacheLayout';
import { HubError } from '../../language-server/src/hub/hubApi';
import { offline } from '../../language-server/src/hub/http';
import { installedModels, resolveModelArg } from '../../language-server/src/hub/installed';
import { withBlobLock } from '../../language-server/src/hub/blobFetch';
import { checkDisk, filesFor, pullModel } from '../../language-server/src/hub/pull';
import { openModelFolder } from '../../language-server/src/model/folder';
import { HubStandIn } from '../../scripts/lib/hubStandIn';
import { defaultModel, fixtures } from '../support/models';

const qwen = join(fixtures, 'tiny-gqa-qwen2');
const variants = join(fixtures, 'tiny-gqa-qwen2-variants');
const external = join(fixtures, 'tiny-gqa-qwen2-external');
const small = (dir: string) => ({
  'config.json': join(dir, 'config.json'),
  'generation_config.json': join(dir, 'generation_config.json'),
  'tokenizer.json': join(dir, 'tokenizer.json'),
  'tokenizer_config.json': join(dir, 'tokenizer_config.json'),
});
/** A repo in onnx-community's layout with several precisions. */
const coder = {
  id: 'onnx-community/tiny-coder',
  files: {
    ...small(qwen),
    'README.md': join(defaultModel, 'README.md'),
    'onnx/model.onnx': join(qwen, 'onnx', 'model.onnx'),
    'onnx/model_int8.onnx': join(variants, 'onnx', 'model_int8.onnx'),
    'onnx/model_q4.onnx': join(variants, 'onnx', 'model_q4.onnx'),
    'onnx/model_fp16.onnx': join(variants, 'onnx', 'model_fp16.onnx'),
  },
};
const hub = new HubStandIn([
  coder,
  {
    id: 'onnx-community/tiny-external',
    files: {
      ...small(external),
      'onnx/model.onnx': join(external, 'onnx', 'model.onnx'),
      'onnx/model.onnx_data': join(external, 'onnx', 'model.onnx_data'),
    },
  },
  { id: 'gated-org/tiny-gated', files: { ...small(qwen), 'onnx/model.onnx': join(qwen, 'onnx', 'model.onnx') }, gated: true },
  {
    id: 'new-org/tiny-renamed',
    files: { ...small(qwen), 'onnx/model.onnx': join(qwen, 'onnx', 'model.onnx') },
    formerly: ['old-org/tiny-renamed'],
  },
  { id: 'other/no-onnx', files: small(qwen) },
]);
let endpoint = '';
const dirs: string[] = [];
const freshCache = () => {
  const d = mkdtempSync(join(tmpdir(), 'tessera-hub-'));
  dirs.push(d);
  return d;
};
before(async () => {
  endpoint = await hub.start();
});
after(async () => {
  await hub.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const since = (n: number) => hub.log.slice(n);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('the cache is found where huggingface_hub looks for it', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' }), '/a');
  assert.equal(hubCacheDir({ HF_HOME: '/b' }), '/b/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
  assert.equal(repoFolder('/c', 'onnx-community/Qwen2.5-Coder-1.5B'), '/c/models--onnx-community--Qwen2.5-Coder-1.5B');
  for (const bad of ['../x', 'a/../../b', '/etc/passwd', 'a//b', 'a\\b', '.']) assert.throws(() => checkRepoPath(bad), /will not write/);
  assert.throws(() => repoFolder('/c', '../etc'), /not a Hugging Face repo id/);
});

test('one precision: only its decoder and the small files a model needs', () => {
  const files = Object.keys(coder.files);
  assert.deepEqual(filesFor(files, 'int8')?.files, [
    'config.json',
    'generation_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'onnx/model_int8.onnx',
  ]);
  assert.equal(filesFor(files, 'q4f16'), undefined);
  assert.deepEqual(filesFor(['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_q4.onnx'], 'fp32')?.files, [
    'config.json',
    'onnx/model.onnx',
    'onnx/model.onnx_data',
  ]);
});

test('a pull fetches one precision into the cache laid out as huggingface_hub lays it', async () => {
  const cache = freshCache();
  const n = hub.log.length;
  const r = await pullModel({ repo: coder.id, precision: 'int8', cache, access: { endpoint } });
  const commit = hub.commitOf(coder.id);
  const folder = repoFolder(cache, coder.id);
  assert.equal(r.commit, commit);
  assert.equal(r.dir, join(folder, 'snapshots', commit));
  const fetched = since(n).filter((e) => e.method === 'GET' && !e.path.startsWith('/api/'));
  const asked = since(n)
    .filter((e) => e.path.includes('/resolve/'))
    .map((e) => e.path.split(`/resolve/${commit}/`)[1]);
  assert.deepEqual([...new Set(asked)].sort(), [
    'config.json',
    'generation_config.json',
    'onnx/model_int8.onnx',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.ok(!since(n).some((e) => /model_q4|model_fp16|model\.onnx|README/.test(e.path)), 'no other precision, no README');
  assert.equal(fetched.filter((e) => e.path.startsWith('/cdn/')).length, 2, 'the ONNX file and tokenizer.json from the CDN (LFS)');
  // blobs/ named by the LFS sha256 or the git blob sha1; snapshots/ relative links into them; refs/main.
  assert.equal(readFileSync(join(folder, 'refs', 'main'), 'utf8'), commit);
  const onnx = join(r.dir, 'onnx', 'model_int8.onnx');
  const digest = sha256(coder.files['onnx/model_int8.onnx']);
  assert.ok(lstatSync(onnx).isSymbolicLink());
  assert.equal(readlinkSync(onnx), `../../../blobs/${digest}`);
  const gitSha = createHash('sha1')
    .update(`blob ${readFileSync(coder.files['config.json']).length}\0`)
    .update(readFileSync(coder.files['config.json']))
    .digest('hex');
  assert.equal(readlinkSync(join(r.dir, 'config.json')), `../../blobs/${gitSha}`);
  assert.deepEqual(readdirSync(join(folder, 'blobs')).sort().length, 5);
  assert.ok(!readdirSync(join(folder, 'blobs')).some((b) => b.endsWith('.incomplete')));
  assert.deepEqual(readFileSync(onnx), readFileSync(coder.files['onnx/model_int8.onnx']));
  // A model folder Tessera opens, listed as installed, and named by its repo id.
  assert.equal(openModelFolder(r.dir, 'int8').onnxPath, onnx);
  const listed = installedModels(cache);
  assert.deepEqual(
    listed.map((m) => [m.name, m.precisions]),
    [[coder.id, ['int8']]],
  );
  assert.equal(resolveModelArg(coder.id, cache), r.dir);
  assert.throws(() => resolveModelArg('onnx-community/not-here', cache), /tessera models pull onnx-community\/not-here/);
  // A second precision shares the small files' blobs and fetches only its decoder.
  const m = hub.log.length;
  const q4 = await pullModel({ repo: coder.id, precision: 'q4', cache, access: { endpoint } });
  assert.deepEqual(
    since(m)
      .filter((e) => e.method === 'GET' && !e.path.startsWith('/api/'))
      .map((e) => e.path.startsWith('/cdn/')),
    [true],
  );
  assert.equal(q4.fetchedBytes, readFileSync(coder.files['onnx/model_q4.onnx']).length);
  assert.deepEqual(installedModels(cache)[0]!.precisions, ['int8', 'q4']);
});

test('a connection dropped mid-file resumes with Range and ends with the right bytes', async () => {
  const cache = freshCache();
  hub.dropOnce('onnx/model_q4.onnx', 100_000);
  const n = hub.log.length;
  const retries: string[] = [];
  const r = await pullModel({ repo: coder.id, precision: 'q4', cache, access: { endpoint }, onRetry: (f) => retries.push(f) });
  assert.deepEqual(retries, ['onnx/model_q4.onnx']);
  const ranged = since(n).filter((e) => e.path.startsWith('/cdn/') && e.range);
  assert.deepEqual(
    ranged.map((e) => [e.range, e.status]),
    [['bytes=100000-', 206]],
  );
  assert.equal(sha256(join(r.dir, 'onnx', 'model_q4.onnx')), sha256(coder.files['onnx/model_q4.onnx']));
});

test('a cancelled pull keeps its part; the next one resumes it', async () => {
  const cache = freshCache();
  const abort = new AbortController();
  hub.dropOnce('onnx/model.onnx', 200_000); // the first attempt stops there, and the pull is cancelled
  let seen = 0;
  await assert.rejects(
    pullModel({
      repo: coder.id,
      precision: 'fp32',
      cache,
      access: { endpoint, signal: abort.signal },
      onRetry: () => abort.abort(),
      onProgress: (p) => (seen = p.bytes),
    }),
    /cancelled/,
  );
  assert.ok(seen > 0);
  const folder = repoFolder(cache, coder.id);
  assert.ok(readdirSync(join(folder, 'blobs')).some((b) => b.endsWith('.incomplete')));
  assert.ok(!existsSync(join(folder, 'snapshots')), 'nothing enters snapshots/ before every file is checked');
  const n = hub.log.length;
  const r = await pullModel({ repo: coder.id, precision: 'fp32', cache, access: { endpoint } });
  assert.ok(since(n).some((e) => e.range === 'bytes=200000-'));
  assert.equal(sha256(join(r.dir, 'onnx', 'model.onnx')), sha256(coder.files['onnx/model.onnx']));
});

test('a corrupted byte is refused: the part is deleted and nothing enters snapshots/', async () => {
  const cache = freshCache();
  hub.corruptOnce('onnx/model_int8.onnx');
  await assert.rejects(pullModel({ repo: coder.id, precision: 'int8', cache, access: { endpoint } }), (err: unknown) => {
    assert.ok(err instanceof HubError && err.kind === 'corrupt', String(err));
    assert.match(err.message, /do not match the Hub's hash.*deleted/);
    return true;
  });
  const folder = repoFolder(cache, coder.id);
  assert.ok(!readdirSync(join(folder, 'blobs')).some((b) => b.includes(sha256(coder.files['onnx/model_int8.onnx']))));
  assert.ok(!existsSync(join(folder, 'snapshots')));
  await pullModel({ repo: coder.id, precision: 'int8', cache, access: { endpoint } });
});

test('external data comes with its decoder', async () => {
  const r = await pullModel({ repo: 'onnx-community/tiny-external', precision: 'fp32', cache: freshCache(), access: { endpoint } });
  assert.deepEqual(r.files.slice(-2), ['onnx/model.onnx', 'onnx/model.onnx_data']);
  assert.ok(existsSync(join(r.dir, 'onnx', 'model.onnx_data')));
});

test('missing, gated, renamed repos and a missing precision each say what to do', async () => {
  const cache = freshCache();
  const fails = async (p: Promise<unknown>, kind: string, message: RegExp) =>
    assert.rejects(p, (err: unknown) => err instanceof HubError && err.kind === kind && message.test(err.message));
  await fails(
    pullModel({ repo: 'nobody/nothing', precision: 'int8', cache, access: { endpoint } }),
    'repo-not-found',
    /not found.*check the name.*private/,
  );
  await fails(
    pullModel({ repo: 'gated-org/tiny-gated', precision: 'fp32', cache, access: { endpoint } }),
    'gated',
    /gated: accept its conditions.*set a Hugging Face token/,
  );
  await fails(
    pullModel({ repo: 'gated-org/tiny-gated', precision: 'fp32', cache, access: { endpoint, token: 'hf_wrong' } }),
    'gated',
    /no access yet/,
  );
  await fails(
    pullModel({ repo: coder.id, precision: 'int8', cache, access: { endpoint, token: 'not-a-token' } }),
    'unauthorized',
    /refused the token: set a new one/,
  );
  const ok = await pullModel({ repo: 'gated-org/tiny-gated', precision: 'fp32', cache, access: { endpoint, token: 'hf_standin_token' } });
  assert.ok(existsSync(join(ok.dir, 'onnx', 'model.onnx')));
  await fails(
    pullModel({ repo: coder.id, precision: 'q4f16', cache, access: { endpoint } }),
    'no-decoder',
    /no q4f16 ONNX decoder; it offers fp32, int8, q4, fp16/,
  );
  await fails(pullModel({ repo: 'other/no-onnx', precision: 'fp32', cache, access: { endpoint } }), 'no-decoder', /no ONNX decoder at all/);
  await fails(
    pullModel({ repo: coder.id, precision: 'int8', revision: 'v9', cache, access: { endpoint } }),
    'revision-not-found',
    /no revision "v9"/,
  );
  const renamed = await pullModel({ repo: 'old-org/tiny-renamed', precision: 'fp32', cache, access: { endpoint } });
  assert.equal(renamed.repo, 'new-org/tiny-renamed');
  assert.ok(renamed.dir.startsWith(repoFolder(cache, 'new-org/tiny-renamed')));
  await assert.rejects(pullModel({ repo: coder.id, precision: 'int8', cache, access: { endpoint: 'http://10.0.0.1' } }), /only https/);
});

test('offline as huggingface_hub reads it: HF_HUB_OFFLINE, else TRANSFORMERS_OFFLINE', () => {
  for (const v of ['1', 'ON', 'yes', 'True']) assert.ok(offline({ HF_HUB_OFFLINE: v }), v);
  for (const v of ['0', 'off', '', 'no']) assert.ok(!offline({ HF_HUB_OFFLINE: v }), v);
  assert.ok(offline({ TRANSFORMERS_OFFLINE: '1' }));
  assert.ok(!offline({ HF_HUB_OFFLINE: '0', TRANSFORMERS_OFFLINE: '1' }), 'HF_HUB_OFFLINE decides when set');
});

test('HF_HUB_OFFLINE: no request at all, installed models still resolve', async () => {
  const cache = freshCache();
  const r = await pullModel({ repo: coder.id, precision: 'int8', cache, access: { endpoint } });
  const n = hub.log.length;
  process.env.HF_HUB_OFFLINE = '1';
  try {
    await assert.rejects(pullModel({ repo: coder.id, precision: 'q4', cache, access: { endpoint } }), /HF_HUB_OFFLINE/);
    assert.equal(hub.log.length, n);
    assert.equal(resolveModelArg(coder.id, cache), r.dir);
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
});

test('a download the disk cannot hold is refused before a byte; two pulls never write one part at once', async () => {
  const cache = freshCache();
  assert.throws(
    () => checkDisk(cache, 1e18),
    (err: unknown) => err instanceof HubError && err.kind === 'disk' && /needs .* free/.test(err.message),
  );
  checkDisk(cache, 1);
  const lock = join(cache, '.locks', 'models--a--b', 'etag.lock');
  await withBlobLock(lock, async () => assert.equal(readFileSync(lock, 'utf8'), String(process.pid)));
  // A lock held by a live process (this test's parent stands in for another pull): refused.
  writeFileSync(lock, String(process.ppid));
  await assert.rejects(
    withBlobLock(lock, async () => 1),
    /another download of this file is running/,
  );
  // Left by a process that is gone, or empty as huggingface_hub leaves its own: taken over, released after.
  for (const left of ['999999999', '']) {
    writeFileSync(lock, left);
    assert.equal(await withBlobLock(lock, async () => 2), 2);
    assert.ok(!existsSync(lock));
  }
});
