// How many threads a model's products get: `tessera.model.threads`, or with 0 ("auto") one for the
// embedded model (its products are too small to share: bench/llamacpp) and the physical cores for the
// rest (two threads decode a 0.5B model 1.35-1.8x faster than one here: bench/results/llamacpp.txt).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Physical cores: logical CPUs over the hardware threads per core that /proc/cpuinfo reports. */
export function physicalCores(cpuinfo = readCpuinfo(), logical = availableParallelism()): number {
  const siblings = Number(/^siblings\s*:\s*(\d+)/m.exec(cpuinfo)?.[1]);
  const cores = Number(/^cpu cores\s*:\s*(\d+)/m.exec(cpuinfo)?.[1]);
  const perCore = siblings > 0 && cores > 0 ? Math.max(1, Math.round(siblings / cores)) : 1;
  return Math.max(1, Math.min(16, Math.floor(logical / perCore)));
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

export function threadsFor(setting: number, embedded: boolean): number {
  return setting > 0 ? setting : embedded ? 1 : physicalCores();
}
