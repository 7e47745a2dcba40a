/**
 * Small HTTP helpers for the edge: bounded body reading, form parsing and typed error answers. The server has a
 * handful of routes, so it uses node:http directly rather than a framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SwitchboardError, isRetryable, type ErrorCode } from '../errors.ts';

/** Twilio's webhook bodies are a few kilobytes; anything far larger is not from Twilio. */
export const MAX_BODY_BYTES = 64 * 1024;

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  HTTP_FORBIDDEN: 403,
  HTTP_UNAUTHORIZED: 401,
  HTTP_NOT_FOUND: 404,
  HTTP_METHOD_NOT_ALLOWED: 405,
  HTTP_BODY_TOO_LARGE: 413,
  HTTP_BAD_BODY: 400,
  HTTP_DRAINING: 503,
  HTTP_BUSY: 503,
  HTTP_CALL_EXISTS: 409,
  HTTP_TOKEN_INVALID: 403,
  HTTP_CALLS_TOO_FAST: 429,
  HTTP_CROSS_SITE: 403,
  HTTP_TOO_MANY_CONNECTIONS: 429,
  HTTP_RATE_LIMITED: 429,
  HTTP_SERVER_FULL: 503,
  FLOW_NOT_FOUND: 404,
  DIAL_INVALID: 400,
  DIAL_KEY_REUSED: 409,
  CAMPAIGN_INVALID: 400,
  JOURNAL_NOT_FOUND: 404,
  API_DISABLED: 404,
  // Twilio refused or could not be reached: a gateway's failure, not this server's.
  TWILIO_REST_FAILED: 502,
  // The journal store cannot be reached from here: a proxy may try another instance (deploy/nginx.conf does).
  STORE_UNAVAILABLE: 503,
};

/** Read a request body up to `limit` bytes; throws HTTP_BODY_TOO_LARGE beyond it. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new SwitchboardError('HTTP_BODY_TOO_LARGE', `over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new SwitchboardError('HTTP_BODY_TOO_LARGE', `over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parse an `application/x-www-form-urlencoded` body into a flat record (last value wins, as Twilio sends one). */
export function parseForm(req: IncomingMessage, body: Buffer): Record<string, string> {
  const type = req.headers['content-type'] ?? '';
  if (body.length > 0 && !type.startsWith('application/x-www-form-urlencoded')) {
    throw new SwitchboardError('HTTP_BAD_BODY', 'expected application/x-www-form-urlencoded');
  }
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}

export function sendXml(res: ServerResponse, xml: string, status = 200): void {
  res.writeHead(status, {
    'content-type': 'text/xml; charset=utf-8',
    'content-length': Buffer.byteLength(xml),
  });
  res.end(xml);
}

export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, text: string, contentType: string, status = 200): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The HTTP status for an error; typed errors carry theirs, anything else is a 500. */
export function statusFor(err: unknown): number {
  return err instanceof SwitchboardError ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
}

/**
 * Answer with `{ error: CODE, message, retryable }`: `retryable` says whether the same request may succeed later
 * (the error's own flag, errors.ts); an untyped error is not.
 */
export function sendError(res: ServerResponse, err: unknown): void {
  const code = err instanceof SwitchboardError ? err.code : 'INTERNAL';
  const message = err instanceof SwitchboardError ? ErrorCodes[err.code] : 'Internal error';
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, { error: code, message, retryable: isRetryable(err) }, statusFor(err));
}

/** A request header's value (the first, when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request's URL, or null when its target is one no URL can be made of: node:http passes on targets such as
 * `//` or `//[`, for which `new URL` throws.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? '/';
  return URL.canParse(target, 'http://localhost') ? new URL(target, 'http://localhost') : null;
}
