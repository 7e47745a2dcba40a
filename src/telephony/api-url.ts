/**
 * TWILIO_API_URL: where the twilio library's REST requests go instead of Twilio (a local fake, an emulator).
 *
 * The library builds every request's URI on a Twilio host: `https://api.twilio.com/2010-04-01/...`, another
 * product's domain, or `api.<edge>.<region>.twilio.com` with TWILIO_EDGE and TWILIO_REGION. The request
 * client here sends each to the base URL instead, path and query kept; credentials, headers, form data and
 * timeout pass through untouched. The library's own RequestClient (axios) still sends it, so a fake sees the
 * bytes Twilio would.
 */
import { createRequire } from 'node:module';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { SwitchboardError } from '../errors.ts';

const require = createRequire(import.meta.url);

const VARIABLE = 'TWILIO_API_URL';
/** Hosts plain http may reach (as WHATWG URLs write them): the token must not cross a network in clear. */
const LOOPBACK_HOST = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

/**
 * The base URL `text` names, as its origin (`http://127.0.0.1:4010`): https to any host, or http to a
 * loopback one (127.0.0.0/8, ::1, localhost), with no path, query, fragment or credentials. Throws
 * CONFIG_INVALID naming TWILIO_API_URL and what is wrong, without the value (it may hold a password).
 */
export function parseTwilioApiUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw invalid('must be an http(s) URL such as https://twilio-fake.example or http://127.0.0.1:4010');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('must not hold credentials: the account SID and auth token are sent with each request');
  }
  if (url.pathname !== '/') {
    throw invalid('must have no path: the API paths (/2010-04-01/...) are added to it');
  }
  if (/[?#]/.test(text)) throw invalid('must have no query or fragment');
  if (url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) {
    throw invalid(
      'must use https for a host that is not loopback (127.0.0.0/8, ::1, localhost): the auth token goes with every request',
    );
  }
  return url.origin;
}

function invalid(why: string): SwitchboardError {
  return new SwitchboardError('CONFIG_INVALID', `${VARIABLE} ${why}`);
}

/** The part of the twilio library's RequestClient that its REST client calls. */
export interface TwilioHttpClient {
  request(opts: RequestClient.RequestOptions): Promise<unknown>;
}

/** Sends each request of the twilio library to `apiUrl` instead of the Twilio host its URI names. */
export class RebasedRequestClient implements TwilioHttpClient {
  readonly #base: string;
  readonly #inner: TwilioHttpClient;

  /** Throws CONFIG_INVALID for an `apiUrl` parseTwilioApiUrl refuses. */
  constructor(apiUrl: string, inner: TwilioHttpClient) {
    this.#base = parseTwilioApiUrl(apiUrl);
    this.#inner = inner;
  }

  /** The library's request, its `uri` on the base URL; rejects, sending nothing, for a URI not on Twilio. */
  async request(opts: RequestClient.RequestOptions): Promise<unknown> {
    return this.#inner.request({ ...opts, uri: rebase(this.#base, opts.uri) });
  }
}

/**
 * The library's own RequestClient with `options`, rebased on `apiUrl`. Loading it (axios) is most of the cost
 * of loading the library, so it is required here, on first use, not when this module is imported.
 */
export function rebasedRequestClient(
  apiUrl: string,
  options: RequestClient.RequestClientOptions,
): RebasedRequestClient {
  const LibraryClient = require('twilio/lib/base/RequestClient.js') as typeof RequestClient;
  return new RebasedRequestClient(apiUrl, new LibraryClient(options));
}

/** `https://<host>.twilio.com/<path>?<query>` as `<base>/<path>?<query>`. */
function rebase(base: string, uri: string): string {
  const url = URL.canParse(uri) ? new URL(uri) : null;
  // Anything else would take the account's credentials to a host nobody configured.
  if (url === null || url.protocol !== 'https:' || !isTwilioHost(url.hostname)) {
    throw new SwitchboardError('TWILIO_REST_FAILED', 'the twilio library asked for a URI outside Twilio');
  }
  return base + url.pathname + url.search;
}

function isTwilioHost(hostname: string): boolean {
  return hostname === 'twilio.com' || hostname.endsWith('.twilio.com');
}
