/**
 * The fake's HTTP side and its public face: a real server on 127.0.0.1 that answers the twilio library as
 * Twilio's REST API does. Requests need HTTP Basic auth with the account SID and auth token (else 401, code
 * 20003) on a path under that account; bodies are form-encoded and bounded (64 KiB, else 413); answers are
 * JSON shaped like Twilio's. Each resource (calls.ts, recordings.ts, numbers.ts) lists its routes; this file
 * matches them, records every request and holds the event log tests wait on. It also keeps the answers a
 * resource withholds (a held create): one is sent on releaseHeld(), or never if its client went away first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallState } from './call-state.ts';
import { Calls } from './calls.ts';
import { EventLog } from './events.ts';
import { Numbers } from './numbers.ts';
import { CallProgress, attribute } from './placing.ts';
import { Recordings } from './recordings.ts';
import { API_VERSION, MAX_BODY_BYTES, errorReply, type Reply, type RouteSpec } from './resources.ts';
import type {
  FakeCall,
  FakeConferenceSeat,
  FakeNumberConfig,
  FakeTwilioApiOptions,
  FakeTwilioEvent,
  FakeTwilioRequest,
  FakeWebhook,
  FakeWebhookKind,
  HeldCreateMode,
  ScriptedOutcome,
} from './types.ts';
import { WebhookSender } from './webhooks.ts';

/** A resource's route, its path a pattern under the account. */
interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handle: RouteSpec['handle'];
}

export class FakeTwilioApiServer {
  /** Every REST request, in order. */
  readonly requests: FakeTwilioRequest[] = [];
  /** Every webhook sent, in order, with its answer. */
  readonly webhooks: FakeWebhook[];
  readonly events: FakeTwilioEvent[];

  readonly #accountSid: string;
  readonly #authToken: string;
  readonly #server: Server;
  readonly #log = new EventLog();
  readonly #closing = new AbortController();
  readonly #calls = new Map<string, CallState>();
  readonly #callsResource: Calls;
  readonly #numbers: Numbers;
  readonly #routes: Route[];
  /** Sends each withheld answer whose client is still there. */
  readonly #held = new Set<() => void>();
  readonly #progress: CallProgress;
  #url: string | null = null;

