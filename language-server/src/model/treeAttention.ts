// What a draft tree looks like to the attention: each node at the position its depth gives, seeing the
// cached sequence and its own ancestors only. Nodes come parent first (a node's parent has a lower index),
// so the attention's causal order never hides an ancestor and the bias only has to hide the rest.

/** A tree of tokens run after the cached sequence: node 0 is the root (parents[0] = -1). */
export interface TokenTree {
  ids: readonly number[];
  parents: readonly number[];
}

/** Depth of each node (the root: 0); throws unless every parent precedes its child. */
export function depthsOf(parents: readonly number[]): Int32Array {
  const depths = new Int32Array(parents.length);
  parents.forEach((p, i) => {
    if (i === 0 ? p !== -1 : !(p >= 0 && p < i)) throw new Error(`node ${i}'s parent ${p} does not precede it`);
    if (i > 0) depths[i] = depths[p]! + 1;
  });
  return depths;
}

/**
 * The additive attention bias of a tree run after `past` cached positions, row-major
 * [nodes, past + nodes]: 0 where a node may look (the cache, its ancestors, itself), -Infinity elsewhere.
 */
export function treeBias(parents: readonly number[], past: number): Float32Array {
  const n = parents.length;
  const total = past + n;
  const bias = new Float32Array(n * total);
  for (let i = 0; i < n; i++) {
    const row = bias.subarray(i * total + past, (i + 1) * total);
    row.fill(-Infinity);
    for (let a = i; a >= 0; a = parents[a]!) row[a] = 0;
  }
  return bias;
}

/** A bias as fp16 bit patterns, for exports that take it in half precision: it holds only 0 and -Infinity. */
export function halvesOfBias(bias: Float32Array): Uint16Array {
  const out = new Uint16Array(bias.length);
  for (let i = 0; i < bias.length; i++) if (bias[i] !== 0) out[i] = 0xfc00; // -Infinity
  return out;
}
