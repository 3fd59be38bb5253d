// The nonce a webview's Content-Security-Policy allows its own style and script by: fresh per page.
import { randomBytes } from 'node:crypto';

export function webviewNonce(): string {
  return randomBytes(18).toString('base64');
}
