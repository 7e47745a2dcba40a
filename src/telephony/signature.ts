/**
 * Twilio request signatures (X-Twilio-Signature) for webhooks and the media websocket upgrade.
 *
 * The `twilio` package's own validator is used, but loaded from its deep module: `import 'twilio'` builds the
 * whole REST client (~95-135 ms at start-up), while lib/webhooks/webhooks.js needs only node's crypto, url and
 * querystring (~4 ms). createRequire loads it as plain CommonJS, skipping the ESM wrapper of a static import.
 */
import { createRequire } from 'node:module';
import type * as TwilioWebhooks from 'twilio/lib/webhooks/webhooks.js';

const require = createRequire(import.meta.url);
const webhooks = require('twilio/lib/webhooks/webhooks.js') as typeof TwilioWebhooks;

/**
 * The auth tokens a signature may be made with: one, or while the token is rotated the primary and the
 * secondary (TWILIO_AUTH_TOKEN_SECONDARY). Empty and absent entries are skipped.
 */
export type AuthTokens = string | readonly (string | null | undefined)[];

/**
 * True when `signature` is Twilio's signature of a request to `url` with form `params` under any of
 * `authTokens`; false when it is missing.
 */
export function isValidTwilioSignature(
  authTokens: AuthTokens,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  return tokensOf(authTokens).some((token) => validates(token, signature, url, params));
}

/**
 * True when `signature` signs the websocket upgrade to `streamUrl` (the exact wss URL from our TwiML, empty
 * params) under any of `authTokens`. The twilio validator tries port variants but not a trailing slash, so both
 * forms are tried here.
 */
export function isValidStreamSignature(
  authTokens: AuthTokens,
  signature: string | undefined,
  streamUrl: string,
): boolean {
  if (isValidTwilioSignature(authTokens, signature, streamUrl, {})) return true;
  const other = streamUrl.endsWith('/') ? streamUrl.slice(0, -1) : streamUrl + '/';
  return isValidTwilioSignature(authTokens, signature, other, {});
}

/** The X-Twilio-Signature Twilio would send for a request to `url` with form `params` (simulated caller, tests). */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  return webhooks.getExpectedTwilioSignature(authToken, url, params);
}

function tokensOf(authTokens: AuthTokens): string[] {
  const list = typeof authTokens === 'string' ? [authTokens] : authTokens;
  // An empty token would make every signature computed with it a key anyone can derive.
  return list.filter((token): token is string => typeof token === 'string' && token !== '');
}

function validates(token: string, signature: string, url: string, params: Record<string, string>): boolean {
  try {
    return webhooks.validateRequest(token, signature, url, params);
  } catch {
    // validateRequest throws on a URL it cannot parse: that is simply not a valid request.
    return false;
  }
}
