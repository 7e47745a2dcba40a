/**
 * The browser softphone: a page that calls a flow from the microphone over exactly the Twilio Media Streams
 * protocol, so its calls take the same path (journal admission, MediaSession) as phone calls. This module serves
 * the page and its assets, places calls (what the voice webhook does for Twilio) and vets the page's websocket
 * upgrade; the app attaches the socket to a session as it does Twilio's.
 *
 * Access: the page embeds a page token minted when it is served (softphone-token.ts), under a key derived from the
 * journal store's shared secret, so an open page outlives a restart and works on every instance sharing the store.
 * API calls carry it in a header, the websocket in its query string (browsers cannot set headers on a websocket),
 * and the websocket's Origin must be this server's own host, so another site cannot open a call with a visitor's
 * browser.
 *
 * Live view: `GET /softphone/calls/<callSid>/events?token=...` streams the call's live view (call-view.ts) as
 * Server-Sent Events (EventSource cannot set headers either), for calls this module placed only: a phone call
 * is never opened for viewing, so its words never reach a page. The token is the call's view token, given only
 * to the page that placed it.
 *
 * Placing calls is bounded: at most MAX_UNSTARTED placed calls may wait for their stream at once (more is
 * HTTP_CALLS_TOO_FAST), and one whose stream has not started within UNSTARTED_MS is closed in its journal, so a
 * flood of requests neither succeeds nor leaves calls open forever.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallViewEvent, CallViews } from '../call/call-view.ts';
import type { CallJournals } from '../call/journals.ts';
import { SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { header, readBody, sendJson } from './http.ts';
import { PageTokens, SOFTPHONE_TOKEN_PURPOSE, setPageCookie } from './softphone-token.ts';

export const SOFTPHONE_MEDIA_PATH = '/softphone/media';
const TOKEN_HEADER = 'x-softphone-token';
/** A call request is `{"flow": "..."}`: a few dozen bytes. */
const MAX_CALL_BODY_BYTES = 4096;
/** `/softphone/calls/<callSid>/events`: a call's live view. */
const EVENTS_PATH = /^\/softphone\/calls\/(CA[0-9a-f]{32})\/events$/;
/** A comment line this often keeps proxies and the browser from dropping an idle event stream. */
const HEARTBEAT_MS = 15_000;
/** Placed calls waiting for their stream at once: a person places one at a time. */
export const MAX_UNSTARTED = 4;
/** How long a placed call waits for its stream before it is closed. */
export const UNSTARTED_MS = 30_000;

/** The page's files, served as they are (no build step), with their content types. */
const ASSETS: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'capture-worklet.js': 'text/javascript; charset=utf-8',
  'playback-worklet.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** The page may load only its own files and talk only to this server; it may not be framed. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface SoftphoneOptions {
  flows: { has(name: string): boolean; keys(): Iterable<string> };
  defaultFlow: string;
  journals: CallJournals;
  logger: Logger;
  /** Whether the server is draining (no new calls). */
  draining: () => boolean;
  /** Admission control: throws HTTP_BUSY when a new call would be refused; absent: every call admitted. */
  admission?: { admitPlaced(callId: string): void };
  tokens?: PageTokens;
  /** Live views of calls: each call placed here is opened for viewing. Absent: no live view. */
  views?: CallViews;
  /** The heartbeat period of a live view's event stream, ms (tests shorten it). */
  heartbeatMs?: number;
  /** How long a placed call waits for its stream, ms (tests shorten it). */
  unstartedMs?: number;
}

interface Asset {
  body: Buffer;
  type: string;
}

export class Softphone {
  readonly #opts: SoftphoneOptions;
  readonly #tokens: PageTokens;
  readonly #page: string;
  readonly #assets = new Map<string, Asset>();
  /** Placed calls whose stream has not been seen to start, with the timer that closes them. */
  readonly #unstarted = new Map<string, NodeJS.Timeout>();

