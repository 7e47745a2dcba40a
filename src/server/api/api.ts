/**
 * The calls API, under `/api/`: placing calls and reading their dials (dial-routes.ts), and the campaigns that
 * place them from a file (campaign-routes.ts). Every route takes `Authorization: Bearer <API_KEY>`; without
 * API_KEY the API is off and says so. Bodies are JSON. A refused request is answered with its error code, a
 * message naming what is wrong (never a value from the request) and `field` when one field is at fault; the key
 * a client sent is never logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallJournals } from '../../call/journals.ts';
import type { ServerConfig } from '../../config/env.ts';
import { SwitchboardError, isRetryable, isSwitchboardError } from '../../errors.ts';
import type { CompiledFlow } from '../../flow/index.ts';
import type { Logger } from '../../observability/logger.ts';
import { CALLS_API_PATH } from '../../outbound/api-path.ts';
import { Dialer } from '../../outbound/dialer.ts';
import { TwilioOutboundCalls } from '../../telephony/outbound-calls.ts';
import { hasBearer } from '../bearer.ts';
import { header, readBody, sendJson, statusFor } from '../http.ts';
import { AMD_PATH, STATUS_PATH, VOICE_PATH } from '../twilio-webhooks.ts';
import { campaignAction, campaignRoute } from './campaign-routes.ts';
import { dialResult, dialView, listDials, needDialer, oneDial } from './dial-routes.ts';

export const API_PREFIX = '/api/';

export interface CallsApiOptions {
  /** API_KEY; null: the API is off. */
  apiKey: string | null;
  /** Null when the server cannot place calls (no Twilio account configured). */
  dialer: Dialer | null;
  journals: CallJournals;
  logger: Logger;
}

export class CallsApi {
  readonly #opts: CallsApiOptions;

  constructor(opts: CallsApiOptions) {
    this.#opts = opts;
  }

  /** Serve a request under /api/; false for any other path. Answers every error itself. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith(API_PREFIX)) return false;
    try {
      const { status, body } = await this.#route(req, url);
      sendJson(res, body, status);
    } catch (err) {
      this.#refuse(res, url.pathname, err);
    }
    return true;
  }

  async #route(req: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }> {
    const { apiKey, dialer, journals } = this.#opts;
    if (apiKey === null) throw new SwitchboardError('API_DISABLED');
    if (!hasBearer(req, apiKey)) {
      throw new SwitchboardError('HTTP_UNAUTHORIZED', 'send the API key as Authorization: Bearer <API_KEY>');
    }
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const { store, owner } = journals;
    if (path === CALLS_API_PATH) {
      if (method === 'POST') {
        const placed = await needDialer(dialer).dial(await jsonBody(req));
        return { status: placed.created ? 201 : 200, body: dialResult(placed) };
      }
      if (method === 'GET') return { status: 200, body: await listDials(store, url.searchParams) };
      throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { path });
    }
    if (path.startsWith(`${CALLS_API_PATH}/`)) {
      if (method !== 'GET') throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { path });
      const key = decodeURIComponent(path.slice(CALLS_API_PATH.length + 1));
      return { status: 200, body: dialView(await oneDial(store, dialer, key)) };
    }
    const campaign = campaignRoute(method, path);
    if (campaign === null) throw new SwitchboardError('HTTP_NOT_FOUND', undefined, { path });
    const body = async (): Promise<Record<string, unknown>> => {
      const value = await jsonBody(req);
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
      throw new SwitchboardError('HTTP_BAD_BODY', 'the body must be a JSON object');
    };
    return { status: 200, body: await campaignAction(store, owner, campaign, body) };
  }

  #refuse(res: ServerResponse, path: string, err: unknown): void {
    const typed = isSwitchboardError(err) ? err : null;
    const code = typed?.code ?? 'INTERNAL';
    const level = typed === null || code === 'TWILIO_REST_FAILED' ? 'error' : 'warn';
    this.#opts.logger[level]('calls API request refused', {
      code,
      path: path.slice(0, 100),
      ...(typed === null ? { err } : {}),
      ...(typeof typed?.data.field === 'string' ? { field: typed.data.field } : {}),
    });
    const extra: Record<string, unknown> = {};
    for (const name of ['field', 'missing', 'twilioCode', 'moreInfo'] as const) {
      if (typed?.data[name] !== undefined && typed.data[name] !== null) extra[name] = typed.data[name];
    }
    // Not this request's fault: the server is not set up to place calls, or another writer held the journal.
    const busy = code === 'JOURNAL_FENCED' || code === 'JOURNAL_CONFLICT';
    const status = code === 'CONFIG_INVALID' || busy ? 503 : statusFor(err);
    const message = typed?.message ?? 'Internal error';
    sendJson(res, { error: code, message, retryable: busy || isRetryable(err), ...extra }, status);
  }
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  if (!(header(req, 'content-type') ?? '').startsWith('application/json')) {
    throw new SwitchboardError('HTTP_BAD_BODY', 'expected Content-Type: application/json');
  }
  try {
    return JSON.parse((await readBody(req)).toString('utf8'));
  } catch (err) {
    if (isSwitchboardError(err)) throw err;
    throw new SwitchboardError('HTTP_BAD_BODY', 'the body is not JSON');
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
  return new CallsApi({ apiKey: config.apiKey, dialer, journals: deps.journals, logger: deps.logger });
}
