/**
 * A campaign runner's side of the calls API (src/server/api/): placing a call, reading dials, and the campaign's
 * own journal. The server may be restarting (killed, redeployed): a request that finds it unreachable, draining or
 * failing on its side is sent again, with the same body (a dial's key makes that safe), until `waitMs` has passed
 * since the server was last reached. A refusal (4xx) is an ApiRefusal, with the server's code and message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CALLS_API_PATH } from '../outbound/api-path.ts';

/** A dial as the API answers it (src/server/api/dial-routes.ts). */
export interface DialView {
  key: string;
  callSid: string | null;
  status: string | null;
  answeredBy: string | null;
  refused: { twilioCode: number | null } | null;
  requestedAt: number;
  updatedAt: number;
  endedAt: number | null;
}

export interface CampaignView {
  id: string;
  flow: string;
  file: string;
  startedAt: number;
  updatedAt: number;
  counts: Record<string, number>;
  done: boolean;
  cancelled: boolean;
}

/** The server refused the request: `code` is its error code (DIAL_INVALID, TWILIO_REST_FAILED...). */
export class ApiRefusal extends Error {
  readonly code: string;
  readonly status: number;
  readonly field: string | null;
  readonly retryable: boolean;

  constructor(status: number, body: Record<string, unknown>) {
    const code = typeof body.error === 'string' ? body.error : `HTTP_${status}`;
    super(`${code}: ${typeof body.message === 'string' ? body.message : `HTTP ${status}`}`);
    this.name = 'ApiRefusal';
    this.code = code;
    this.status = status;
    this.field = typeof body.field === 'string' ? body.field : null;
    this.retryable = body.retryable === true;
  }
}

export interface ApiClientOptions {
  /** The server, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  apiKey: string;
  /** How long to keep trying while the server cannot be reached (ms); 5 minutes unless given. */
  waitMs?: number;
  /** Called when a request is sent again, with why. */
  onRetry?: (why: string) => void;
  /** Stops waiting (the runner was interrupted). */
  signal?: AbortSignal;
}

const REQUEST_TIMEOUT_MS = 30_000;
const RETRY_MS = [250, 500, 1000, 2000, 4000];

export class ApiClient {
  readonly #opts: ApiClientOptions;

  constructor(opts: ApiClientOptions) {
    this.#opts = opts;
  }

  dial(
    body: Record<string, unknown>,
  ): Promise<{ callSid: string; idempotencyKey: string; created: boolean }> {
    return this.#request('POST', CALLS_API_PATH, body) as never;
  }

  dialState(key: string): Promise<DialView> {
    return this.#request('GET', `${CALLS_API_PATH}/${encodeURIComponent(key)}`) as never;
  }

  /** One page of the dials whose keys start with `prefix`, in key order, after `after`. */
  listDials(
    prefix: string,
    after: string | null,
    limit = 500,
  ): Promise<{ dials: DialView[]; next: string | null }> {
    const query = new URLSearchParams({ prefix, limit: String(limit), ...(after === null ? {} : { after }) });
    return this.#request('GET', `${CALLS_API_PATH}?${query.toString()}`) as never;
  }

  beginCampaign(id: string, flow: string, file: string): Promise<CampaignView> {
    return this.#request('PUT', campaignPath(id), { flow, file }) as never;
  }

  progress(id: string, counts: Record<string, number>, done: boolean): Promise<CampaignView> {
    return this.#request('POST', `${campaignPath(id)}/progress`, { counts, done }) as never;
  }

  cancel(id: string): Promise<CampaignView> {
    return this.#request('POST', `${campaignPath(id)}/cancel`) as never;
  }

  campaign(id: string): Promise<CampaignView> {
    return this.#request('GET', campaignPath(id)) as never;
  }

  async #request(method: string, path: string, body?: unknown): Promise<unknown> {
    const { baseUrl, apiKey, signal } = this.#opts;
    const deadline = performance.now() + (this.#opts.waitMs ?? 300_000);
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const res = await fetch(`${baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${apiKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: signal
            ? AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
            : AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
        if (res.ok) return answer;
        const refusal = new ApiRefusal(res.status, answer);
        // The server's own trouble, or Twilio's, may pass: the same request (the same key) is sent again.
        if (!(res.status >= 500 && (refusal.retryable || res.status === 503))) throw refusal;
        why = refusal.message;
      } catch (err) {
        if (err instanceof ApiRefusal || signal?.aborted) throw err;
        const cause = (err as Error).cause;
        why = `cannot reach ${baseUrl}: ${cause instanceof Error ? cause.message : (err as Error).message}`;
      }
      if (performance.now() >= deadline) throw new Error(`gave up after ${attempt + 1} tries: ${why}`);
      this.#opts.onRetry?.(why);
      await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)], undefined, signal ? { signal } : {});
    }
  }
}

function campaignPath(id: string): string {
  return `/api/campaigns/${encodeURIComponent(id)}`;
}
