// The logits-processor chain of one request, built in one place from what the request asks for:
// never a control token, then the healing constraint, then temperature and nucleus sampling.
import { applyHealing, type VocabIndex } from './healing';
import { type LogitsProcessor, suppress, temperature, topP } from './processors';

export interface ChainOptions {
  /** Control tokens that must never be generated. */
  suppressIds: readonly number[];
  /** Bytes the output must start with (token healing), and the vocabulary index that checks them. */
  healing?: { bytes: Uint8Array; index: VocabIndex };
  /** 0: greedy (no sampling processors). */
  temperature: number;
  topP: number;
}

export function buildChain(o: ChainOptions): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [suppress(o.suppressIds)];
  if (o.healing?.bytes.length) chain.push(applyHealing(o.healing.bytes, o.healing.index));
  if (o.temperature > 0) chain.push(temperature(o.temperature), topP(o.topP));
  return chain;
}
