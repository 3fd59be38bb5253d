import type { TesseraSettings } from './lsp_ext';

export const DEFAULT_SETTINGS: TesseraSettings = {
  tokenizer: '',
  tokenizerDirectories: [],
  compareTokenizers: [],
  maxFileMB: 8,
  diagnostics: { normalization: true, invisible: true, straddle: true },
};

const positive = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);

/**
 * Settings from the `tessera` section as VS Code shapes it (`tokens.maxFileMB`,
 * `diagnostics.invisible`, ...), with defaults for what is missing or malformed.
 */
export function readSettings(raw: unknown): TesseraSettings {
  const r = (raw ?? {}) as Record<string, unknown>;
  const d = (r.diagnostics ?? {}) as Record<string, unknown>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : []);
  const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);
  return {
    tokenizer: typeof r.tokenizer === 'string' ? r.tokenizer.trim() : '',
    tokenizerDirectories: strings(r.tokenizerDirectories),
    compareTokenizers: strings(r.compareTokenizers),
    maxFileMB: positive((r.tokens as Record<string, unknown> | undefined)?.maxFileMB) ?? DEFAULT_SETTINGS.maxFileMB,
    diagnostics: {
      normalization: bool(d.normalization, true),
      invisible: bool(d.invisible, true),
      straddle: bool(d.straddle, true),
    },
  };
}
