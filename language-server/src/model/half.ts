// IEEE half precision read as float32: fp16 logits and caches at run time, fp16 weights when the
// optimizer widens a file. One conversion for both.

/** The float an fp16 bit pattern stands for (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** fp16 values (as their bit patterns) widened to float32, into `out`. */
export function floatsOfHalves(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]!);
  return out;
}
