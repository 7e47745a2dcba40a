/**
 * HTTP requests as fuzz inputs, and the request and response objects route handlers take in place of
 * node:http's. An input reads like a request without its protocol version:
 *
 *   POST /twilio/voice?flow=demo
 *   content-type: application/x-www-form-urlencoded
 *   x-twilio-signature: !sign
 *
 *   CallSid=CA...&From=%2B15550100
 *
 * Placeholders stand for what a fuzzer cannot guess and a real client would have: `!sign` for the Twilio
 * signature of the request, `!token` for a fresh softphone page token, `!call` for the last call placed.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export interface HttpInput {
  method: string;
  target: string;
  /** Names in lower case, as node:http gives them. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Reads an input as a request; anything goes, a missing part is empty. */
export function parseHttpInput(input: Buffer): HttpInput {
  const blank = input.indexOf('\n\n');
  const head = input.subarray(0, blank < 0 ? input.length : blank).toString('latin1');
  const body = blank < 0 ? Buffer.alloc(0) : input.subarray(blank + 2);
  const [line = '', ...fields] = head.split('\n');
  const space = line.indexOf(' ');
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
  }
  return {
    method: space < 0 ? line : line.slice(0, space),
    target: space < 0 ? '/' : line.slice(space + 1),
    headers,
    body,
  };
}

/** Writes a request as an input: for seeds and the structured generator. */
export function formatHttpInput(r: HttpInput): Buffer {
  const head = [`${r.method} ${r.target}`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)].join(
    '\n',
  );
  return Buffer.concat([Buffer.from(`${head}\n\n`, 'latin1'), r.body]);
}

/** A request as handlers see it: method, URL, headers, and the body in chunks of up to 1000 bytes. */
export function fakeRequest(r: HttpInput): IncomingMessage {
  const chunks: Buffer[] = [];
  for (let at = 0; at < r.body.length; at += 1000) chunks.push(r.body.subarray(at, at + 1000));
  return Object.assign(Readable.from(chunks), {
    method: r.method,
    url: r.target,
    headers: r.headers,
  }) as unknown as IncomingMessage;
}

/** Records what a handler answered; `close()` is the client going away. */
export class FakeResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  finished = false;
  readonly headers: Record<string, unknown> = {};
  body = '';

  setHeader(name: string, value: unknown): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  writeHead(status: number, headers: Record<string, unknown> = {}): this {
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers)) this.setHeader(k, v);
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  write(chunk: string | Buffer): boolean {
    this.headersSent = true;
    this.body += chunk.toString();
    return true;
  }

  end(chunk?: string | Buffer): this {
    if (chunk !== undefined) this.write(chunk);
    this.headersSent = true;
    this.finished = true;
    return this;
  }

  destroy(): void {
    this.close();
  }

  close(): void {
    this.emit('close');
  }

  get asResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}
