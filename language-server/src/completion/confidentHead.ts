// Show as much of a completion as the model is sure of, no more: the longest head whose probability
// (the product of its tokens' probabilities) stays at or above a threshold. It is cut where a token
// ends, within the first line; past it, a block is cut at line ends only (half a later line is a
// half-written statement).
import type { TokenTrace } from '../generation/generate';

export interface Head {
  text: string;
  /** The head's probability under the model: of the tokens that wrote it (1 for an empty head). */
  probability: number;
}

export function confidentHead(text: string, trace: readonly TokenTrace[], minProbability: number, multiline: boolean): Head {
  const floor = Math.log(minProbability);
  let logp = 0;
  let before = 0;
  let best: Head = { text: '', probability: 1 };
  const firstNewline = text.indexOf('\n');
  for (const t of trace) {
    logp += t.logProb;
    if (logp < floor) break;
    const end = Math.min(t.end, text.length);
    const firstLine = firstNewline < 0 || end <= firstNewline;
    if (!multiline || firstLine) {
      if (end > best.text.length) best = { text: text.slice(0, end), probability: Math.exp(logp) };
    } else {
      // Whole lines only: each line end this token wrote, and the text's own end.
      for (let nl = text.indexOf('\n', before); nl >= 0 && nl < end; nl = text.indexOf('\n', nl + 1)) {
        if (nl > best.text.length) best = { text: text.slice(0, nl), probability: Math.exp(logp) };
      }
      if (end === text.length && end > best.text.length) best = { text, probability: Math.exp(logp) };
    }
    before = end;
  }
  return best;
}