  constructor(options: FakeTwilioApiOptions) {
    this.#accountSid = options.accountSid;
    this.#authToken = options.authToken;
    this.events = this.#log.events;
    const webhooks = new WebhookSender({
      authToken: options.authToken,
      events: this.#log,
      closing: this.#closing.signal,
    });
    this.webhooks = webhooks.sent;
    const account = { accountSid: options.accountSid, events: this.#log, webhooks };
    const recordings = new Recordings({ ...account, calls: this.#calls });
    const progress = new CallProgress({
      ...account,
      stepMs: options.stepMs ?? 5,
      hangupAfterMs: options.hangupAfterMs,
      recordings,
    });
    this.#progress = progress;
    this.#numbers = new Numbers(options.accountSid);
    this.#callsResource = new Calls({
      accountSid: options.accountSid,
      calls: this.#calls,
      progress,
      numbers: this.#numbers,
      events: this.#log,
    });
    this.#routes = [...this.#callsResource.routes(), ...recordings.routes(), ...this.#numbers.routes()].map(
      (spec) => this.#compile(spec),
    );
    this.#server = createServer((req, res) => {
      // Only a client that went away mid-request gets here: nothing to answer.
      this.#serve(req, res).catch(() => res.destroy());
    });
  }

  /** The base URL (http://127.0.0.1:port); the twilio library's https://api.twilio.com maps onto it. */
  get url(): string {
    if (this.#url === null) throw new Error('FakeTwilioApiServer is not started');
    return this.#url;
  }

  /** Listens on 127.0.0.1, on a free port. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops every call and pending webhook, fails pending waitFor()s, and closes the server. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const call of this.#calls.values()) call.stop.abort();
    this.#log.close();
    await Promise.all([...this.#calls.values()].map((call) => call.chain));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** What happens when `to` is dialled from now on (default: a human answers). */
  script(to: string, outcome: ScriptedOutcome): void {
    this.#callsResource.script(to, outcome);
  }

  /** Successive calls to `to` from now on take successive outcomes; the last one repeats (a retry's script). */
  scriptSequence(to: string, outcomes: readonly ScriptedOutcome[]): void {
    this.#callsResource.scriptSequence(to, outcomes);
  }

  /**
   * The next create for `to` (one per call of this) is held, and a 'held' event says so: with 'drop' no call
   * is placed and the request is never answered, as if it never reached Twilio; with 'hold' the call is
   * placed and goes on as scripted, but the answer waits for releaseHeld() and is never sent if the client
   * goes away first (it was killed).
   */
  holdCreates(to: string, mode: HeldCreateMode): void {
    this.#callsResource.holdCreates(to, mode);
  }

  /** Sends every answer held with 'hold' whose client is still waiting; returns how many. */
  releaseHeld(): number {
    const held = [...this.#held];
    this.#held.clear();
    for (const release of held) release();
    return held.length;
  }

  /** Every call create for `to` fails with this Twilio error (e.g. 400, 21215 for geo permissions). */
  failCreate(to: string, status: number, code: number, message: string): void {
    this.#callsResource.failCreate(to, status, code, message);
  }

  /** Seeds an IncomingPhoneNumber the account owns; returns its PN sid. */
  addNumber(phoneNumber: string, config: FakeNumberConfig = {}): string {
    return this.#numbers.add(phoneNumber, config);
  }

  /** A seeded number's current configuration, as the REST API would show it. */
  numberResource(sid: string): Record<string, unknown> | undefined {
    return this.#numbers.resource(sid);
  }

  call(sid: string): FakeCall | undefined {
    return this.#calls.get(sid);
  }

  /** The webhooks sent for one call, in order, optionally of one kind. */
  webhooksFor(callSid: string, kind?: FakeWebhookKind): FakeWebhook[] {
    return this.webhooks.filter((w) => w.callSid === callSid && (kind === undefined || w.kind === kind));
  }

  /** The callee hangs up an answered call; resolves once the completion webhooks were sent. */
  complete(callSid: string): Promise<void> {
    return this.#callsResource.complete(callSid);
  }

  /** The callee presses `digits` ('' for none) at the `<Gather>` of the call's TwiML; resolves once answered. */
  async gather(callSid: string, digits: string): Promise<void> {
    const call = this.#calls.get(callSid);
    if (call === undefined) throw new Error(`no call ${callSid}`);
    await this.#progress.gather(call, digits);
  }

  /** The conference room the call's current TwiML puts it in, with the attributes it joins with; else null. */
  conference(callSid: string): FakeConferenceSeat | null {
    const twiml = this.#calls.get(callSid)?.twiml.at(-1) ?? '';
    const m = /<Conference\b([^>]*)>([^<]*)<\/Conference>/.exec(twiml);
    if (m === null) return null;
    const flag = (name: string) => attribute(m[1]!, name) !== 'false';
    return {
      room: m[2]!,
      startsConference: flag('startConferenceOnEnter'),
      endsConference: attribute(m[1]!, 'endConferenceOnExit') === 'true',
      waitUrl: attribute(m[1]!, 'waitUrl') ?? null,
    };
  }

  /** The first event, already seen or still to come, that matches; rejects after `timeoutMs`. */
  waitFor<E extends FakeTwilioEvent>(
    predicate: (event: FakeTwilioEvent) => event is E,
    timeoutMs?: number,
  ): Promise<E>;
  waitFor(predicate: (event: FakeTwilioEvent) => boolean, timeoutMs?: number): Promise<FakeTwilioEvent>;
  waitFor(predicate: (event: FakeTwilioEvent) => boolean, timeoutMs = 2000): Promise<FakeTwilioEvent> {
    return this.#log.waitFor(predicate, timeoutMs);
  }

  /** `{CA}`, `{PN}` and `{RE}` in a route's path become SID captures, under this account. */
  #compile({ method, path, handle }: RouteSpec): Route {
    const pattern = path
      .replaceAll('.', '\\.')
      .replace(/\{(CA|PN|RE)\}/g, (_, prefix: string) =>
        prefix === 'RE' ? '(RE[0-9a-f]{32}|Twilio\\.CURRENT)' : `(${prefix}[0-9a-f]{32})`,
      );
    return {
      method,
      pattern: new RegExp(`^/${API_VERSION}/Accounts/${this.#accountSid}${pattern}$`),
      handle,
    };
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const body = await readBounded(req);
    const form = new URLSearchParams(req.method === 'POST' && body !== null ? body : '');
    const reply =
      body === null
        ? // Twilio documents no error code for an oversized request.
          errorReply(413, null, 'Request Entity Too Large')
        : this.#authorized(req, url.pathname)
          ? this.#route(req.method ?? 'GET', url.pathname, url.searchParams, form)
          : errorReply(401, 20003, 'Authenticate');
    // A dropped request stays open, unanswered and unrecorded, until its client (or close()) ends it.
    if (reply.withhold === 'drop') return;
    const answered = reply.withhold !== 'hold' || (await this.#released(res));
    const request = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      form,
      status: reply.status,
    };
    this.requests.push(request);
    this.#log.emit({ type: 'request', request });
    if (!answered) return;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (reply.status === 401) headers['www-authenticate'] = 'Basic realm="Twilio API"';
    if (reply.status === 413) headers.connection = 'close';
    res.writeHead(reply.status, headers).end(JSON.stringify(reply.body));
  }

  /** Waits until releaseHeld() (true) or until the client goes away (false). */
  #released(res: ServerResponse): Promise<boolean> {
    if (res.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const release = () => {
        res.off('close', gone);
        resolve(true);
      };
      const gone = () => {
        this.#held.delete(release);
        resolve(false);
      };
      this.#held.add(release);
      res.once('close', gone);
    });
  }

  /** Basic auth with the account's SID and token, on a path under that same account (or outside any account). */
  #authorized(req: IncomingMessage, path: string): boolean {
    const expected = 'Basic ' + Buffer.from(`${this.#accountSid}:${this.#authToken}`).toString('base64');
    if (req.headers.authorization !== expected) return false;
    const account = /^\/[^/]+\/Accounts\/([^/.]+)/.exec(path)?.[1];
    return account === undefined || account === this.#accountSid;
  }

  #route(verb: string, path: string, query: URLSearchParams, form: URLSearchParams): Reply {
    let pathKnown = false;
    for (const route of this.#routes) {
      const match = route.pattern.exec(path);
      if (match === null) continue;
      pathKnown = true;
      if (route.method !== verb) continue;
      try {
        return route.handle({ sids: match.slice(1), query, form, path });
      } catch (err) {
        return errorReply(500, null, err instanceof Error ? err.message : String(err));
      }
    }
    return pathKnown
      ? errorReply(405, 20004, 'Method not allowed')
      : errorReply(404, 20404, `The requested resource ${path} was not found`);
  }
}

/** The request body, or null when it is over MAX_BODY_BYTES (the rest is read and dropped). */
function readBounded(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
