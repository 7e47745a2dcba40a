/**
 * Webhooks as Twilio sends them: form-encoded (a GET carries the parameters in its query string), signed with
 * X-Twilio-Signature under the auth token, given up on after 15 s. Each is recorded with its answer, whose
 * body is kept up to 64 KiB.
 */
import { randomUUID } from 'node:crypto';
import { signTwilioRequest } from '../../../src/telephony/signature.ts';
import type { EventLog } from './events.ts';
import { MAX_BODY_BYTES } from './resources.ts';
import type { FakeWebhook, FakeWebhookKind } from './types.ts';

/** Twilio gives up on a webhook after 15 s. */
const WEBHOOK_TIMEOUT_MS = 15_000;

export interface WebhookSenderOptions {
  authToken: string;
  events: EventLog;
  /** Aborted when the fake closes: cuts short every webhook still waiting for its answer. */
  closing: AbortSignal;
}

export class WebhookSender {
  /** Every webhook sent, in order, with its answer. */
  readonly sent: FakeWebhook[] = [];
  readonly #authToken: string;
  readonly #events: EventLog;
  readonly #closing: AbortSignal;

  constructor(options: WebhookSenderOptions) {
    this.#authToken = options.authToken;
    this.#events = options.events;
    this.#closing = options.closing;
  }

  /** Sends one signed webhook about `callSid` and records it with its answer; never rejects. */
  async send(
    callSid: string,
    kind: FakeWebhookKind,
    url: string,
    verb: 'GET' | 'POST',
    params: Record<string, string>,
  ): Promise<FakeWebhook> {
    // A GET carries the params in its query string, and is signed over that URL alone.
    let target = url;
    if (verb === 'GET') {
      const withQuery = new URL(url);
      for (const [name, value] of Object.entries(params)) withQuery.searchParams.append(name, value);
      target = withQuery.toString();
    }
    const signature = signTwilioRequest(this.#authToken, target, verb === 'GET' ? {} : params);
    const webhook: FakeWebhook = {
      kind,
      callSid,
      url,
      method: verb,
      params,
      signature,
      status: null,
      body: '',
      error: null,
    };
    try {
      const res = await fetch(target, {
        method: verb,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature,
          'i-twilio-idempotency-token': randomUUID(),
          'user-agent': 'TwilioProxy/1.1',
        },
        ...(verb === 'POST' ? { body: new URLSearchParams(params).toString() } : {}),
        signal: AbortSignal.any([this.#closing, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
      });
      webhook.status = res.status;
      webhook.body = await readCapped(res);
    } catch (err) {
      // fetch says only "fetch failed"; the reason (connection refused, a timeout) is its cause.
      const cause = err instanceof Error ? err.cause : undefined;
      webhook.error =
        cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
    }
    this.sent.push(webhook);
    this.#events.emit({ type: 'webhook', webhook });
    return webhook;
  }
}

/** A webhook answer's text, at most MAX_BODY_BYTES of it. */
async function readCapped(res: Response): Promise<string> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_BYTES);
}
