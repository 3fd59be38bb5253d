// A decoder whose KV cache stays in onnxruntime's memory and grows in place. Each past_key_values input
// and its present output are bound to the same fixed-capacity tensor, which onnxruntime's
// GroupQueryAttention detects (past and present share a buffer) and then only writes the new positions;
// the attention mask's length tells it how many positions count. Nothing of the cache is copied per
// token, and cutting the cache back (a new prompt, a rejected draft) is free: later positions are
// simply overwritten. Graphs that cannot work this way (Concat-based attention) fail the check in
// openDecoder.ts and keep the copying path. Exports with an attention bias also verify draft trees: the
// nodes land in consecutive cache rows, and keeping the accepted branch moves its few rows down.
import type { ModelConfig } from './config';
import type { Decoder } from './decoder';
import { ElementType, OrtCapi, type Ptr } from './ortCapi';
import { ATTENTION_BIAS, LOGITS_TO_KEEP, POSITION_IDS, TOKEN_GROUP } from './decoderInputs';
import { floatsOfHalves } from './half';
import { positionsOf, type SessionLayout } from './session';
import { depthsOf, halvesOfBias, type TokenTree, treeBias } from './treeAttention';

/** Most positions per onnxruntime run: bounds the logits buffer (CHUNK × vocabulary). */
const CHUNK = 64;
/** Most tokens per run of a merged export: a position pools at most this many tokens on average. */
const MERGED_TOKENS = CHUNK * 8;

export class NativeDecoder implements Decoder {
  readonly cacheMode = 'in-place' as const;
  private readonly idsBuf: Ptr;
  private readonly posBuf: Ptr;
  /** token_group for merged exports: identity for plain runs, a prompt's groups for merged ones. */
  private readonly groupBuf: Ptr | null;
  private readonly maskBuf: Ptr;
  /** logits_to_keep (exports that take it): how many last positions of a run get logits. */
  private readonly keepBuf: Ptr | null;
  private readonly keepTensor: Ptr | null;
  private readonly cache: Ptr[];
  /** Where each cache tensor's elements are, for moving an accepted branch's rows. */
  private readonly cacheData: bigint[];
  /** Attention biases [CHUNK, capacity] in the export's type (exports that take one): zeros for plain runs, and a tree's. */
  private readonly zeroBias: Ptr | null;
  private readonly treeBiasBuf: Ptr | null;
  private readonly inputNames: { array: Ptr; keep: Ptr[] };
  private readonly outputNames: { array: Ptr; keep: Ptr[] };
  private readonly nIn: number;
  private readonly inputs: Ptr;
  private readonly outputs: Ptr;
  private readonly logitsBuf: Ptr;
  /** koffi array types, made once: void*[nIn], and int64_t[n] per run length. */
  private readonly pointerArray: unknown;
  private readonly int64Arrays = new Map<number, unknown>();
  /** The arrays logits are returned in, reused run after run. */
  private out = new Float32Array(0);
  private half = new Uint16Array(0);
  private readonly masks = new Map<number, Ptr>();
  private readonly byLength = new Map<number, { ids: Ptr; pos: Ptr | null; group: Ptr | null }>();
  /** Views of logitsBuf as [1, rows, vocab], by rows. */
  private readonly logitsViews = new Map<number, Ptr>();
  private released = false;

