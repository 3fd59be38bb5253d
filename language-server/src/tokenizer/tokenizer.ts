// A Hugging Face tokenizer.json, loaded once and used everywhere: the lens, counts, prompts.
// Data flows text → added-token segments → normalizer → pre-tokenizer pieces → BPE → ids, and
// every token keeps its span in the ORIGINAL text in UTF-16 code units (VS Code's unit).
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type AddedTokenMatcher, buildAddedTokenMatcher, isControlToken } from './addedTokens';
import { BpeModel } from './bpe';
import { BYTE_TO_CHAR } from './byteLevel';
import { type DetokenizerPlan, planDetokenizer, StreamDetokenizer, tokenBytesOf } from './detokenizer';
import { buildNormalizer, type Normalizer } from './normalizer';
import { buildPreTokenizer, type PreTokenizer } from './preTokenizer';
import { type AddedTokenSpec, TokenizerError, validateSpec } from './spec';

/** Token flags: the token starts (or ends) inside a UTF-8 character it shares with a neighbour. */
export const STARTS_MID_CHAR = 1;
export const ENDS_MID_CHAR = 2;

/** Tokens of a text: parallel arrays, offsets in UTF-16 code units of the original text. */
export interface Encoding {
  ids: Int32Array;
  starts: Uint32Array;
  ends: Uint32Array;
  flags: Uint8Array;
}

/** One pre-tokenizer piece with its tokens: the unit of caching and of incremental re-tokenizing. */
export interface Piece {
  start: number;
  end: number;
  ids: Int32Array;
}

const MAX_FILE_BYTES = 64 * 1024 * 1024;
const utf8Encoder = new TextEncoder();
const CACHE_LIMIT = 1 << 18;

export class Tokenizer {
  readonly vocabSize: number;
  readonly kind: DetokenizerPlan['kind'];
  readonly addedTokens: readonly AddedTokenSpec[];
  private readonly model: BpeModel;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer;
  private readonly added: AddedTokenMatcher | null;
  private readonly plan: DetokenizerPlan;
  private readonly idToToken: string[] = [];
  private readonly bytes: Uint8Array[] = [];
  private readonly controlIds = new Set<number>();
  /** Vocabulary id of each byte (byte-level) or of each byte-fallback token <0xXX>. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly unkId: number;
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  /** Per ASCII code: 1 if it has a vocabulary entry, -1 if not, 0 not yet known (SentencePiece). */
  private readonly known = new Int8Array(128);
  private cache = new Map<string, Int32Array>();