  constructor(opts: SoftphoneOptions) {
    this.#opts = opts;
    // Keyed by the store's shared secret: an open page survives a restart and works on every instance.
    this.#tokens =
      opts.tokens ?? new PageTokens({ secret: () => opts.journals.deriveKey(SOFTPHONE_TOKEN_PURPOSE) });
    // Read once at start-up: the page is small and serving it must not touch the disk.
    const dir = new URL('../web/softphone/', import.meta.url);
    this.#page = readFileSync(new URL('index.html', dir), 'utf8');
    for (const [name, type] of Object.entries(ASSETS)) {
      this.#assets.set(`/softphone/${name}`, { body: readFileSync(new URL(name, dir)), type });
    }
  }

  /** Serve a softphone route; false when `route` is not one. Throws typed errors for the app to answer. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string): Promise<boolean> {
    const [method, path = ''] = route.split(' ');
    if (path === '/') {
      if (method !== 'GET') throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { route });
      this.#servePage(res);
      return true;
    }
    const asset = this.#assets.get(path);
    if (asset) {
      if (method !== 'GET') throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { route });
      send(res, asset.body, asset.type);
      return true;
    }
    if (path === '/softphone/flows') {
      if (method !== 'GET') throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { route });
      this.#checkToken(header(req, TOKEN_HEADER));
      sendJson(res, { flows: [...this.#opts.flows.keys()].sort(), defaultFlow: this.#opts.defaultFlow });
      return true;
    }
    if (path === '/softphone/calls') {
      if (method !== 'POST') throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { route });
      await this.#placeCall(req, res);
      return true;
    }
    if (path.startsWith('/softphone/calls/') && path.endsWith('/events')) {
      if (method !== 'GET') throw new SwitchboardError('HTTP_METHOD_NOT_ALLOWED', undefined, { route });
      this.#streamView(req, res, path);
      return true;
    }
    return false;
  }

  /** The page tokens this softphone mints: the calls pages accept them too. */
  get tokens(): PageTokens {
    return this.#tokens;
  }

  /** Stop the timers of calls still waiting for their stream. */
  close(): void {
    for (const timer of this.#unstarted.values()) clearTimeout(timer);
    this.#unstarted.clear();
  }

  /** Why a websocket upgrade to SOFTPHONE_MEDIA_PATH is refused, or null to accept it. */
  refuseUpgrade(req: IncomingMessage): 'HTTP_TOKEN_INVALID' | 'HTTP_FORBIDDEN' | null {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.#tokens.verify(url.searchParams.get('token'))) return 'HTTP_TOKEN_INVALID';
    // Browsers always send Origin on websockets and a page cannot forge it: only our own page may connect.
    const origin = header(req, 'origin');
    const host = header(req, 'host');
    if (origin === undefined || host === undefined) return 'HTTP_FORBIDDEN';
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return 'HTTP_FORBIDDEN';
    }
    return originHost.toLowerCase() === host.toLowerCase() ? null : 'HTTP_FORBIDDEN';
  }