  private constructor(
    private readonly ort: OrtCapi,
    private readonly session: Ptr,
    readonly config: ModelConfig,
    readonly layout: SessionLayout,
    readonly capacity: number,
    readonly logProbs: boolean,
  ) {
    const k = ort.koffi;
    const tokens = layout.hasTokenGroups ? MERGED_TOKENS : CHUNK;
    this.idsBuf = k.alloc('int64_t', tokens);
    this.posBuf = k.alloc('int64_t', CHUNK);
    this.groupBuf = layout.hasTokenGroups ? k.alloc('int64_t', tokens) : null;
    // The mask is all ones: only its length (past + new) matters, so one buffer serves every run.
    this.maskBuf = k.alloc('int64_t', capacity);
    k.encode(this.maskBuf, k.array('int64_t', capacity, 'Typed'), new BigInt64Array(capacity).fill(1n));
    this.keepBuf = layout.hasLogitsToKeep ? k.alloc('int64_t', 1) : null;
    this.keepTensor = this.keepBuf && ort.wrapTensor(this.keepBuf, 8, [1], ElementType.int64);
    const type = layout.cacheType === 'float16' ? ElementType.float16 : ElementType.float32;
    this.cache = layout.past.map(() => ort.createTensor([1, config.kvHeads, capacity, config.headDim], type));
    this.cacheData = this.cache.map((t) => ort.tensorData(t));
    // Zero bytes are zeros in float32 and in float16 alike.
    const biasBytes = CHUNK * capacity * (layout.biasType === 'float16' ? 2 : 4);
    this.zeroBias = layout.hasAttentionBias ? k.alloc('uint8_t', biasBytes) : null;
    this.treeBiasBuf = layout.hasAttentionBias ? k.alloc('uint8_t', biasBytes) : null;
    if (this.zeroBias) ort.copyIn(this.zeroBias, 0, new Uint8Array(biasBytes));
    const inNames = [
      'input_ids',
      'attention_mask',
      ...(layout.hasPositionIds ? [POSITION_IDS] : []),
      ...(layout.hasTokenGroups ? [TOKEN_GROUP] : []),
      ...(layout.hasLogitsToKeep ? [LOGITS_TO_KEEP] : []),
      ...(layout.hasAttentionBias ? [ATTENTION_BIAS] : []),
      ...layout.past.map((p) => p.input),
    ];
    this.nIn = inNames.length;
    this.inputNames = ort.cStrings(inNames);
    this.outputNames = ort.cStrings([layout.logits, ...layout.past.map((p) => p.output)]);
    this.inputs = k.alloc('void*', this.nIn);
    this.pointerArray = k.array('void*', this.nIn);
    // Each present output is its past input's own tensor; the logits slot is filled by each run, with a
    // tensor over logitsBuf (onnxruntime would otherwise allocate, and the kernel fault in, a new one).
    this.outputs = ort.pointers([null, ...this.cache]);
    this.logitsBuf = k.alloc('uint8_t', CHUNK * config.vocabSize * (layout.logitsType === 'float16' ? 2 : 4));
  }

  /** Opens `onnxPath` through the C API. Only split-cache decoders with an attention mask qualify. */
  static open(
    onnxPath: string,
    config: ModelConfig,
    layout: SessionLayout,
    options: { threads: number; capacity: number; logProbs?: boolean; spinning?: boolean },
  ): NativeDecoder {
    if (layout.cache !== 'split' || layout.useCacheBranch || !layout.hasAttentionMask) {
      throw new Error('the cache is not a split key/value cache with an attention mask');
    }
    const ort = OrtCapi.load();
    const session = ort.createSession(onnxPath, options);
    try {
      return new NativeDecoder(ort, session, config, layout, options.capacity, options.logProbs ?? false);
    } catch (err) {
      ort.releaseSession(session);
      throw err;
    }
  }

  get trees(): boolean {
    return this.layout.hasAttentionBias;
  }

  get merges(): boolean {
    return this.layout.hasTokenGroups;
  }

  async run(ids: readonly number[], past: number, rows: number, groups?: ArrayLike<number>): Promise<Float32Array> {
    return this.runSync(ids, past, rows, groups);
  }

  async runTree(tree: TokenTree, past: number): Promise<Float32Array> {
    return this.runTreeSync(tree, past);
  }

  runTreeSync(tree: TokenTree, past: number): Float32Array {
    if (!this.treeBiasBuf) throw new Error('this export takes no attention bias: it cannot run a tree');
    const n = tree.ids.length;
    this.checkRun(n, past);
    if (n > CHUNK) throw new Error(`a tree of ${n} nodes (at most ${CHUNK} run at once)`);
    const depths = depthsOf(tree.parents);
    const bias = treeBias(tree.parents, past);
    this.ort.copyIn(this.treeBiasBuf, 0, this.layout.biasType === 'float16' ? halvesOfBias(bias) : bias);
    const kept = this.runChunk(tree.ids, past, { depths, bias: this.treeBiasBuf, keep: n });
    return this.readRows(kept - n, n);
  }

  keepBranch(past: number, nodes: readonly number[]): void {
    const { kvHeads, headDim } = this.config;
    const row = headDim * (this.layout.cacheType === 'float16' ? 2 : 4);
    nodes.forEach((r, i) => {
      if (!(r >= i && past + r < this.capacity)) throw new Error(`node ${r} cannot be kept at ${i}`);
      if (r === i) return;
      // Rows of [1, kv_heads, capacity, head_dim]: branch nodes come in order, so a row moves down only
      // onto one already moved or dropped.
      for (const base of this.cacheData)
        for (let h = 0; h < kvHeads; h++) {
          const block = base + BigInt(h * this.capacity * row);
          this.ort.move(block + BigInt((past + i) * row), block + BigInt((past + r) * row), row);
        }
    });
  }

