// This machine's memory read bandwidth now: two equal buffers far past every cache compared (a native
// memcmp reads both), median of a few passes, GB/s. What a decode step's weights can be read at, at best;
// sampled next to each measurement, since this VM's speed drifts within a minute.
import { median } from '../language-server/src/quantiles';

export class Bandwidth {
  private readonly a: Buffer;
  private readonly b: Buffer;

  constructor(
    megabytes: number,
    private readonly passes: number,
  ) {
    this.a = Buffer.alloc(megabytes << 20, 7);
    this.b = Buffer.alloc(megabytes << 20, 7);
  }

  sample(): number {
    const rates: number[] = [];
    for (let i = 0; i < this.passes; i++) {
      const t0 = performance.now();
      if (!this.a.equals(this.b)) throw new Error('unreachable');
      rates.push((2 * this.a.length) / 1e9 / ((performance.now() - t0) / 1000));
    }
    return median(rates);
  }
}
