/**
 * Performs a flow state's web request (the `http` effect): bounded attempts with backoff, one Idempotency-Key
 * for all of them so the service can drop repeats, a size limit on the answer, and slots taken from the JSON
 * answer by JSON pointer. The outcome is a value, never an exception, so the runner can turn it into
 * `http.done` or `http.failed` for the flow. Before anything is sent, the request is checked: no `.` or `..`
 * path segment, no control character in a header (a caller's value could not have been placed safely), and a
 * host that may be reached (connect.ts); a request refused by a check is not retried.
 */
import { isSwitchboardError, type ErrorCode } from '../../../errors.ts';
import type { ActionLog } from '../ports.ts';
import type { HttpEffect, HttpOutcome, HttpOutcomeEvent } from '../format/http.ts';
import { connect, refusedText, type HttpNetwork, type RefusedHost, type Route } from './connect.ts';
import { hasDotSegment } from './url-template.ts';

export interface HttpActionOptions {
  logger: ActionLog;
  fetch?: typeof fetch;
  /** Largest answer read, in bytes; default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * Where requests go out: each host's addresses are looked up and checked before connecting, and the request
   * sent to the address checked (src/call/http-network.ts). Absent (tests' fakes), `fetch` sends and only a host
   * written as an IP address, or `localhost`, is checked.
   */
  network?: HttpNetwork;
  /**
   * Hosts, IP addresses and CIDR ranges requests may reach although not public (HTTP_ALLOW_HOSTS); the state's
   * own `allowPrivate` adds to them.
   */
  allow?: readonly string[];
  /** Wait between attempts; must return early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * The `{{env.NAME}}` variables the URL was rendered from that were unset or blank when the call started
   * (`unsetEnvOfRequest`): the request is not made, and its failure names them.
   */
  unsetEnv?: readonly string[];
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 2000;
/** A service asking for a longer pause than this is not waited for: the caller is on the line. */
const RETRY_AFTER_LIMIT_MS = 5000;
/** How much of an answer goes into the (redacted) log line. */
const LOGGED_RESPONSE_CHARS = 2000;
const FAILED: ErrorCode = 'HTTP_ACTION_FAILED';
const VALUE_REFUSED = 'HTTP_VALUE_REFUSED';
/** How a refused host is let through, for the flow's author reading the reason. */
const ALLOW_HINT = "allow it with HTTP_ALLOW_HOSTS or the state's http.allowPrivate";
/** A control character other than tab: CR and LF would end the header and start another. */
// eslint-disable-next-line no-control-regex
const HEADER_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

type Attempt =
  | { kind: 'response'; status: number; retryAfterMs: number | null; bytes: Uint8Array; tooLarge: boolean }
  | { kind: 'error'; reason: string }
  | { kind: 'refused'; reason: string; data: RefusedHost }
  | { kind: 'aborted' };

/** Make the request described by `effect`. Never throws; `signal` aborting (the call ended) stops it at once. */
export async function performHttp(
  effect: HttpEffect,
  signal: AbortSignal,
  options: HttpActionOptions,
): Promise<HttpOutcome> {
  const started = performance.now();
  const method = effect.method.toUpperCase();
  let url: URL | null = null;
  let status: number | null = null;
  let attempts = 0;
  let headers: Headers | null = null;
  let response: Uint8Array | null = null;

  /** A failure only the flow or its deployment can fix, not the service, is `misconfigured`: logged at warn. */
  const finish = (
    outcome: HttpOutcome,
    misconfigured = false,
    extra: Record<string, unknown> = {},
  ): HttpOutcome => {
    const fields = {
      id: effect.id,
      method,
      host: url?.host ?? null,
      status,
      attempts,
      ms: Math.round(performance.now() - started),
      // Addresses, headers and bodies can carry callers' data (numbers, names, tokens): only ever under pii.
      pii: {
        url: effect.url,
        headers: headers ? Object.fromEntries(headers) : effect.headers,
        body: effect.body,
        response: response ? decode(response).slice(0, LOGGED_RESPONSE_CHARS) : null,
      },
    };
    if (outcome.ok) options.logger.info('http action done', fields);
    else if (outcome.code !== undefined) {
      // The reason names the host or the part refused, never a value: values stay under pii.
      options.logger.warn('http action refused', {
        ...fields,
        code: outcome.code,
        reason: outcome.reason,
        ...extra,
      });
    } else {
      const failed = { ...fields, code: FAILED, reason: outcome.reason, ...extra };
      if (misconfigured) options.logger.warn('http action failed', failed);
      else options.logger.info('http action failed', failed);
    }
    return outcome;
  };

  try {
    // Even a URL that still parses would not be the one meant, and could send the caller's data elsewhere.
    const unset = options.unsetEnv ?? [];
    if (unset.length > 0) return finish({ ok: false, reason: notSetReason(unset) }, true, { env: unset });
    try {
      url = new URL(effect.url);
    } catch {
      return finish({ ok: false, reason: 'URL must be http or https' }, true);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      url = null;
      return finish({ ok: false, reason: 'URL must be http or https' }, true);
    }
    if (!METHODS.has(method))
      return finish({ ok: false, reason: `method must be one of ${[...METHODS].join(', ')}` });
    if (hasDotSegment(effect.url)) {
      return finish({ ok: false, code: VALUE_REFUSED, reason: 'the URL\'s path has a "." or ".." segment' });
    }

    headers = new Headers({ 'User-Agent': 'switchboard' });
    const sendsBody = method !== 'GET' && method !== 'DELETE' && effect.body !== undefined;
    if (sendsBody) headers.set('Content-Type', 'application/json');
    for (const [name, value] of Object.entries(effect.headers)) {
      // The flow's headers may not replace the Idempotency-Key: it must stay the same on every attempt and
      // re-issue, or the service could not drop repeats. Nor the Host: it is the url's, the one checked.
      if (name.toLowerCase() === 'idempotency-key' || name.toLowerCase() === 'host') continue;
      if (HEADER_CONTROL.test(value)) {
        return finish({
          ok: false,
          code: VALUE_REFUSED,
          reason: `request header "${name}" has a control character`,
        });
      }
      try {
        headers.set(name, value);
      } catch {
        return finish({ ok: false, reason: `invalid request header "${name}"` });
      }
    }
    headers.set('Idempotency-Key', effect.idempotencyKey);

    let body: string | undefined;
    if (sendsBody) {
      try {
        body = JSON.stringify(effect.body);
      } catch {
        return finish({ ok: false, reason: 'request body is not JSON' });
      }
    }

    const fetchFn = options.fetch ?? fetch;
    const sleep = options.sleep ?? abortableSleep;
    const limit = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const maxAttempts = 1 + Math.max(0, Math.floor(effect.retries));
    const init: RequestInit = { method, headers, ...(body === undefined ? {} : { body }) };
    const route: Route = {
      network: options.network,
      fetch: fetchFn,
      allow: [...(options.allow ?? []), ...(effect.allowPrivate ?? [])],
    };

    for (;;) {
      if (signal.aborted) return finish({ ok: false, reason: 'aborted' });
      attempts++;
      const attempt = await attemptOnce(route, url, init, effect.timeoutMs, signal, limit);
      if (attempt.kind === 'aborted') return finish({ ok: false, reason: 'aborted' });
      // Allowing the host is the flow's or the deployment's to do: trying again would not help.
      if (attempt.kind === 'refused') {
        return finish({ ok: false, code: 'HTTP_EGRESS_REFUSED', reason: attempt.reason }, true, {
          ...attempt.data,
        });
      }

      let delay = Math.min(BACKOFF_BASE_MS * 2 ** (attempts - 1), BACKOFF_CAP_MS);
      let reason: string;
      if (attempt.kind === 'error') {
        reason = attempt.reason;
      } else {
        status = attempt.status;
        response = attempt.bytes;
        if (status >= 200 && status < 300) {
          if (attempt.tooLarge) return finish({ ok: false, reason: 'response too large' });
          return finish(takeSlots(status, attempt.bytes, effect.map));
        }
        // A redirect is not followed: its target would escape the egress check.
        reason =
          status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
        // Other client errors would fail the same way again.
        if (status !== 429 && status < 500) return finish({ ok: false, reason });
        if (attempt.retryAfterMs !== null && attempt.retryAfterMs < RETRY_AFTER_LIMIT_MS) {
          delay = attempt.retryAfterMs;
        }
      }
      if (attempts >= maxAttempts) return finish({ ok: false, reason });
      try {
        await sleep(delay, signal);
      } catch {
        // A sleep that rejects is treated as finished; the abort check below decides what happens next.
      }
    }
  } catch (err) {
    // Nothing above should throw; if it does, the flow still gets its failure event instead of hanging.
    options.logger.error('http action crashed', { err, id: effect.id });
    return { ok: false, reason: 'internal error' };
  }
}

/** One request with its own timeout (the lookup included), the answer read up to `limit` bytes. */
async function attemptOnce(
  route: Route,
  url: URL,
  init: RequestInit,
  timeoutMs: number,
  signal: AbortSignal,
  limit: number,
): Promise<Attempt> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const both = AbortSignal.any([signal, timeout.signal]);
  try {
    // The race makes an abort final even if a fetch implementation is slow to honour the signal.
    return await raceAbort(
      (async (): Promise<Attempt> => {
        const res = await connect(url, { ...init, signal: both }, route);
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        const { bytes, tooLarge } = await readLimited(res.body, limit);
        return { kind: 'response', status: res.status, retryAfterMs, bytes, tooLarge };
      })(),
      both,
    );
  } catch (err) {
    if (signal.aborted) return { kind: 'aborted' };
    if (isSwitchboardError(err, 'HTTP_EGRESS_REFUSED')) {
      // connect.ts, its only source, gives it this shape.
      const refused = err.data as unknown as RefusedHost;
      const reason = `refused: ${refusedText(refused)} (${ALLOW_HINT})`;
      return { kind: 'refused', reason, data: refused };
    }
    if (timeout.signal.aborted) return { kind: 'error', reason: `timed out after ${timeoutMs} ms` };
    return { kind: 'error', reason: networkReason(err) };
  } finally {
    clearTimeout(timer);
  }
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // The losing promise must not surface as an unhandled rejection.
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Read a body up to `limit` bytes; past it, stop reading and drop the connection rather than drain it. */
async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ bytes: Uint8Array; tooLarge: boolean }> {
  if (!body) return { bytes: new Uint8Array(0), tooLarge: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      reader.cancel().catch(() => {});
      return { bytes: Buffer.concat(chunks), tooLarge: true };
    }
    size += value.byteLength;
    chunks.push(value);
  }
  return { bytes: Buffer.concat(chunks), tooLarge: false };
}

