// The machine a measurement ran on, printed with every result: speed depends on the CPU's vector units.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  /** The vector extensions onnxruntime's kernels choose between (Linux; empty elsewhere). */
  vector: string[];
  node: string;
}

export function machine(): Machine {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    // not Linux: the CPU's name is all there is
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    vector: ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_tile'].filter((f) => flags.includes(` ${f}`)),
    node: process.version,
  };
}

export function describeMachine(m: Machine): string {
  return `${m.cpu} (${m.vector.join(', ') || 'no AVX2'}), ${m.cores} cores, Node ${m.node}`;
}
