import type { CompletionInfo, Health } from '../../language-server/src/lsp_ext';

/** Where the server process is, as the client sees it. */
export type ServerPhase = 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';

export interface StatusInput {
  phase: ServerPhase;
  /** Last health the server pushed (only meaningful while running). */
  health?: Health;
  /** Why the server is not running, when phase is 'failed'. */
  failure?: string;
  /** The last crash the client recovered from, if any. */
  lastCrash?: { at: number; crashes: number; limit: number };
  /** The last inline completion the server reported. */
  lastCompletion?: CompletionInfo;
  now: number;
}

export interface StatusView {
  /** Status bar text, with codicons. */
  text: string;
  tooltip: string;
  severity: 'normal' | 'warning' | 'error';
  /** Screen-reader label; also what tests look for in the DOM. */
  label: string;
}

/** How long "restarted" stays in the status bar text after a crash; the tooltip keeps it. */
export const RECENT_CRASH_MS = 120_000;

/** The status bar item for a given state. Pure: the extension only copies the view onto the item. */
export function renderStatus(input: StatusInput): StatusView {
  const crash = input.lastCrash;
  const crashNote = crash
    ? `\nThe server crashed at ${new Date(crash.at).toLocaleTimeString()} and was restarted ` +
      `(${crash.crashes} of ${crash.limit} restarts allowed in the window).`
    : '';
  switch (input.phase) {
    case 'starting':
      return view('$(loading~spin) Tessera', 'Tessera: starting', 'Starting the Tessera language server…', 'normal');
    case 'restarting':
      return view(
        '$(loading~spin) Tessera: restarting',
        'Tessera: restarting',
        `The Tessera language server stopped unexpectedly and is being restarted.${crashNote}`,
        'warning',
      );
    case 'stopped':
      return view('$(circle-slash) Tessera', 'Tessera: stopped', 'The Tessera language server is stopped. Click to restart it.', 'normal');
    case 'failed': {
      const reason = input.failure ?? 'the language server is not running';
      return view(
        '$(error) Tessera',
        `Tessera: error: ${reason}`,
        `Tessera: ${reason}\nClick to restart the server; the Tessera output has details.`,
        'error',
      );
    }
    case 'running': {
      const health = input.health;
      if (!health) {
        return view('$(loading~spin) Tessera', 'Tessera: starting', 'The Tessera language server is checking its runtime…', 'normal');
      }
      const recent = crash !== undefined && input.now - crash.at < RECENT_CRASH_MS;
      const suffix = recent ? ' (restarted)' : '';
      if (health.state === 'error') {
        return view('$(error) Tessera', `Tessera: error: ${health.message}`, `Tessera: ${health.message}${crashNote}`, 'error');
      }
      if (health.state === 'warning') {
        return view(
          `$(warning) Tessera${suffix}`,
          `Tessera: warning: ${health.message}${suffix}`,
          `Tessera: ${health.message}${crashNote}`,
          'warning',
        );
      }
      const c = input.lastCompletion;
      const latency = c ? ` ${c.model} ${Math.round(c.latencyMs)} ms` : '';
      const last = c?.typedThrough
        ? `\nLast completion: the rest of the one before, which you are typing (no model run)`
        : c
          ? `\nLast completion: ${c.latencyMs.toFixed(0)} ms, ${c.tokens} tokens (${c.prefillTokens} prompt tokens run, ${c.reusedTokens} from the cache), ` +
            `confidence ${c.confidence.toFixed(2)}${c.shown ? '' : `, not shown: ${c.reason ?? '?'}`}` +
            `${c.healing && c.healing !== 'off' ? `; started inside a word (${c.healing === 'exact' ? 'exact byte-level prompting' : 'token healing'})` : ''}` +
            `${c.canonical === false ? '; its tokens are not the canonical encoding of its text' : ''}` +
            `${c.headProbability !== undefined ? `; shown: the head with probability ${c.headProbability.toFixed(2)}` : ''}` +
            `${c.filteredBy ? `; the filters cut ${c.filteredBy}` : ''}` +
            `${c.snippets?.length ? `; context from ${c.snippets.join(', ')}` : ''}` +
            `${c.computedAhead ? '; computed ahead, while the one you accepted was shown' : ''}` +
            `${c.timeLimitMs ? `; decoding stopped at the time limit (${c.timeLimitMs} ms)` : ''}`
          : '';
      const detail = health.detail ? `\n${health.detail}` : '';
      return view(
        `$(check) Tessera${latency}${suffix}`,
        `Tessera: ready${suffix}`,
        `Tessera: ${health.message}${detail}${last}${crashNote}`,
        'normal',
      );
    }
  }
}

function view(text: string, label: string, tooltip: string, severity: StatusView['severity']): StatusView {
  return { text, label, tooltip, severity };
}
