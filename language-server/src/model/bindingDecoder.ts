// The decoder over onnxruntime-node: each run hands the cache tensors to the binding and gets new
// ones back (copied both ways); a cut-back copies the kept positions (kvCache.ts).
import type { ModelConfig } from './config';
import type { Decoder } from './decoder';
import { selectPositions, truncateCache } from './kvCache';
import type { DecoderSession, KvCache, SessionLayout } from './session';
import type { TokenTree } from './treeAttention';

export class BindingDecoder implements Decoder {
  readonly cacheMode = 'copied' as const;
  private cache: KvCache | null = null;

  constructor(
    readonly session: DecoderSession,
    readonly logProbs = false,
  ) {}

  get config(): ModelConfig {
    return this.session.config;
  }

  get capacity(): number {
    return this.session.config.maxPositions;
  }

  get layout(): SessionLayout {
    return this.session.layout;
  }

  get trees(): boolean {
    return this.session.layout.hasAttentionBias;
  }

  get merges(): boolean {
    return this.session.layout.hasTokenGroups;
  }

  run(ids: readonly number[], past: number, rows: number, groups?: ArrayLike<number>): Promise<Float32Array> {
    return this.runWith(ids, past, rows, undefined, groups);
  }

  private async runWith(
    ids: readonly number[],
    past: number,
    rows: number,
    parents?: readonly number[],
    groups?: ArrayLike<number>,
  ): Promise<Float32Array> {
    let cache = past > 0 ? this.cache : null;
    if (past > 0 && (!cache || cache.length < past)) throw new Error(`the cache holds ${cache?.length ?? 0} positions, not ${past}`);
    if (cache && cache.length > past) cache = truncateCache(this.session.tensorClass, this.session.layout, cache, past);
    this.cache = null; // if the run throws, nothing stale is left behind
    const r = await this.session.run(ids, cache ?? undefined, parents, groups, rows);
    this.cache = r.cache;
    return r.logits.subarray((r.rows - rows) * (r.logits.length / r.rows));
  }

  runTree(tree: TokenTree, past: number): Promise<Float32Array> {
    return this.runWith(tree.ids, past, tree.ids.length, tree.parents);
  }

  keepBranch(past: number, nodes: readonly number[]): void {
    if (!this.cache) throw new Error('no tree ran');
    this.cache = selectPositions(this.session.tensorClass, this.session.layout, this.cache, past, nodes);
  }

  release(): Promise<void> {
    this.cache = null;
    return this.session.release();
  }
}
