// Blockwise symmetric quantization of a weight matrix into MatMulNBits' layout (onnxruntime's contrib
// operator): B is [N, blocks, block·bits/8] bytes, each column's K weights cut into blocks along K, each
// block with one scale = max|w| / (2^(bits-1) - 1) and the implied zero point 2^(bits-1); 4-bit values
// are packed two to a byte, the lower K index in the low nibble.

export interface Quantized {
  packed: Uint8Array;
  scales: Float32Array;
  blocks: number;
}

/** `w` is [K, N] row-major (a MatMul's B as exporters store it). K must be a multiple of `block`. */
export function quantizeBlockwise(w: Float32Array, K: number, N: number, bits: 4 | 8, block: number): Quantized {
  if (K % block !== 0) throw new Error(`K=${K} is not a multiple of the block size ${block}`);
  const blocks = K / block;
  const qmax = 2 ** (bits - 1) - 1;
  const zero = 2 ** (bits - 1);
  const top = 2 ** bits - 1;
  const blob = (block * bits) / 8;
  const packed = new Uint8Array(N * blocks * blob);
  const scales = new Float32Array(N * blocks);
  const column = new Float32Array(block);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let i = 0; i < block; i++) {
        const v = w[(b * block + i) * N + n]!;
        column[i] = v;
        const a = Math.abs(v);
        if (a > max) max = a;
      }
      const scale = max / qmax;
      scales[n * blocks + b] = scale;
      const inv = scale > 0 ? 1 / scale : 0;
      const base = (n * blocks + b) * blob;
      for (let i = 0; i < block; i++) {
        const q = Math.min(top, Math.max(0, Math.round(column[i]! * inv) + zero));
        if (bits === 8) packed[base + i] = q;
        else if (i % 2 === 0) packed[base + (i >> 1)] = q;
        else packed[base + (i >> 1)]! |= q << 4;
      }
    }
  }
  return { packed, scales, blocks };
}

/** The weight MatMulNBits computes from a quantized matrix, [K, N] row-major (for bounds and tests). */
export function dequantize(q: Quantized, K: number, N: number, bits: 4 | 8, block: number): Float32Array {
  const out = new Float32Array(K * N);
  const zero = 2 ** (bits - 1);
  const blob = (block * bits) / 8;
  for (let n = 0; n < N; n++)
    for (let b = 0; b < q.blocks; b++) {
      const scale = q.scales[n * q.blocks + b]!;
      const base = (n * q.blocks + b) * blob;
      for (let i = 0; i < block; i++) {
        const byte = bits === 8 ? q.packed[base + i]! : q.packed[base + (i >> 1)]!;
        const v = bits === 8 ? byte : i % 2 === 0 ? byte & 15 : byte >> 4;
        out[(b * block + i) * N + n] = (v - zero) * scale;
      }
    }
  return out;
}
