// Real code for tokenizer tests, gathered from what every machine of ours has: the project's
// node_modules (TypeScript, JavaScript, C headers), the Python standard library and the system's C
// headers. Deterministic for one machine: sorted walk, fixed byte budgets.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repoRoot';

export interface CorpusFile {
  path: string;
  language: string;
  text: string;
}

const SOURCES = [
  { language: 'typescript', root: join(repoRoot, 'node_modules'), pattern: /\.d\.ts$/, budget: 1_400_000 },
  { language: 'typescript', root: join(repoRoot, 'language-server'), pattern: /\.ts$/, budget: 200_000 },
  { language: 'javascript', root: join(repoRoot, 'node_modules'), pattern: /(?<!\.min)\.js$/, budget: 1_400_000 },
  { language: 'python', root: pythonLibrary(), pattern: /\.py$/, budget: 1_400_000 },
  { language: 'c', root: join(repoRoot, 'node_modules'), pattern: /\.h$/, budget: 350_000 },
  { language: 'c', root: '/usr/include', pattern: /\.h$/, budget: 700_000 },
];

/** The newest /usr/lib/python3.N (whichever Python the machine has). */
function pythonLibrary(): string {
  const versions = safeList('/usr/lib').filter((n) => /^python3\.\d+$/.test(n));
  versions.sort((a, b) => Number(b.split('.')[1]) - Number(a.split('.')[1]));
  return join('/usr/lib', versions[0] ?? 'python3');
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function loadCorpus(scale = 1): CorpusFile[] {
  const files: CorpusFile[] = [];
  for (const source of SOURCES) {
    const budget = { left: source.budget * scale };
    walk(source.root, source.pattern, budget, (path, text) => files.push({ path, language: source.language, text }));
  }
  return files;
}

function walk(dir: string, pattern: RegExp, budget: { left: number }, take: (path: string, text: string) => void): void {
  for (const name of safeList(dir)) {
    if (budget.left <= 0) return;
    if (name === '.bin' || name.startsWith('.')) continue;
    const path = join(dir, name);
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    if (stat.isDirectory()) walk(path, pattern, budget, take);
    else if (pattern.test(name) && stat.size > 200 && stat.size < 200_000) {
      const text = readFileSync(path, 'utf8');
      // Leave out minified and generated files: long lines are not hand-written code.
      if (text.split('\n').some((line) => line.length > 1000)) continue;
      take(path, text);
      budget.left -= Buffer.byteLength(text);
    }
  }
}

/** Text that breaks tokenizers: astral characters, lone surrogates, BOMs, NFD, CRLF, bidi, etc. */
export const STRESS_TEXTS: Record<string, string> = {
  emoji: 'const s = "😀👍🏽👨‍👩‍👧‍👦 🇫🇷"; // 🚀\n',
  astral: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𠀋𠂢 \u{10FFFF}\n',
  loneSurrogates: 'a\uD800b \uDC00c \uD83D\n\uDE00 end',
  bom: '\uFEFFimport x from "y";\n\uFEFF mid\n',
  nfd: 'cafe\u0301 re\u0301sume\u0301 A\u030A n\u0303o\u0303\n',
  crlf: 'line one\r\nline two\r\n\r\n  indented\r\n',
  tabs: '\tdef f():\n\t\treturn 1\t# tab\n',
  bidi: 'const x = "\u202Eevil\u202C"; /* \u2066isolate\u2069 \u200F */\n',
  invisible: 'a\u200Bb\u200Cc\u200Dd\u2060e\u00ADf\u180Eg\u3000h\u00A0i\u0085j\n',
  latin1: 'Führer Ærøskøbing façade naïve ñandú ÿ þorn ðe õ ÷ ø ù ú û ü ý\n',
  cjk: '漢字テスト 한국어 привет αβγ עברית العربية ١٢٣\n',
  digits: 'x = 1234567890 + 0.5e-10 + 0xFF_FF + ½ + ²³\n',
  longLine: `${`const a = [${Array.from({ length: 3000 }, (_, i) => i).join(', ')}];`}\n`,
  longWord: `${'x'.repeat(20_000)} ${'ab'.repeat(5000)}\n`,
  spaces: `${' '.repeat(3000)}end\n${'\t'.repeat(500)}\n\n\n\n`,
  punctuation: '=====================================================================\n)))))]]]]}}}};;;;,,,,\n',
};

/** A file whose text names a control token: the reference turns it into the control id, we don't. */
export function namesControlToken(
  tok: { addedTokens: ReadonlyArray<{ id: number; content: string }>; isControl(id: number): boolean },
  text: string,
): boolean {
  return tok.addedTokens.some((t) => tok.isControl(t.id) && t.content.length > 0 && text.includes(t.content));
}

/** Rust strings cannot hold lone surrogates: the reference sees U+FFFD, as our encoder does. */
export const wellFormed = (text: string): string =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