  runSync(ids: readonly number[], past: number, rows: number, groups?: ArrayLike<number>): Float32Array {
    if (groups && !this.groupBuf) throw new Error('this export takes no token groups: it cannot merge subtokens');
    const n = positionsOf(ids.length, groups);
    this.checkRun(n, past);
    if (rows < 1 || rows > Math.min(n, CHUNK)) throw new Error(`cannot return ${rows} rows of a run of ${n}`);
    // Long runs (prefills) go in chunks of positions, the last one holding the rows asked for.
    const last = n - Math.min(n, CHUNK);
    // The first token of each chunk (merged runs: a chunk's positions hold more tokens than that).
    const tokenAt = (position: number) => (groups ? firstTokenOf(groups, position) : position);
    // Earlier chunks' logits are never read: where the export allows, it computes one row of them.
    for (let at = 0; at < last; at += CHUNK)
      this.runPositions(ids, groups, tokenAt(at), tokenAt(Math.min(at + CHUNK, last)), at, past + at, 1);
    const kept = this.runPositions(ids, groups, tokenAt(last), ids.length, last, past + last, rows);
    return this.readRows(kept - rows, rows);
  }

  /**
   * Tokens [from, to) of a run, whose groups start at position `first` of the run, after `past` positions,
   * the last `keep` positions needing logits; returns how many last positions got them (runChunk).
   */
  private runPositions(
    ids: readonly number[],
    groups: ArrayLike<number> | undefined,
    from: number,
    to: number,
    first: number,
    past: number,
    keep: number,
  ): number {
    if (!groups) return this.runChunk(ids.slice(from, to), past, { keep });
    if (to - from > MERGED_TOKENS) throw new Error(`${to - from} tokens pool into ${CHUNK} positions (at most ${MERGED_TOKENS})`);
    const local = Array.from({ length: to - from }, (_, i) => groups[from + i]! - first);
    return this.runChunk(ids.slice(from, to), past, { groups: local, keep });
  }

  /** Throws unless `n` tokens can run after `past` cached positions. */
  private checkRun(n: number, past: number): void {
    if (this.released) throw new Error('the decoder was released');
    if (n === 0) throw new Error('run needs at least one token');
    if (past + n > this.capacity) throw new Error(`a sequence of ${past + n} tokens does not fit the cache (${this.capacity} positions)`);
  }

  /**
   * One run of at most CHUNK positions after `past` positions (a tree's: at past + its depths, under its
   * bias; merged tokens: token i pooled into position groups[i]). The logits of its last positions land in
   * logitsBuf: `keep` of them where the export takes logits_to_keep, else all; returns how many.
   */
  private runChunk(ids: readonly number[], past: number, chunk: ChunkOptions): number {
    const { ort } = this;
    const k = ort.koffi;
    const { depths, bias = this.zeroBias, groups } = chunk;
    const tokens = ids.length;
    const n = groups ? groups[tokens - 1]! + 1 : tokens;
    const kept = this.keepBuf ? Math.min(chunk.keep, n) : n;
    if (this.keepBuf) k.encode(this.keepBuf, this.int64Array(1), BigInt64Array.of(BigInt(kept)));
    k.encode(this.idsBuf, this.int64Array(tokens), BigInt64Array.from(ids, BigInt));
    if (this.groupBuf)
      k.encode(
        this.groupBuf,
        this.int64Array(tokens),
        BigInt64Array.from(ids, (_, i) => BigInt(groups ? groups[i]! : i)),
      );
    if (this.layout.hasPositionIds)
      k.encode(
        this.posBuf,
        this.int64Array(n),
        BigInt64Array.from({ length: n }, (_, i) => BigInt(past + (depths ? depths[i]! : i))),
      );
    const t = this.tensorsFor(tokens, n, past + n, kept);
    // The bias's shape [1, 1, n, total] changes with both lengths: a view made for this run only.
    const half = this.layout.biasType === 'float16';
    const biasTensor =
      bias && ort.wrapTensor(bias, n * (past + n) * (half ? 2 : 4), [1, 1, n, past + n], half ? ElementType.float16 : ElementType.float32);
    try {
      k.encode(this.inputs, this.pointerArray as never, [...t.inputs, ...(biasTensor ? [biasTensor] : []), ...this.cache]);
      k.encode(this.outputs, 'void*', t.logits);
      ort.run(
        this.session,
        this.inputNames.array,
        this.inputs,
        this.nIn,
        this.outputNames.array,
        this.outputs,
        this.layout.past.length + 1,
      );
    } finally {
      ort.releaseValue(biasTensor);
      for (const v of t.owned) ort.releaseValue(v);
    }
    return kept;
  }

  /** koffi's int64_t[n] type, made once per length. */
  private int64Array(n: number): never {
    let type = this.int64Arrays.get(n);
    if (!type) {
      type = this.ort.koffi.array('int64_t', n, 'Typed');
      this.int64Arrays.set(n, type);
    }
    return type as never;
  }