  #servePage(res: ServerResponse): void {
    // A fresh token per load, so a page's token expires with it rather than with the process.
    const token = this.#tokens.mint();
    const html = this.#page.replace('{{PAGE_TOKEN}}', token);
    // The same token as a cookie opens the calls pages linked from here.
    send(res, Buffer.from(html), 'text/html; charset=utf-8', { ...PAGE_HEADERS, ...setPageCookie(token) });
  }

  #checkToken(token: string | undefined): void {
    if (!this.#tokens.verify(token)) throw new SwitchboardError('HTTP_TOKEN_INVALID');
  }

  /** Admit a new call as the voice webhook does, and give the page what its stream's `start` must carry. */
  async #placeCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#checkToken(header(req, TOKEN_HEADER));
    if (this.#opts.draining())
      throw new SwitchboardError('HTTP_DRAINING', undefined, {}, { retryable: true });
    const body = await readBody(req, MAX_CALL_BODY_BYTES);
    let flow = this.#opts.defaultFlow;
    if (body.length > 0) {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        throw new SwitchboardError('HTTP_BAD_BODY', 'expected application/json');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new SwitchboardError('HTTP_BAD_BODY', 'not JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new SwitchboardError('HTTP_BAD_BODY', 'expected a JSON object');
      }
      const named = (parsed as { flow?: unknown }).flow;
      if (named !== undefined && typeof named !== 'string') {
        throw new SwitchboardError('HTTP_BAD_BODY', 'flow must be a string');
      }
      if (named !== undefined) flow = named;
    }
    // The name is untrusted input: bounded before it goes into a log record.
    if (!this.#opts.flows.has(flow)) {
      throw new SwitchboardError('FLOW_NOT_FOUND', undefined, { flow: flow.slice(0, 64) });
    }
    await this.#forgetStarted();
    if (this.#unstarted.size >= MAX_UNSTARTED) {
      this.#opts.logger.warn('softphone call refused: calls placed faster than their streams start', {
        code: 'HTTP_CALLS_TOO_FAST',
        waiting: this.#unstarted.size,
      });
      throw new SwitchboardError('HTTP_CALLS_TOO_FAST', undefined, {}, { retryable: true });
    }
    const callSid = 'CA' + randomBytes(16).toString('hex');
    const streamSid = 'MZ' + randomBytes(16).toString('hex');
    this.#opts.admission?.admitPlaced(callSid);
    const ticket = await this.#opts.journals.admit(callSid);
    this.#awaitStream(callSid);
    // Opened before the page is answered, in every worker: its stream and its view may reach any of them.
    await this.#opts.views?.share(callSid);
    this.#opts.logger.info('softphone call placed', { callId: callSid, flow });
    sendJson(res, { callSid, streamSid, viewToken: this.#tokens.view(callSid), params: { flow, ...ticket } });
  }

  /** Close the call in its journal if no stream has taken it up in time. */
  #awaitStream(callSid: string): void {
    const timer = setTimeout(() => {
      this.#unstarted.delete(callSid);
      void this.#opts.journals
        .end(callSid, 'stream never started', Date.now())
        .then((closed) => {
          if (closed)
            this.#opts.logger.info('softphone call closed: its stream never started', { callId: callSid });
        })
        .catch((err: unknown) =>
          this.#opts.logger.warn('softphone call could not be closed', { callId: callSid, err }),
        );
    }, this.#opts.unstartedMs ?? UNSTARTED_MS);
    timer.unref();
    this.#unstarted.set(callSid, timer);
  }

  /** Drop the calls whose stream has started (on any worker: the journal says) from those waiting. */
  async #forgetStarted(): Promise<void> {
    for (const callSid of [...this.#unstarted.keys()]) {
      const summary = await this.#opts.journals.store.summary(callSid);
      if (summary === null || summary.owner !== null || summary.records > 0) {
        clearTimeout(this.#unstarted.get(callSid));
        this.#unstarted.delete(callSid);
      }
    }
  }

  /** Stream a placed call's live view as Server-Sent Events, until the call ends or the page goes away. */
  #streamView(req: IncomingMessage, res: ServerResponse, path: string): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const callSid = EVENTS_PATH.exec(path)?.[1];
    if (callSid === undefined || !this.#tokens.verifyView(callSid, url.searchParams.get('token'))) {
      throw new SwitchboardError('HTTP_TOKEN_INVALID');
    }
    const views = this.#opts.views;
    // Only calls placed by the softphone are opened for viewing: a phone call's sid, even a right one, finds nothing.
    if (!views || !views.has(callSid)) {
      throw new SwitchboardError('HTTP_NOT_FOUND', 'no live view of that call');
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    // Headers now, not with the first event: the page knows at once that its view is open.
    res.flushHeaders();
    let unsubscribe: (() => void) | null = null;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      unsubscribe?.();
      res.end();
    };
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.#opts.heartbeatMs ?? HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', finish);
    // A listener's failure is swallowed by CallViews: a page that went away never reaches the call's session.
    const listener = (event: CallViewEvent): void => {
      if (done) return;
      res.write(`data: ${JSON.stringify(event)}\n\n`);
      if (event.type === 'ended') finish();
    };
    unsubscribe = views.subscribe(callSid, listener);
    // The replay may have ended the stream already (the call was over), before unsubscribe existed.
    if (unsubscribe === null || done) {
      unsubscribe?.();
      finish();
    }
  }
}

function send(res: ServerResponse, body: Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    ...extra,
  });
  res.end(body);
}
