/**
 * Whether a request was sent by a browser on behalf of another site. Twilio sends neither `Sec-Fetch-Site` nor
 * `Origin`; a browser sends them with a form another site's page posts. Without TWILIO_AUTH_TOKEN the webhooks
 * take unsigned requests, so such a form could place calls from a visitor's browser: it is refused instead.
 */
import type { IncomingMessage } from 'node:http';
import { header } from './http.ts';

export function isCrossSiteBrowserRequest(req: IncomingMessage): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = header(req, 'origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() !== (header(req, 'host') ?? '').toLowerCase();
  } catch {
    // `Origin: null` (a sandboxed or file page) or garbage: not this server's own page.
    return true;
  }
}