  /**
   * The OrtValues of a run of `tokens` tokens in `n` positions reaching `total` positions: views of the
   * fixed buffers, made once per shape (a run then costs a handful of FFI calls, not a dozen). Merged
   * runs (tokens > n, prefills only) get token views of their own, released after the run (`owned`).
   * The logits view holds the `kept` last positions.
   */
  private tensorsFor(tokens: number, n: number, total: number, kept: number): { inputs: Ptr[]; logits: Ptr; owned: Ptr[] } {
    const { ort } = this;
    let mask = this.masks.get(total);
    if (!mask) {
      mask = ort.wrapTensor(this.maskBuf, total * 8, [1, total], ElementType.int64);
      this.masks.set(total, mask);
    }
    let byN = this.byLength.get(n);
    if (!byN) {
      byN = {
        ...this.tokenViews(n),
        pos: this.layout.hasPositionIds ? ort.wrapTensor(this.posBuf, n * 8, [1, n], ElementType.int64) : null,
      };
      this.byLength.set(n, byN);
    }
    let logits = this.logitsViews.get(kept);
    if (!logits) {
      const v = this.config.vocabSize;
      const half = this.layout.logitsType === 'float16';
      logits = ort.wrapTensor(this.logitsBuf, kept * v * (half ? 2 : 4), [1, kept, v], half ? ElementType.float16 : ElementType.float32);
      this.logitsViews.set(kept, logits);
    }
    const views = tokens === n ? byN : this.tokenViews(tokens);
    const inputs = [
      views.ids,
      mask,
      ...(byN.pos ? [byN.pos] : []),
      ...(views.group ? [views.group] : []),
      ...(this.keepTensor ? [this.keepTensor] : []),
    ];
    return { inputs, logits, owned: tokens === n ? [] : [views.ids, ...(views.group ? [views.group] : [])] };
  }

  /** input_ids (and token_group) views of `tokens` tokens. */
  private tokenViews(tokens: number): { ids: Ptr; group: Ptr | null } {
    const { ort } = this;
    return {
      ids: ort.wrapTensor(this.idsBuf, tokens * 8, [1, tokens], ElementType.int64),
      group: this.groupBuf && ort.wrapTensor(this.groupBuf, tokens * 8, [1, tokens], ElementType.int64),
    };
  }

  /**
   * Rows `from`.. of the last chunk's logits, as float32. The array is reused by the next run: fresh
   * large arrays cost page faults, which are slow in virtual machines.
   */
  private readRows(from: number, rows: number): Float32Array {
    const v = this.config.vocabSize;
    const count = rows * v;
    if (this.out.length < count) this.out = new Float32Array(count);
    const out = this.out.subarray(0, count);
    if (this.layout.logitsType === 'float16') {
      if (this.half.length < count) this.half = new Uint16Array(count);
      const half = this.half.subarray(0, count);
      this.ort.copyOut(this.logitsBuf, from * v * 2, half);
      floatsOfHalves(half, out);
    } else {
      this.ort.copyOut(this.logitsBuf, from * v * 4, out);
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const t of [
      ...this.cache,
      ...this.masks.values(),
      ...[...this.byLength.values()].flatMap((b) => [b.ids, b.pos, b.group]),
      ...this.logitsViews.values(),
      this.keepTensor,
    ])
      this.ort.releaseValue(t);
    this.ort.releaseSession(this.session);
    const k = this.ort.koffi;
    for (const p of [
      this.idsBuf,
      this.posBuf,
      this.groupBuf,
      this.maskBuf,
      this.keepBuf,
      this.logitsBuf,
      this.zeroBias,
      this.treeBiasBuf,
      this.inputs,
      this.outputs,
      this.inputNames.array,
      this.outputNames.array,
      ...this.inputNames.keep,
      ...this.outputNames.keep,
    ])
      if (p) k.free(p);
  }
}

/** What one run of a chunk takes besides its tokens. */
interface ChunkOptions {
  /** A tree's nodes' depths (their positions after past). */
  depths?: Int32Array;
  /** The attention bias buffer: zeros unless a tree runs. */
  bias?: Ptr | null;
  /** Merged tokens: token i pools into the chunk's position groups[i]. */
  groups?: readonly number[];
  /** How many last positions need logits (1 or more). */
  keep: number;
}

/** The index of the first token pooled into `position` (groups non-decreasing); groups.length past the last. */
function firstTokenOf(groups: ArrayLike<number>, position: number): number {
  let lo = 0;
  let hi = groups.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (groups[mid]! < position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
