import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Command, parseArgs, UsageError } from '../../language-server/src/cli/command';
import { helpText, runCli } from '../../language-server/src/cli/run';

function capture() {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  return io;
}

const echo: Command = {
  name: 'echo',
  summary: 'Prints its arguments',
  usage: 'tessera echo [--json] [--times N] WORD...',
  async run(args, io) {
    const { flags, options, positionals } = parseArgs(args, { flags: ['json'], options: ['times'] });
    const times = Number(options.get('times') ?? '1');
    if (!Number.isInteger(times)) throw new UsageError('--times must be an integer');
    const words = Array.from({ length: times }, () => positionals).flat();
    io.out(flags.has('json') ? JSON.stringify(words) : words.join(' '));
    return 0;
  },
};

test('--help lists every command; no arguments prints it and fails', async () => {
  const io = capture();
  assert.equal(await runCli(['--help'], [echo], io), 0);
  assert.match(io.stdout, /echo\s+Prints its arguments/);
  assert.equal(helpText([echo]), io.stdout);
  assert.equal(await runCli([], [echo], capture()), 2);
});

test('a command runs with its flags and options', async () => {
  const io = capture();
  assert.equal(await runCli(['echo', '--times=2', 'a', '--json', 'b'], [echo], io), 0);
  assert.equal(io.stdout, '["a","b","a","b"]');
});

test('unknown commands and options are usage errors (exit 2) with a clear message', async () => {
  let io = capture();
  assert.equal(await runCli(['tokenz'], [echo], io), 2);
  assert.match(io.stderr, /unknown command 'tokenz'/);
  io = capture();
  assert.equal(await runCli(['echo', '--jsn'], [echo], io), 2);
  assert.match(io.stderr, /unknown option --jsn\nUsage: tessera echo/);
  io = capture();
  assert.equal(await runCli(['echo', '--times'], [echo], io), 2);
  assert.match(io.stderr, /--times needs a value/);
  io = capture();
  assert.equal(await runCli(['echo', '--times', 'x'], [echo], io), 2);
});

test('COMMAND --help prints its usage', async () => {
  const io = capture();
  assert.equal(await runCli(['echo', '--help'], [echo], io), 0);
  assert.match(io.stdout, /^Usage: tessera echo/);
});

test('parseArgs keeps everything after -- as positionals', () => {
  const parsed = parseArgs(['--json', '--', '--not-a-flag', 'x'], { flags: ['json'] });
  assert.deepEqual([...parsed.flags], ['json']);
  assert.deepEqual(parsed.positionals, ['--not-a-flag', 'x']);
  assert.throws(() => parseArgs(['--json=1'], { flags: ['json'] }), /takes no value/);
});
