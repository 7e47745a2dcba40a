/**
 * Page tokens for the browser softphone. The page is given a token when it is served; its API calls and its
 * media websocket must present it. A token is `<expiryMs>.<base64url HMAC-SHA256(key, expiryMs)>`. The server's
 * key is derived from the journal store's shared secret (see SOFTPHONE_TOKEN_PURPOSE), so a page left open keeps
 * working across a restart and on every instance sharing the store; without a key (tests) it is per process.
 * It proves the caller loaded the page from this server; it is not a Twilio signature and never replaces one.
 *
 * A call's live view takes a token of its own, `view(callSid)`, an HMAC of the call id under the same key, given
 * only to the page that placed the call: another page's token, valid as it is, does not open it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** How long a served page may place calls. */
export const PAGE_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
/** The cookie the softphone and calls list pages set, that a call's page and log require. */
export const PAGE_COOKIE = 'switchboard_page';

/**
 * The header setting the page cookie: HttpOnly (no script reads it) and SameSite=Strict (no other site's page
 * or link sends it), for as long as the token lives.
 */
export function setPageCookie(token: string): Record<string, string> {
  const maxAge = Math.floor(PAGE_TOKEN_TTL_MS / 1000);
  return { 'set-cookie': `${PAGE_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}` };
}

/** The page cookie's value in a request, or undefined. */
export function pageCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === PAGE_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** What the page-token key is derived for from the store's shared secret: it is used for nothing else. */
export const SOFTPHONE_TOKEN_PURPOSE = 'softphone-page-token';

export class PageTokens {
  /** The key, or how to get it: read on first use, since the store's secret is loaded after start-up. */
  #secret: Buffer | (() => Buffer);
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** `secret`: the MAC key, or a function giving it (called once, on first use); a random one per process if absent. */
  constructor(options: { secret?: Buffer | (() => Buffer); ttlMs?: number; now?: () => number } = {}) {
    this.#secret = options.secret ?? randomBytes(32);
    this.#ttlMs = options.ttlMs ?? PAGE_TOKEN_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A new token, valid for the TTL from now. */
  mint(): string {
    const expiry = String(this.#now() + this.#ttlMs);
    return `${expiry}.${this.#mac(expiry).toString('base64url')}`;
  }

  /** True only for a well-formed, unexpired token minted under this key. */
  verify(token: string | null | undefined): boolean {
    if (typeof token !== 'string' || token.length > 128) return false;
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return false;
    const expiry = m[1]!;
    const given = Buffer.from(m[2]!, 'base64url');
    const expected = this.#mac(expiry);
    // Lengths are equal by the pattern (43 base64url chars = 32 bytes); compare in constant time.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    return Number(expiry) > this.#now();
  }

  /** The token that opens `callSid`'s live view. */
  view(callSid: string): string {
    if (typeof this.#secret === 'function') this.#secret = this.#secret();
    return createHmac('sha256', this.#secret).update(`softphone-view:${callSid}`).digest('base64url');
  }

  /** True only for the view token of `callSid`. */
  verifyView(callSid: string, token: string | null | undefined): boolean {
    if (typeof token !== 'string' || token.length !== 43) return false;
    const given = Buffer.from(token, 'base64url');
    const expected = Buffer.from(this.view(callSid), 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(expiry: string): Buffer {
    if (typeof this.#secret === 'function') this.#secret = this.#secret();
    return createHmac('sha256', this.#secret).update(`softphone-page:${expiry}`).digest();
  }
}
