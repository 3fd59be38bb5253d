// Cutting a KV cache back to its first `length` positions, so a new prompt re-runs only what follows
// the longest prefix it shares with the cached sequence.
import type { Tensor } from 'onnxruntime-node';
import type { KvCache, SessionLayout } from './session';

type TensorCtor = typeof import('onnxruntime-node').Tensor;

export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** A cache holding the first `length` positions of `cache` (copies; the old tensors stay valid). */
export function truncateCache(TensorClass: TensorCtor, layout: SessionLayout, cache: KvCache, length: number): KvCache {
  if (length >= cache.length) return cache;
  const tensors = cache.tensors.map((t) => cut(TensorClass, layout, t, cache.length, length));
  return { length, tensors };
}

function cut(TensorClass: TensorCtor, layout: SessionLayout, t: Tensor, total: number, length: number): Tensor {
  const data = t.data as Float32Array | Uint16Array;
  if (layout.cache === 'fused') {
    // [batch, past, 2 * head_dim]: positions are the outer axis, the first `length` rows are contiguous.
    const row = t.dims[2]!;
    return new TensorClass(t.type as 'float32', data.slice(0, length * row) as Float32Array, [t.dims[0]!, length, row]);
  }
  // [batch, heads, past, head_dim]: each head keeps its first `length` rows.
  const [b, h, , d] = t.dims as [number, number, number, number];
  const out = new (data.constructor as Float32ArrayConstructor)(b * h * length * d);
  for (let k = 0; k < b * h; k++) out.set(data.subarray(k * total * d, k * total * d + length * d), k * length * d);
  return new TensorClass(t.type as 'float32', out, [b, h, length, d]);
}
