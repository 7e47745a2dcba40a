/** Posting a webhook the way Twilio does: form-encoded, signed when a token is given, with Twilio's timeout. */
import { signTwilioRequest } from '../telephony/signature.ts';
import { REFUSAL_HEADER } from '../telephony/twiml.ts';
import { readTwiml, type TwimlInstructions } from './twiml-reader.ts';

/** The server could not be reached at `url`: nothing listens there, its name does not resolve, no answer. */
export class ServerUnreachableError extends Error {
  readonly url: string;
  /** The system's reason, such as ECONNREFUSED; null when there is none (a timeout, say). */
  readonly code: string | null;

  constructor(url: string, code: string | null, why: string, options?: ErrorOptions) {
    super(`cannot reach the server at ${url}: ${why}`, options);
    this.name = 'ServerUnreachableError';
    this.url = url;
    this.code = code;
  }
}

/** The server answered the webhook with an HTTP error status (a 503 when it is busy, say). */
export class WebhookHttpError extends Error {
  readonly url: string;
  readonly status: number;

  constructor(url: string, status: number, body: string) {
    super(`${url} answered HTTP ${status}: ${body.slice(0, 200)}`);
    this.name = 'WebhookHttpError';
    this.url = url;
    this.status = status;
  }
}

/** Twilio gives up on a webhook after 15 s; so does the simulated caller. */
const WEBHOOK_TIMEOUT_MS = 15_000;

/** Why a webhook could not be posted, by the system's code. */
const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/** What fetch's failure says about why the server could not be reached (its cause carries the system code). */
function unreachable(url: string, err: unknown): ServerUnreachableError {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  const why = code
    ? `${NETWORK_FAILURES[code] ?? 'network error'} (${code})`
    : typeof cause?.message === 'string'
      ? cause.message
      : String(err);
  return new ServerUnreachableError(url, code, why, { cause: err });
}

/**
 * Posts a webhook as Twilio does; the TwiML answered, and the server's refusal header if it sent one. With
 * `followRedirects: false` a redirect is not followed (it is answered as an HTTP error), so nothing but `url` is
 * ever called.
 */
export async function postWebhook(
  url: string,
  params: Record<string, string>,
  authToken: string | null | undefined,
  signal: AbortSignal | undefined,
  options: { followRedirects?: boolean } = {},
): Promise<{ twiml: TwimlInstructions; refusal: string | null }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authToken) headers['x-twilio-signature'] = signTwilioRequest(authToken, url, params);
  const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: new URLSearchParams(params).toString(),
      redirect: options.followRedirects === false ? 'manual' : 'follow',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    if (timeout.aborted)
      throw new ServerUnreachableError(url, null, `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`);
    throw unreachable(url, err);
  }
  const text = await res.text();
  if (!res.ok) throw new WebhookHttpError(url, res.status, text);
  return { twiml: readTwiml(text), refusal: res.headers.get(REFUSAL_HEADER) };
}
