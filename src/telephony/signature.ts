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

/** True when `signature` is Twilio's signature of a request to `url` with form `params`; false when it is missing. */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature || !authToken) return false;
  try {
    return webhooks.validateRequest(authToken, signature, url, params);
  } catch {
    // validateRequest throws on a URL it cannot parse: that is simply not a valid request.
    return false;
  }
}

/**
 * True when `signature` signs the websocket upgrade to `streamUrl` (the exact wss URL from our TwiML, empty
 * params). The twilio validator tries port variants but not a trailing slash, so both forms are tried here.
 */
export function isValidStreamSignature(
  authToken: string,
  signature: string | undefined,
  streamUrl: string,
): boolean {
  if (isValidTwilioSignature(authToken, signature, streamUrl, {})) return true;
  const other = streamUrl.endsWith('/') ? streamUrl.slice(0, -1) : streamUrl + '/';
  return isValidTwilioSignature(authToken, signature, other, {});
}

/** The X-Twilio-Signature Twilio would send for a request to `url` with form `params` (simulated caller, tests). */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  return webhooks.getExpectedTwilioSignature(authToken, url, params);
}