function takeSlots(status: number, bytes: Uint8Array, map: Record<string, string>): HttpOutcome {
  const entries = Object.entries(map);
  if (entries.length === 0) return { ok: true, status, slots: {} };
  let doc: unknown;
  try {
    doc = JSON.parse(decode(bytes));
  } catch {
    return { ok: false, reason: 'response is not JSON' };
  }
  const slots: [string, string][] = [];
  for (const [slot, pointer] of entries) {
    const value = resolvePointer(doc, pointer);
    // The reason names the pointer, never the value: the answer may hold personal data.
    if (value === undefined || value === null)
      return { ok: false, reason: `response has no value at ${pointer}` };
    slots.push([slot, slotText(value)]);
  }
  // fromEntries makes own properties, so even a slot named `__proto__` is an ordinary slot.
  return { ok: true, status, slots: Object.fromEntries(slots) };
}

/** A JSON value as slot text: strings as they are, numbers and booleans printed, objects and arrays as JSON. */
function slotText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** RFC 6901 JSON pointer; `undefined` when nothing is there. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) return undefined;
  let node = doc;
  for (const raw of pointer.slice(1).split('/')) {
    // ~1 first, so that `~01` means the text `~1` and not `/`.
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      if (!/^(?:0|[1-9]\d*)$/.test(token)) return undefined;
      node = node[Number(token)];
    } else if (node !== null && typeof node === 'object') {
      if (!Object.hasOwn(node, token)) return undefined;
      node = (node as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return node;
}

/** Delay-seconds only: an HTTP date would need the service's clock to agree with ours. */
function parseRetryAfter(value: string | null): number | null {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return null;
  return Number(value) * 1000;
}

function networkReason(err: unknown): string {
  // Only the system error code: messages can repeat the address, which may carry personal data.
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = cause && typeof cause.code === 'string' ? cause.code : null;
  return code && /^[A-Z0-9_]+$/.test(code) ? `network error (${code})` : 'network error';
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** setTimeout that ends early, and leaves no timer, when `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The event that answers `effect` with `outcome`, for the call's machine. */
export function httpOutcomeEvent(effect: HttpEffect, outcome: HttpOutcome, at: number): HttpOutcomeEvent {
  return outcome.ok
    ? { type: 'http.done', at, id: effect.id, status: outcome.status, slots: outcome.slots }
    : { type: 'http.failed', at, id: effect.id, reason: outcome.reason };
}

/** `A is not set`, `A and B are not set`: the reason a request built from them is not made. */
export function notSetReason(names: readonly string[]): string {
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  return `${list} ${names.length === 1 ? 'is' : 'are'} not set`;
}
