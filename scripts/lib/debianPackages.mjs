// Debian packages a script needs, installed when missing (as root; otherwise the command to run is
// printed). Each caller names its own packages: `npm start` needs the browser, `npm test` also strace.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * @param {Array<{pkg: string, provides: string}>} packages each package and a file it installs
 * @param {string} purpose what needs them, for the message
 */
export function ensureDebianPackages(packages, purpose) {
  const missing = packages.filter((p) => !existsSync(p.provides)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`${purpose} need Debian packages that are missing. Run as root:\n  ${command}`);
  }
  process.stderr.write(`[debian] installing for ${purpose}: ${missing.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}
