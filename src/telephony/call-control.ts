/**
 * Live call control over Twilio's REST API: replace a call's TwiML (redirect), connect it elsewhere (transfer, a
 * redirect to `<Dial>`), or hang it up. Redirecting ends the media stream with the same `stop` a hang-up sends, so
 * whoever calls this must not read that `stop` as the caller leaving.
 *
 * The `twilio` package's own client builds the requests. Loading it costs ~140-160 ms of blocking CommonJS (axios
 * and the REST tree), so it is required only when first needed (or in warm()), from its deep module
 * lib/rest/Twilio.js, which skips the webhooks, JWT and TwiML builders the package root also loads. With `apiUrl`
 * (TWILIO_API_URL) its requests go to that base URL instead of Twilio (api-url.ts).
 */
import { createRequire } from 'node:module';
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { parseTwilioApiUrl, rebasedRequestClient } from './api-url.ts';
import { MAX_INLINE_TWIML_CHARS, dialTwiml } from './twiml.ts';

const require = createRequire(import.meta.url);

const CALL_SID = /^CA[0-9a-f]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;

/** A transfer should not hang for the library's default 30 s while the caller waits in silence. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface CallControlOptions {
  accountSid: string;
  authToken: string;
  logger: Logger;
  /**
   * Replaces the HTTP client the twilio library sends requests with: anything with its RequestClient's
   * `request(opts)` (tests pass a recording double). Default: the library's own.
   */
  httpClient?: unknown;
  /**
   * TWILIO_API_URL: the base URL every request goes to instead of Twilio (a fake or an emulator); https, or http
   * to a loopback host. Not used with `httpClient`.
   */
  apiUrl?: string;
}

type Action = 'redirect' | 'transfer' | 'hangup';

export class CallControl {
  readonly #accountSid: string;
  readonly #authToken: string;
  readonly #logger: Logger;
  readonly #httpClient: unknown;
  readonly #apiUrl: string | null;
  #client: TwilioClient | null = null;

  /** Throws CONFIG_INVALID for an account SID or auth token that could never authenticate, or a bad `apiUrl`. */
  constructor(options: CallControlOptions) {
    if (!ACCOUNT_SID.test(options.accountSid)) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        'Twilio account SID must be "AC" and 32 lower-case hex digits',
      );
    }
    if (options.authToken.length === 0)
      throw new SwitchboardError('CONFIG_INVALID', 'Twilio auth token is empty');
    this.#accountSid = options.accountSid;
    this.#authToken = options.authToken;
    this.#logger = options.logger;
    this.#httpClient = options.httpClient;
    this.#apiUrl = options.apiUrl === undefined ? null : parseTwilioApiUrl(options.apiUrl);
  }

  /**
   * Loads the twilio library and builds the client now, sending nothing. Loading blocks the event loop for
   * ~150 ms; call this at start-up so the first transfer does not stall every live call's audio.
   */
  warm(): void {
    this.#getClient();
  }

  /** Replace a live call's TwiML (ends its media stream). Resolves when Twilio accepted it. */
  async redirect(callSid: string, twiml: string): Promise<void> {
    await this.#run('redirect', callSid, () => {
      checkTwiml(twiml);
      return { twiml };
    });
    this.#logger.info('call redirected', { callSid });
  }

  /** Connect the caller to `to` (E.164) by redirecting the call to `<Dial>`. */
  async transfer(callSid: string, to: string, options: { callerId?: string } = {}): Promise<void> {
    await this.#run('transfer', callSid, () => {
      const twiml = dialTwiml(to, options.callerId === undefined ? {} : { callerId: options.callerId });
      checkTwiml(twiml);
      return { twiml };
    });
    this.#logger.info('call transferred', { callSid, pii: { to } });
  }

  /** End a live call. */
  async hangup(callSid: string): Promise<void> {
    await this.#run('hangup', callSid, () => ({ status: 'completed' as const }));
    this.#logger.info('call hung up', { callSid });
  }

  /** Validates everything first (no request for a bad input), then updates the call; one log line per failure. */
  async #run(
    action: Action,
    callSid: string,
    params: () => { twiml: string } | { status: 'completed' },
  ): Promise<void> {
    try {
      if (!CALL_SID.test(callSid)) {
        throw new SwitchboardError(
          'CALL_CONTROL_INVALID',
          'call SID must be "CA" and 32 lower-case hex digits',
          {
            action,
          },
        );
      }
      const update = params();
      try {
        await this.#getClient().calls(callSid).update(update);
      } catch (err) {
        throw restError(action, callSid, err);
      }
    } catch (err) {
      const e = isSwitchboardError(err)
        ? err
        : new SwitchboardError('TWILIO_REST_FAILED', `${action}: client error`, { action });
      this.#logger.error('call control failed', {
        action,
        callSid,
        code: e.code,
        status: e.data.status ?? null,
        twilioCode: e.data.twilioCode ?? null,
        // Twilio's own message can quote the numbers involved.
        ...(twilioMessage(err) === undefined ? {} : { pii: { twilioMessage: twilioMessage(err) } }),
      });
      throw e;
    }
  }

  #getClient(): TwilioClient {
    if (this.#client === null) {
      const Twilio = require('twilio/lib/rest/Twilio.js') as typeof TwilioClient;
      // The library applies `timeout` only to the client it builds itself; a rebased one is given it here.
      const httpClient =
        this.#httpClient ??
        (this.#apiUrl === null
          ? undefined
          : rebasedRequestClient(this.#apiUrl, { timeout: REQUEST_TIMEOUT_MS }));
      this.#client = new Twilio(this.#accountSid, this.#authToken, {
        timeout: REQUEST_TIMEOUT_MS,
        ...(httpClient === undefined ? {} : { httpClient: httpClient as RequestClient }),
      });
    }
    return this.#client;
  }
}

