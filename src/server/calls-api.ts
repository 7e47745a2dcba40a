/**
 * The calls API: `POST /api/calls` places a call (JSON `to`, `from`, `flow`, `vars`, `idempotencyKey`) and
 * answers 201 with its SID, or 200 with the SID a request with the same key placed before. It takes
 * `Authorization: Bearer <API_KEY>`; without API_KEY the API is off and says so. A refused request is answered
 * with its error code, a message naming what is wrong (never a value from the request) and `field` when one
 * field is at fault; the key a client sent is never logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchboardError, isRetryable, isSwitchboardError } from '../errors.ts';
import type { CallJournals } from '../call/journals.ts';
import type { ServerConfig } from '../config/env.ts';
import type { CompiledFlow } from '../flow/index.ts';
import type { Logger } from '../observability/logger.ts';
import { Dialer } from '../outbound/dialer.ts';
import { TwilioOutboundCalls } from '../telephony/outbound-calls.ts';
import { CALLS_API_PATH } from '../outbound/api-path.ts';
import { hasBearer } from './bearer.ts';
import { header, readBody, sendJson, statusFor } from './http.ts';
import { AMD_PATH, STATUS_PATH, VOICE_PATH } from './twilio-webhooks.ts';

export interface CallsApiOptions {
  /** API_KEY; null: the API is off. */
  apiKey: string | null;
  /** Null when the server cannot place calls (no Twilio account configured). */
  dialer: Dialer | null;
  logger: Logger;
}

export class CallsApi {
  readonly #opts: CallsApiOptions;

  constructor(opts: CallsApiOptions) {
    this.#opts = opts;
  }

  /** Serve `route` ("METHOD /path") if it is the API's; false otherwise. Answers every error itself. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string): Promise<boolean> {
    if (route !== `POST ${CALLS_API_PATH}`) return false;
    try {
      const result = await this.#dial(req);
      sendJson(
        res,
        { callSid: result.callSid, idempotencyKey: result.key, created: result.created },
        result.created ? 201 : 200,
      );
    } catch (err) {
      this.#refuse(res, err);
    }
    return true;
  }

  async #dial(req: IncomingMessage) {
    const { apiKey, dialer } = this.#opts;
    if (apiKey === null) throw new SwitchboardError('API_DISABLED');
    if (!hasBearer(req, apiKey)) {
      throw new SwitchboardError('HTTP_UNAUTHORIZED', 'send the API key as Authorization: Bearer <API_KEY>');
    }
    if (dialer === null) {
      throw new SwitchboardError(
        'CONFIG_INVALID',
        'placing calls needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
      );
    }
    if (!(header(req, 'content-type') ?? '').startsWith('application/json')) {
      throw new SwitchboardError('HTTP_BAD_BODY', 'expected Content-Type: application/json');
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch (err) {
      if (isSwitchboardError(err)) throw err;
      throw new SwitchboardError('HTTP_BAD_BODY', 'the body is not JSON');
    }
    return dialer.dial(body);
  }

  #refuse(res: ServerResponse, err: unknown): void {
    const typed = isSwitchboardError(err) ? err : null;
    const code = typed?.code ?? 'INTERNAL';
    const level = typed === null || code === 'TWILIO_REST_FAILED' ? 'error' : 'warn';
    this.#opts.logger[level]('calls API request refused', {
      code,
      ...(typed === null ? { err } : {}),
      ...(typeof typed?.data.field === 'string' ? { field: typed.data.field } : {}),
    });
    const extra: Record<string, unknown> = {};
    for (const name of ['field', 'missing', 'twilioCode', 'moreInfo'] as const) {
      if (typed?.data[name] !== undefined && typed.data[name] !== null) extra[name] = typed.data[name];
    }
    const status = code === 'CONFIG_INVALID' ? 503 : statusFor(err);
    sendJson(
      res,
      { error: code, message: typed?.message ?? 'Internal error', retryable: isRetryable(err), ...extra },
      status,
    );
  }
}

/**
 * The calls API a server's configuration asks for: off without API_KEY, unable to dial (and saying so) without
 * Twilio credentials. Loads the twilio library now, not on the first request.
 */
export function callsApiFor(
  config: Pick<
    ServerConfig,
    'apiKey' | 'twilioAccountSid' | 'twilioAuthToken' | 'twilioApiUrl' | 'twilioCallerId'
  >,
  deps: {
    flows: ReadonlyMap<string, CompiledFlow>;
    journals: CallJournals;
    logger: Logger;
    publicUrl: () => string;
  },
): CallsApi {
  const { twilioAccountSid: accountSid, twilioAuthToken: authToken } = config;
  let dialer: Dialer | null = null;
  if (config.apiKey !== null && accountSid !== null && authToken !== null) {
    const calls = new TwilioOutboundCalls({
      accountSid,
      authToken,
      ...(config.twilioApiUrl === null ? {} : { apiUrl: config.twilioApiUrl }),
    });
    calls.warm();
    dialer = new Dialer({
      store: deps.journals.store,
      owner: deps.journals.owner,
      calls,
      flows: deps.flows,
      defaultFrom: config.twilioCallerId,
      publicUrl: deps.publicUrl,
      paths: { voice: VOICE_PATH, status: STATUS_PATH, amd: AMD_PATH },
      logger: deps.logger,
    });
  }
  return new CallsApi({ apiKey: config.apiKey, dialer, logger: deps.logger });
}
