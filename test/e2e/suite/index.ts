// Runs inside VS Code's extension host (passed as extensionTestsPath). Mocha runs every
// *.test.js beside this file; the outcome goes to the console and, as JSON, to the file named
// by TESSERA_E2E_RESULTS so the driver outside can report each test.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

interface Outcome {
  title: string;
  state: 'passed' | 'failed';
  durationMs: number;
  error?: string;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  // Sorted by name: zz-largeFiles runs last, so the language services it loads slow no other test.
  for (const file of readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort()) {
    mocha.addFile(join(__dirname, file));
  }
  const outcomes: Outcome[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const file = process.env.TESSERA_E2E_RESULTS;
      if (file) writeFileSync(file, JSON.stringify(outcomes, null, 2));
      if (failures > 0) reject(new Error(`${failures} in-editor tests failed`));
      else resolve();
    });
    runner.on('pass', (t) => outcomes.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 }));
    runner.on('fail', (t, err: Error) =>
      outcomes.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration ?? 0, error: err.stack ?? err.message }),
    );
  });
}
