// Builds llama-server (once, cached) and the embedded model's GGUF, then prints where they are as one
// line of JSON: {"binary": …, "gguf": …, "seconds": …}. npm test runs it in the background while the
// checks and the unit tests run.   node scripts/buildLlamaServer.mjs
import { fileURLToPath } from 'node:url';
import { embeddedGguf, ensureLlamaServer } from './lib/llamaServer.mjs';

const started = Date.now();
const root = fileURLToPath(new URL('..', import.meta.url));
const binary = ensureLlamaServer();
const gguf = embeddedGguf(root);
process.stdout.write(`${JSON.stringify({ binary, gguf, seconds: (Date.now() - started) / 1000 })}\n`);
