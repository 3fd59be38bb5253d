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
  return selectPositions(TensorClass, layout, cache, length, []);
}

/**
 * A cache of the first `past` positions of `cache` followed by the positions past + rows[i] (the branch
 * of a draft tree that was accepted), in that order. Copies; the old tensors stay valid.
 */
export function selectPositions(
  TensorClass: TensorCtor,
  layout: SessionLayout,
  cache: KvCache,
  past: number,
  rows: readonly number[],
): KvCache {
  for (const r of rows)
    if (!(r >= 0 && past + r < cache.length)) throw new Error(`position ${past + r} is not in the cache (${cache.length})`);
  const length = past + rows.length;
  const tensors = cache.tensors.map((t) => gather(TensorClass, layout, t, cache.length, past, rows));
  return { length, tensors };
}

function gather(TensorClass: TensorCtor, layout: SessionLayout, t: Tensor, total: number, past: number, rows: readonly number[]): Tensor {
  const data = t.data as Float32Array | Uint16Array;
  const length = past + rows.length;
  // fused [batch, past, 2 * head_dim]: positions are the outer axis (one block of `total` rows);
  // split [batch, heads, past, head_dim]: one block of `total` rows per head.
  const fused = layout.cache === 'fused';
  const d = fused ? t.dims[2]! : t.dims[3]!;
  const blocks = fused ? t.dims[0]! : t.dims[0]! * t.dims[1]!;
  const out = new (data.constructor as Float32ArrayConstructor)(blocks * length * d);
  for (let k = 0; k < blocks; k++) {
    const from = k * total * d;
    const to = k * length * d;
    out.set(data.subarray(from, from + past * d), to);
    rows.forEach((r, i) => {
      out.set(data.subarray(from + (past + r) * d, from + (past + r + 1) * d), to + (past + i) * d);
    });
  }
  const dims = fused ? [t.dims[0]!, length, d] : [t.dims[0]!, t.dims[1]!, length, d];
  return new TensorClass(t.type as 'float32', out, dims);
}