function checkTwiml(twiml: string): void {
  if (twiml.length > MAX_INLINE_TWIML_CHARS) {
    throw new SwitchboardError('CALL_CONTROL_INVALID', `TwiML over ${MAX_INLINE_TWIML_CHARS} characters`, {
      length: twiml.length,
    });
  }
}

/** Errors the twilio library raises for an answer outside 2xx (RestException and the RFC 9457 form). */
interface TwilioApiError {
  status: number;
  code?: unknown;
  moreInfo?: unknown;
  message?: unknown;
}

function isTwilioApiError(err: unknown): err is TwilioApiError {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

function twilioMessage(err: unknown): string | undefined {
  const original = err instanceof SwitchboardError ? err.cause : err;
  return isTwilioApiError(original) && typeof original.message === 'string' ? original.message : undefined;
}

/**
 * The typed error for a failed update: HTTP status and Twilio's error code in `data` and the message, nothing that
 * came from the caller. The original error is kept as `cause` only when it is Twilio's answer: a transport error
 * (axios) carries the request, auth header and TwiML included.
 */
function restError(action: Action, callSid: string, err: unknown): SwitchboardError {
  if (isTwilioApiError(err)) {
    const twilioCode = typeof err.code === 'number' && err.code !== 0 ? err.code : null;
    return new SwitchboardError(
      'TWILIO_REST_FAILED',
      `${action} answered HTTP ${err.status}${twilioCode === null ? '' : ` (Twilio error ${twilioCode})`}`,
      {
        action,
        callSid,
        status: err.status,
        twilioCode,
        ...(typeof err.moreInfo === 'string' ? { moreInfo: err.moreInfo } : {}),
      },
      { cause: err },
    );
  }
  // Network failures (ECONNRESET, timeouts) and unparseable answers: only the error's name and code are safe.
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
  return new SwitchboardError('TWILIO_REST_FAILED', `${action} got no usable answer (${reason})`, {
    action,
    callSid,
    status: null,
    twilioCode: null,
    reason,
  });
}