  private constructor(
    readonly name: string,
    json: unknown,
  ) {
    const spec = validateSpec(json);
    this.plan = planDetokenizer(spec.decoder);
    this.kind = this.plan.kind;
    this.model = new BpeModel(spec.model);
    this.normalizer = buildNormalizer(spec.normalizer);
    this.added = buildAddedTokenMatcher(spec.added_tokens);
    this.addedTokens = spec.added_tokens;
    this.ignoreMerges = spec.model.ignore_merges === true;
    const addedIds = new Set(spec.added_tokens.map((t) => t.id));
    for (const [token, id] of this.model.vocab) this.idToToken[id] = token;
    for (const t of spec.added_tokens) {
      this.idToToken[t.id] = t.content;
      if (isControlToken(t)) this.controlIds.add(t.id);
    }
    this.vocabSize = this.idToToken.length;
    for (let id = 0; id < this.idToToken.length; id++) {
      const token = this.idToToken[id];
      this.bytes[id] = token === undefined ? new Uint8Array(0) : tokenBytesOf(token, this.plan, addedIds.has(id));
    }
    for (let b = 0; b < 256; b++) {
      const key = this.kind === 'byte-level' ? BYTE_TO_CHAR[b]! : `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      this.byteIds[b] = this.model.vocab.get(key) ?? -1;
    }
    const unk = spec.model.unk_token;
    this.unkId = unk ? (this.model.vocab.get(unk) ?? -1) : -1;
    this.byteFallback = spec.model.byte_fallback === true;
    if (this.kind === 'sentencepiece' && spec.pre_tokenizer === null) {
      // No pre-tokenizer means one word per segment. Merges never cross a character that has no
      // vocabulary entry (it becomes byte tokens, which no merge takes), so those characters are
      // exact split points: lines become words, which caches and re-tokenizes incrementally.
      const byteTokenIds = new Set(Array.from(this.byteIds).filter((id) => id >= 0));
      if (this.model.mergesInvolve(byteTokenIds)) throw new TokenizerError('merges of byte-fallback tokens are not supported');
      this.preTokenizer = { split: (text, out) => this.splitAtUnknown(text, out) };
    } else {
      this.preTokenizer = buildPreTokenizer(spec.pre_tokenizer);
    }
    // Byte-level vocabularies may omit bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5-0xFF).
    if (this.kind === 'byte-level' && Array.from(this.byteIds.slice(0, 0xc0)).some((id) => id < 0)) {
      throw new TokenizerError('the byte-level vocabulary lacks some of the byte symbols');
    }
  }

  /** Loads a tokenizer.json (or a folder holding one); throws TokenizerError with the reason. */
  static fromFile(path: string, name?: string): Tokenizer {
    let file = path;
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(file);
      if (stat.isDirectory()) {
        file = `${path.replace(/\/$/, '')}/tokenizer.json`;
        stat = statSync(file);
      }
    } catch {
      throw new TokenizerError(`${file}: no such file`);
    }
    if (stat.size > MAX_FILE_BYTES)
      throw new TokenizerError(`${file}: ${(stat.size / 1e6).toFixed(0)} MB is too large for a tokenizer.json`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new TokenizerError(`${file}: not valid JSON (${(err as Error).message})`);
    }
    try {
      return new Tokenizer(name ?? basename(dirname(file)), json);
    } catch (err) {
      // Whatever a malformed file trips over, the user gets the file and the reason.
      throw new TokenizerError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The vocabulary string of a token (byte-level strings use GPT-2's byte characters). */
  token(id: number): string | undefined {
    return this.idToToken[id];
  }

  /** The id of a vocabulary string or added token. */
  id(token: string): number | undefined {
    return this.model.vocab.get(token) ?? this.addedTokens.find((t) => t.content === token)?.id;
  }

  /** Whether text comes back from decode(encode(text)) composed to NFC. */
  get normalizesNfc(): boolean {
    return this.normalizer?.nfc ?? false;
  }

  /** Bytes the token decodes to. */
  tokenBytes(id: number): Uint8Array {
    return this.bytes[id] ?? new Uint8Array(0);
  }

  isControl(id: number): boolean {
    return this.controlIds.has(id);
  }

  /** Encodes file content as plain text. */
  encode(text: string): Encoding {
    return this.spans(text, this.pieces(text));
  }

  /** Just the ids: what a prompt needs. */
  encodeIds(text: string): number[] {
    const out: number[] = [];
    this.scan(text, 0, true, (_s, _e, ids) => {
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    });
    return out;
  }

  /** Ids of text that continues other text (SentencePiece adds no leading ▁), e.g. model output. */
  encodeFragment(text: string): number[] {
    const out: number[] = [];
    for (const p of this.pieces(text, 0, false)) for (const id of p.ids) out.push(id);
    return out;
  }

  countTokens(text: string): number {
    let n = 0;
    this.scan(text, 0, true, (_s, _e, ids) => (n += ids.length));
    return n;
  }

  decode(ids: ArrayLike<number>, options: { skipControl?: boolean } = {}): string {
    const stream = this.streamDetokenizer();
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (options.skipControl && this.controlIds.has(id)) continue;
      out += stream.push(id);
    }
    return out + stream.flush();
  }

  streamDetokenizer(): StreamDetokenizer {
    return new StreamDetokenizer((id) => this.tokenBytes(id), this.plan.stripStart);
  }

  /**
   * The pieces of `text` tokenized as a stretch of a larger text that starts at `offset` there
   * (`offset` must be a piece boundary of that text; `atSegmentStart`: the stretch begins the
   * text or follows an added token). Offsets are in the larger text.
   */
  pieces(text: string, offset = 0, atSegmentStart = offset === 0): NormalizedPiece[] {
    const out: NormalizedPiece[] = [];
    this.scan(text, offset, atSegmentStart, (start, end, ids, normalized) => {
      out.push(normalized ? { start, end, ids, ...normalized } : { start, end, ids });
    });
    return out;
  }

  /** The pipeline proper: calls `sink` for every piece in order (no allocation per piece). */
  private scan(text: string, offset: number, atSegmentStart: boolean, sink: PieceSink): void {
    let pos = 0;
    let segmentStart = atSegmentStart;
    const to = text.length;
    while (pos < to) {
      const hit = this.added?.next(text, pos) ?? null;
      const segEnd = hit ? hit[0] : to;
      if (segEnd > pos) this.segmentPieces(pos === 0 && segEnd === to ? text : text.slice(pos, segEnd), offset + pos, segmentStart, sink);
      if (!hit) break;
      sink(offset + hit[0], offset + hit[1], Int32Array.of(hit[2]));
      pos = hit[1];
      segmentStart = true;
    }
  }

  /** Whether a segment starts at `pos` of `text`: its start, or right after a content added token. */
  isSegmentStart(text: { endsWith(s: string, pos: number): boolean }, pos: number): boolean {
    if (pos === 0) return true;
    if (!this.added) return false;
    for (const t of this.addedTokens) {
      if (!isControlToken(t) && text.endsWith(t.content, pos)) return true;
    }
    return false;
  }

  private segmentPieces(segment: string, base: number, atStart: boolean, sink: PieceSink): void {
    const norm = this.normalizer?.normalize(segment, atStart);
    const text = norm ? norm.text : segment;
    const bounds: number[] = [];
    this.preTokenizer.split(text, bounds);
    const toStart = norm?.toOriginalStart;
    const toEnd = norm?.toOriginalEnd;
    for (let i = 0; i < bounds.length; i += 2) {
      const a = bounds[i]!;
      const b = bounds[i + 1]!;
      const piece = text.slice(a, b);
      const ids = this.word(piece);
      if (!toStart || !toEnd) sink(base + a, base + b, ids);
      else {
        sink(base + toStart(a), base + toEnd(b), ids, {
          normalized: piece,
          mapStart: (u) => base + toStart(a + u),
          mapEnd: (u) => base + toEnd(a + u),
        });
      }
    }
  }

  /** BPE of one piece, cached: code repeats the same pieces endlessly. */
  private word(piece: string): Int32Array {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const ids = Int32Array.from(this.model.merge(this.initialSymbols(piece)));
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(piece, ids);
    return ids;
  }

  private initialSymbols(piece: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.model.vocab.get(this.kind === 'byte-level' ? toByteLevel(piece) : piece);
      if (whole !== undefined) return [whole];
    }
    const out: number[] = [];
    if (this.kind === 'byte-level') {
      for (let i = 0; i < piece.length; i++) {
        const c = piece.charCodeAt(i);
        if (c < 0x80) out.push(this.byteIds[c]!);
        else for (const b of utf8Of(piece, i)) if (this.byteIds[b]! >= 0) out.push(this.byteIds[b]!);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < piece.length && isLow(piece.charCodeAt(i + 1))) i++;
      }
      return out;
    }
    for (let ch of piece) {
      if (isLoneSurrogate(ch)) ch = '\uFFFD'; // what any UTF-8 encoder makes of it
      const id = this.model.vocab.get(ch);
      if (id !== undefined) out.push(id);
      else if (this.byteFallback && this.byteIds[0]! >= 0) for (const b of utf8Encoder.encode(ch)) out.push(this.byteIds[b]!);
      else if (this.unkId >= 0) {
        if (out[out.length - 1] !== this.unkId) out.push(this.unkId); // fuse_unk
      }
    }
    return out;
  }

  /** SentencePiece splitting: every character without a vocabulary entry stands alone. */
  private splitAtUnknown(text: string, out: number[]): void {
    let start = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      if (!this.knownChar(cp, text, i, len)) {
        if (i > start) out.push(start, i);
        out.push(i, i + len);
        start = i + len;
      }
      i += len;
    }
    if (text.length > start) out.push(start, text.length);
  }

  private knownChar(cp: number, text: string, i: number, len: number): boolean {
    if (cp < 128) {
      let k = this.known[cp]!;
      if (k === 0) this.known[cp] = k = this.model.vocab.has(String.fromCharCode(cp)) ? 1 : -1;
      return k === 1;
    }
    const ch = text.slice(i, i + len);
    return this.model.vocab.has(isLoneSurrogate(ch) ? '\uFFFD' : ch);
  }

  /** Token spans of pieces: UTF-16 offsets in the original text, with partial-character flags. */
  spans(text: string, pieces: Piece[]): Encoding {
    let n = 0;
    for (const p of pieces) n += p.ids.length;
    const enc: Encoding = { ids: new Int32Array(n), starts: new Uint32Array(n), ends: new Uint32Array(n), flags: new Uint8Array(n) };
    let k = 0;
    for (const p of pieces) {
      this.pieceSpans(text, p, enc, k);
      k += p.ids.length;
    }
    return enc;
  }

  /** Writes the spans of one piece's tokens into `enc` from index k. */
  pieceSpans(text: string, p: Piece, enc: Encoding, k: number): void {
    const ids = p.ids;
    if (ids.length === 1) {
      enc.ids[k] = ids[0]!;
      enc.starts[k] = p.start;
      enc.ends[k] = p.end;
      enc.flags[k] = 0;
      return;
    }
    const np = p as NormalizedPiece;
    if (np.normalized === undefined && isAscii(text, p.start, p.end)) {
      // One byte per code unit: offsets are running byte counts (all but rare pieces go here).
      let pos = p.start;
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t]!;
        enc.ids[k + t] = id;
        enc.starts[k + t] = pos;
        pos += id === this.unkId ? 1 : this.bytes[id]!.length;
        enc.ends[k + t] = pos;
        enc.flags[k + t] = 0;
      }
      return;
    }
    const source = np.normalized ?? text.slice(p.start, p.end);
    const mapStart = np.mapStart ?? ((u: number) => p.start + u);
    const mapEnd = np.mapEnd ?? ((u: number) => p.start + u);
    // Per source byte: the UTF-16 offset of its character, and whether it is the character's first
    // byte. A token boundary inside a character maps to the character's start (for a start) or end
    // (for an end), and the token is flagged as sharing that character with its neighbour.
    const unitOf: number[] = [];
    const charStart: boolean[] = [];
    for (let i = 0; i < source.length; ) {
      const cp = source.codePointAt(i)!;
      const len = this.sourceBytes(cp, source[i]!);
      for (let b = 0; b < len; b++) {
        unitOf.push(i);
        charStart.push(b === 0);
      }
      i += cp > 0xffff ? 2 : 1;
    }
    const total = unitOf.length;
    const startAt = (b: number): number => (b < total ? mapStart(unitOf[b]!) : p.end);
    const endAt = (b: number): number => {
      if (b >= total) return p.end;
      if (charStart[b]) return mapEnd(unitOf[b]!);
      let c = b;
      while (c < total && !charStart[c]) c++;
      return c < total ? mapEnd(unitOf[c]!) : p.end;
    };
    let byte = 0;
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t]!;
      let len = this.bytes[id]!.length;
      if (id === this.unkId) {
        // <unk> stands for the unknown character it replaced, not for its own spelling.
        len = 1;
        while (byte + len < total && !charStart[byte + len]) len++;
      }
      const b0 = Math.min(byte, total);
      const b1 = Math.min(byte + len, total);
      enc.ids[k + t] = id;
      enc.starts[k + t] = startAt(b0);
      enc.ends[k + t] = endAt(b1);
      enc.flags[k + t] = (b0 < total && !charStart[b0] ? STARTS_MID_CHAR : 0) | (b1 < total && !charStart[b1] ? ENDS_MID_CHAR : 0);
      byte += len;
    }
  }

  /** Bytes a source character stands for in token bytes (SentencePiece's ▁ is one space). */
  private sourceBytes(cp: number, ch: string): number {
    if (this.plan.spaceMarker !== null && ch === this.plan.spaceMarker) return 1;
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
}

type PieceSink = (start: number, end: number, ids: Int32Array, normalized?: Required<Omit<NormalizedPiece, keyof Piece>>) => void;

/** A piece, with its normalized text where normalization changed it (offsets inside then need mapping back). */
export interface NormalizedPiece extends Piece {
  normalized?: string;
  mapStart?: (u: number) => number;
  mapEnd?: (u: number) => number;
}

function isAscii(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function isLoneSurrogate(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return ch.length === 1 && c >= 0xd800 && c <= 0xdfff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** UTF-8 bytes of the code point at i (a lone surrogate encodes as U+FFFD, as TextEncoder does). */
function utf8Of(s: string, i: number): number[] {
  let cp = s.charCodeAt(i);
  if (cp >= 0xd800 && cp <= 0xdbff) {
    const lo = s.charCodeAt(i + 1);
    cp = isLow(lo) ? 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00) : 0xfffd;
  } else if (isLow(cp)) cp = 0xfffd;
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

function toByteLevel(piece: string): string {
  let out = '';
  for (const b of utf8Encoder.encode(piece)) out += BYTE_TO_CHAR[b];
  return out;
}
