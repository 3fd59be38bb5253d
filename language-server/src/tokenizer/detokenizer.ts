// Detokenizing: every token id stands for a byte string; text is those bytes read as UTF-8.
// Streaming holds back an incomplete UTF-8 character until its last byte arrives. (The stage
// tokenizer.json calls its "decoder"; here "decoder" names only the model, model/decoder.ts.)
import { byteLevelBytes } from './byteLevel';
import { type DecoderSpec, TokenizerError } from './spec';

export type DetokenizerKind = 'byte-level' | 'sentencepiece';

/** What the decoder chain in tokenizer.json says about how to turn tokens back into text. */
export interface DetokenizerPlan {
  kind: DetokenizerKind;
  /** SentencePiece's ▁, decoded as a space. */
  spaceMarker: string | null;
  /** Leading spaces removed from the start of the decoded text (SentencePiece's Strip). */
  stripStart: number;
}

export function planDetokenizer(spec: DecoderSpec | null): DetokenizerPlan {
  const steps = spec ? flatten(spec) : [];
  if (steps.length === 0 || steps.some((s) => s.type === 'ByteLevel')) {
    if (steps.some((s) => s.type !== 'ByteLevel'))
      throw new TokenizerError('a ByteLevel decoder mixed with other decoders is not supported');
    return { kind: 'byte-level', spaceMarker: null, stripStart: 0 };
  }
  let spaceMarker: string | null = null;
  let stripStart = 0;
  for (const s of steps) {
    if (s.type === 'Replace' && 'String' in s.pattern && s.content === ' ') spaceMarker = s.pattern.String;
    else if (s.type === 'Strip' && s.content === ' ') stripStart = s.start;
    else if (s.type !== 'ByteFallback' && s.type !== 'Fuse') {
      throw new TokenizerError(`decoder ${JSON.stringify(s.type)} is not supported`);
    }
  }
  return { kind: 'sentencepiece', spaceMarker, stripStart };
}

function flatten(spec: DecoderSpec): DecoderSpec[] {
  return spec.type === 'Sequence' ? spec.decoders.flatMap(flatten) : [spec];
}

const utf8 = new TextEncoder();

/** The bytes one vocabulary entry decodes to under the plan. */
export function tokenBytesOf(token: string, plan: DetokenizerPlan, isAdded: boolean): Uint8Array {
  if (isAdded) return utf8.encode(token);
  if (plan.kind === 'byte-level') return byteLevelBytes(token) ?? utf8.encode(token);
  const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
  if (byte) return Uint8Array.of(parseInt(byte[1]!, 16));
  return utf8.encode(plan.spaceMarker ? token.split(plan.spaceMarker).join(' ') : token);
}

/** Decodes a stream of token ids, returning text only once its characters are complete. */
export class StreamDetokenizer {
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private stripLeft: number;

  constructor(
    private readonly bytesOf: (id: number) => Uint8Array,
    stripStart: number,
  ) {
    this.stripLeft = stripStart;
  }

  push(id: number): string {
    return this.strip(this.utf8.decode(this.bytesOf(id), { stream: true }));
  }

  /** Raw bytes (part of a token, e.g. after token healing took its start). */
  pushBytes(bytes: Uint8Array): string {
    return this.strip(this.utf8.decode(bytes, { stream: true }));
  }

  /** Ends the stream; incomplete trailing bytes become U+FFFD. */
  flush(): string {
    return this.strip(this.utf8.decode());
  }

  private strip(text: string): string {
    while (this.stripLeft > 0 && text.length > 0) {
      if (text[0] !== ' ') {
        this.stripLeft = 0;
        break;
      }
      text = text.slice(1);
      this.stripLeft--;
    }
    return text;
  }
}
