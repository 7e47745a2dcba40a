/**
 * Page tokens for the browser softphone. The page is given a token when it is served; its API calls and its
 * media websocket must present it. A token is `<expiryMs>.<base64url HMAC-SHA256(secret, expiryMs)>` under a
 * secret that lives only in this process, so a restart invalidates every page (the page is simply reloaded).
 * It proves the caller loaded the page from this server; it is not a Twilio signature and never replaces one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a served page may place calls. */
export const PAGE_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

export class PageTokens {
  readonly #secret: Buffer;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { secret?: Buffer; ttlMs?: number; now?: () => number } = {}) {
    this.#secret = options.secret ?? randomBytes(32);
    this.#ttlMs = options.ttlMs ?? PAGE_TOKEN_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** A new token, valid for the TTL from now. */
  mint(): string {
    const expiry = String(this.#now() + this.#ttlMs);
    return `${expiry}.${this.#mac(expiry).toString('base64url')}`;
  }

  /** True only for a well-formed, unexpired token minted under this process's secret. */
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

  #mac(expiry: string): Buffer {
    return createHmac('sha256', this.#secret).update(`softphone-page:${expiry}`).digest();
  }
}
