/** The `http` action's part of the flow format, its effect and its outcome events (the action itself: ../http/). */
import type { ErrorCode } from '../../../errors.ts';

export interface HttpFields {
  /**
   * Call a web service once the prompt (if any) has played; its answer can fill slots. Then `next` (the
   * success target) or `onError`.
   */
  http?: HttpDef;
}

/** A web request made by a state. Strings are templates over the call's slots and `env.NAME` variables. */
export interface HttpDef {
  /** @default "POST" */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * The URL, e.g. `{{env.ORDERS_URL}}/orders/{{orderId}}`; http or https. The scheme, host and port come from the
   * flow's text and `{{env.NAME}}` values only; a slot is encoded as a path segment or query component where it
   * stands.
   * @minLength 1
   */
  url: string;
  /** Request headers (templates). An `Idempotency-Key` header is always added: the same for every retry. */
  headers?: Record<string, string>;
  /** JSON body: an object whose string values are templates. */
  body?: Record<string, unknown>;
  /**
   * Give up on an attempt after this long.
   * @asType integer
   * @minimum 100
   * @maximum 30000
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Attempts after the first when the service fails (network error, timeout, 429 or 5xx).
   * @asType integer
   * @minimum 0
   * @maximum 5
   * @default 2
   */
  retries?: number;
  /**
   * Slots filled from the JSON answer, by JSON pointer: `{ "orderId": "/id", "eta": "/delivery/minutes" }`.
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
   */
  map?: Record<string, string>;
  /**
   * Hosts, IP addresses and CIDR ranges this request may reach although they are loopback, link-local or
   * private, e.g. `["127.0.0.1"]` for a service on this machine; otherwise such a request fails. HTTP_ALLOW_HOSTS
   * allows them for every flow.
   */
  allowPrivate?: string[];
}

/**
 * Make a web request; answer with `http.done` or `http.failed` carrying `id`. `idempotencyKey` is the same for
 * every attempt and every re-issue after a restart, so a service can drop repeats.
 */
export type HttpEffect = {
  type: 'http';
  id: string;
  idempotencyKey: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  retries: number;
  map: Record<string, string>;
  /** The state's `allowPrivate`, when it has one. */
  allowPrivate?: string[];
};

export type HttpOutcomeEvent =
  /** A state's web request answered with success; `slots` are the values its `map` took from the answer. */
  | { type: 'http.done'; at: number; id: string; status: number; slots: Record<string, string> }
  /** A state's web request failed after its retries. */
  | { type: 'http.failed'; at: number; id: string; reason: string };

/**
 * How a web request went: the slots its `map` took from the answer, or why it failed; `code` when it was not
 * sent at all because a check refused it.
 */
export type HttpOutcome =
  | { ok: true; status: number; slots: Record<string, string> }
  | { ok: false; reason: string; code?: Extract<ErrorCode, 'HTTP_EGRESS_REFUSED' | 'HTTP_VALUE_REFUSED'> };
