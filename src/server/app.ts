/**
 * The Switchboard server: one node:http server for Twilio's webhooks, health and metrics, and the Media Streams
 * websocket on the same port. It holds no dialogue logic: each stream is handed to a call session.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { PacerClock } from '../audio/pacer.ts';
import { CallViews } from '../call/call-view.ts';
import { MediaSession } from '../call/session.ts';
import { SwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { createServerMetrics, type ServerMetrics } from '../observability/metrics.ts';
import { MAX_MESSAGE_BYTES } from '../telephony/media-streams.ts';
import { isValidStreamSignature } from '../telephony/signature.ts';
import { streamUrlFor } from '../telephony/twiml.ts';
import { header, requestUrl, sendError } from './http.ts';
import { listenOn } from './listen.ts';
import { CallsPage } from './calls-page.ts';
import { isOwnHost } from './dev-host.ts';
import { OPS_PATHS, OpsRoutes } from './ops-routes.ts';
import { SOFTPHONE_MEDIA_PATH, Softphone } from './softphone.ts';
import { Admission, type Readiness } from './admission.ts';
import { SourceLimits } from './source-limits.ts';
import { StoreWatch } from './store-watch.ts';
import { bindStreamSocket } from './stream-socket.ts';

import type { AppOptions } from './app-options.ts';
import { WarmTransfers } from '../transfer/warm-transfers.ts';
import {
  CONNECT_ENDED_PATH,
  MEDIA_PATH,
  RECORDING_PATH,
  TwilioWebhooks,
  WEBHOOK_PATHS,
  streamPathTicket,
} from './twilio-webhooks.ts';

/** Time for a request's headers, and for the whole request, before the socket is closed. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** A stream must start within 10 s of opening, then never go 30 s without a message (Twilio sends 50 a second). */
export const STREAM_QUIET_LIMITS = { noStartMs: 10_000, idleMs: 30_000 };
/** The response header naming the worker process that answered (WORKERS > 1 only). */
export const WORKER_HEADER = 'x-switchboard-worker';

export interface DrainReport {
  finished: number;
  handedBack: number;
}

export class SwitchboardApp {
  readonly metrics: ServerMetrics;
  readonly #opts: AppOptions;
  readonly #log: Logger;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #pacerClock: PacerClock;
  readonly #sessions = new Set<MediaSession>();
  /** Sessions that have ended and are closing their sockets. */
  readonly #closing = new Set<Promise<void>>();
  readonly #webhooks: TwilioWebhooks;
  /** Warm transfers, for calls and for Twilio's callbacks about the people called; null without REST control. */
  readonly #warm: WarmTransfers | null;
  readonly #softphone: Softphone | null;
  readonly #ops: OpsRoutes;
  /** The calls pages, drawn from the journal; served with the softphone, as part of the local developer view. */
  readonly #calls: CallsPage | null;
  /** Live views of the softphone's calls (null when the softphone is off). */
  readonly #views: CallViews | null;
  #publicUrl = '';
  #draining = false;
  readonly #admission: Admission;
  readonly #edge: SourceLimits;
  /** Whether the journal store answers: an instance that cannot journal is not ready. */
  readonly #storeWatch: StoreWatch;

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.metrics = opts.metrics ?? createServerMetrics();
    this.#pacerClock = new PacerClock({
      onError: (err) => this.#log.error('outbound audio pacing failed', { err }),
      onLate: (frames) => this.metrics.outboundFramesLate.inc(undefined, frames),
    });
    this.#views = opts.softphone ? (opts.peers?.views() ?? new CallViews()) : null;
    opts.peers?.exposeMetrics(() => this.metrics.registry.render());
    opts.peers?.exposeReadiness(() => this.#readiness());
    opts.peers?.shareStreamStarts((callId) => this.#admission.startedElsewhere(callId));
    const dropped = opts.dropped;
    const [config, maxCalls] = [opts.edgeLimits ?? null, opts.admission?.maxCalls ?? null];
    this.#edge = new SourceLimits({ config, maxCalls, logger: opts.logger, metrics: this.metrics });
    this.#admission = new Admission({
      config: opts.admission ?? null,
      // Started streams only: a socket that never said which call it is holds no call.
      live: () => Array.from(this.#sessions, (s) => s.callId).filter((id): id is string => id !== null),
      journals: opts.journals,
      metrics: this.metrics,
      logger: opts.logger,
      ...(dropped ? { dropped: () => dropped().vadChunks + dropped().sttFrames } : {}),
    });
    this.#storeWatch = new StoreWatch({ store: opts.journals.store, logger: opts.logger });
    this.#ops = new OpsRoutes({
      metricsToken: opts.metricsToken ?? null,
      production: opts.twilioAuthToken !== null,
      readiness: () => (opts.peers ? opts.peers.readiness() : this.#readiness()),
      metrics: () => (opts.peers ? opts.peers.metrics() : this.metrics.registry.render()),
    });
    const control = opts.callControl ?? null;
    this.#warm =
      control === null
        ? null
        : new WarmTransfers({
            store: opts.journals.store,
            owner: opts.journals.owner,
            control,
            publicUrl: () => this.#publicUrl,
            resumePath: CONNECT_ENDED_PATH,
            callerId: opts.twilioCallerId ?? null,
            logger: opts.logger,
            endCall: (callSid, at) => opts.journals.end(callSid, 'transferred', at),
          });
    this.#webhooks = new TwilioWebhooks({
      warmTransfers: this.#warm,
      flows: opts.flows,
      defaultFlow: opts.defaultFlow,
      journals: opts.journals,
      admission: this.#admission,
      logger: opts.logger,
      twilioAuthToken: opts.twilioAuthToken,
      twilioAuthTokenSecondary: opts.twilioAuthTokenSecondary ?? null,
      publicUrl: () => this.#publicUrl,
      draining: () => this.#draining,
    });
    this.#softphone = opts.softphone
      ? new Softphone({
          flows: opts.flows,
          defaultFlow: opts.defaultFlow,
          journals: opts.journals,
          logger: opts.logger,
          draining: () => this.#draining,
          admission: this.#admission,
          ...(this.#views ? { views: this.#views } : {}),
        })
      : null;
    this.#calls = this.#softphone
      ? new CallsPage({
          store: opts.journals.store,
          tokens: this.#softphone.tokens,
          flows: opts.flows,
          logger: opts.logger,
        })
      : null;
    // A client gets this long for its headers and its whole request (Node allows 300 s): slow ones do not pile up.
    // Checked every second, not Node's 30 s, so a slow client is cut off close to its limit.
    this.#http = createServer(
      {
        headersTimeout: opts.httpTimeouts?.headersMs ?? HEADERS_TIMEOUT_MS,
        requestTimeout: opts.httpTimeouts?.requestMs ?? REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => void this.#handle(req, res),
    );
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
    this.#edge.watch(this.#http);
    // Which process answered: with several workers, what a proxy or a test needs to tell them apart.
    const worker = opts.peers?.worker;
    if (worker !== undefined) {
      this.#wss.on('headers', (headers) => headers.push(`${WORKER_HEADER}: ${worker}`));
    }
    this.#http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Too slow (headersTimeout, requestTimeout) is a 408; a request that cannot be parsed a 400.
      const slow = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const log = this.#log.gated(this.#edge.gateFor(socket));
      log.warn(slow ? 'http request too slow; closed' : 'bad http request', { code: err.code });
      if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
      socket.end(
        `HTTP/1.1 ${slow ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    });
  }

  /**
   * Start listening; resolves with the bound address. Rejects with CONFIG_INVALID when the address cannot be
   * used (the port taken, say), its system code in `data.systemCode`.
   */
  async listen(port: number, host: string): Promise<AddressInfo> {
    const address = await listenOn(this.#http, port, host);
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#publicUrl = this.#opts.publicUrl ?? `http://${shownHost}:${address.port}`;
    return address;
  }

  /** The URL Twilio is told to use: PUBLIC_URL, or the listening address. */
  get publicUrl(): string {
    return this.#publicUrl;
  }

  get activeCalls(): number {
    return this.#sessions.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Whether this process takes new calls: what `/readyz` answers for it. */
  #readiness(): Readiness {
    if (this.#draining) return { status: 'draining' };
    if (!this.#storeWatch.reachable) return { status: 'unavailable', reason: 'store_unreachable' };
    return this.#admission.readiness();
  }

  /** Stop taking calls; wait up to `timeoutMs` for live calls to end, then hand the rest back to Twilio. */
  async drain(timeoutMs: number): Promise<DrainReport> {
    this.#draining = true;
    const live = [...this.#sessions];
    this.#log.info('draining', { liveCalls: live.length, timeoutMs });
    let finished = 0;
    const allEnded = Promise.all(
      live.map(
        (s) =>
          new Promise<void>((resolve) =>
            s.onEnded((reason) => {
              if (reason !== 'handed back') {
                finished += 1;
                this.#log.info('call finished during drain', { callId: s.callId });
              }
              resolve();
            }),
          ),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allEnded, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const handingBack: Promise<void>[] = [];
    for (const session of this.#sessions) {
      this.#log.info('call handed back', { callId: session.callId });
      handingBack.push(session.handBack());
    }
    // Each stream closes once its journal has let the call go, so the next instance finds it free.
    await Promise.all(handingBack);
    return { finished, handedBack: handingBack.length };
  }

  /** Close the listener and every socket. */
  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((session) => session.handBack()));
    await Promise.all([...this.#closing]);
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#pacerClock.stop();
    this.#admission.stop();
    this.#storeWatch.stop();
    this.#edge.stop();
    this.#views?.close();
    this.#softphone?.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.#edge.admitRequest(req, res)) return;
    const url = requestUrl(req);
    // No route has a target that is not a URL path; answered here, as the try below needs the route.
    if (url === null)
      return sendError(res, new SwitchboardError('HTTP_NOT_FOUND', 'the target is not a path'));
    const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const traced = this.#opts.tracing?.request(route);
    if (traced) res.once('close', () => traced(res.statusCode));
    if (this.#opts.peers) res.setHeader(WORKER_HEADER, String(this.#opts.peers.worker));
    try {
      if (await this.#ops.handle(req, res, route)) return;
      if (await this.#webhooks.handle(req, res, route, url)) return;
      if (await this.#opts.callsApi?.handle(req, res, url)) return;
      // What is left is the developer pages: only under this server's own host names.
      if (this.#softphone && !isOwnHost(header(req, 'host'), this.#opts.publicUrl ?? null)) {
        throw new SwitchboardError('HTTP_FORBIDDEN', "the Host is not one of this server's names");
      }
      if (this.#softphone && (await this.#softphone.handle(req, res, route))) return;
      if (this.#calls && (await this.#calls.handle(req, res, route))) return;
      const known = [...OPS_PATHS, ...WEBHOOK_PATHS];
      throw new SwitchboardError(
        known.includes(url.pathname) ? 'HTTP_METHOD_NOT_ALLOWED' : 'HTTP_NOT_FOUND',
        undefined,
        { route },
      );
    } catch (err) {
      const code = err instanceof SwitchboardError ? err.code : 'INTERNAL';
      this.metrics.httpRequests.inc({ route, code });
      if (code === 'HTTP_NOT_FOUND' || code === 'HTTP_METHOD_NOT_ALLOWED') {
        this.#log.debug('http request refused', { route, code });
      } else if (code === 'INTERNAL') this.#log.warn('http request refused', { route, code, err });
      else this.#log.gated(this.#edge.gateFor(req.socket)).warn('http request refused', { route, code });
      sendError(res, err);
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.#edge.admitUpgrade(socket)) return;
    // A target that is not a URL path is no path of ours: refused below as not found.
    const path = requestUrl(req)?.pathname.replace(/\/+$/, '') ?? '';
    const refuse = (status: number, text: string, code: string): void => {
      this.#log.gated(this.#edge.gateFor(socket)).warn('websocket upgrade refused', { code, path });
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const softphone = path === SOFTPHONE_MEDIA_PATH ? this.#softphone : null;
    const token = this.#opts.twilioAuthToken;
    // A Twilio stream's path names its ticket; without signatures (development) the bare path is taken too, as
    // nothing is authenticated then anyway.
    const urlTicket = softphone ? null : streamPathTicket(path);
    const bare = !softphone && token === null && path === MEDIA_PATH;
    if (urlTicket === null && !softphone && !bare) return refuse(404, 'Not Found', 'HTTP_NOT_FOUND');
    // A draining instance takes no new streams: a proxy in front retries another instance on 503.
    if (this.#draining) return refuse(503, 'Service Unavailable', 'HTTP_DRAINING');
    if (softphone) {
      // The page's own stream: its page token and Origin, never the Twilio signature, which it cannot have.
      if (!isOwnHost(header(req, 'host'), this.#opts.publicUrl ?? null)) {
        return refuse(403, 'Forbidden', 'HTTP_FORBIDDEN');
      }
      const refused = softphone.refuseUpgrade(req);
      if (refused) return refuse(403, 'Forbidden', refused);
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, socket, { endsCall: true }));
      return;
    }
    if (token !== null) {
      const streamUrl = streamUrlFor(this.#publicUrl, path);
      const tokens = [token, this.#opts.twilioAuthTokenSecondary];
      if (!isValidStreamSignature(tokens, header(req, 'x-twilio-signature'), streamUrl)) {
        return refuse(403, 'Forbidden', 'HTTP_FORBIDDEN');
      }
      this.#edge.proven(socket); // signed by Twilio: its address no longer answers for it
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) =>
      this.#attach(ws, socket, urlTicket === null ? {} : { urlTicket }),
    );
  }

  /**
   * Hand a stream to a new session. `endsCall`: the stream is the whole call (the softphone), so when it ends
   * its journal is closed, as Twilio's `completed` status callback does for a phone call.
   */
  #attach(ws: WebSocket, socket: Duplex, options: { endsCall?: boolean; urlTicket?: string } = {}): void {
    const session = new MediaSession(ws, {
      flows: this.#opts.flows,
      journals: this.#opts.journals,
      ...(options.urlTicket === undefined ? {} : { urlTicket: options.urlTicket }),
      ...(this.#opts.faults ? { faults: this.#opts.faults } : {}),
      ...(this.#opts.models ? { models: this.#opts.models } : {}),
      hearing: this.#opts.hearing ?? null,
      defaultFlow: this.#opts.defaultFlow,
      prompts: this.#opts.prompts,
      fallback: this.#opts.fallback ?? null,
      pacerClock: this.#pacerClock,
      metrics: this.metrics,
      logger: this.#log,
      callControl: this.#opts.callControl ?? null,
      recordingCallbackUrl: `${this.#publicUrl}${RECORDING_PATH}`,
      warmTransfers: this.#warm,
      ...(this.#opts.env ? { env: this.#opts.env } : {}),
      ...(this.#opts.httpAllowHosts ? { httpAllowHosts: this.#opts.httpAllowHosts } : {}),
      ...(this.#views ? { views: this.#views } : {}),
      tracing: this.#opts.tracing?.calls ?? null,
      quietLimits: STREAM_QUIET_LIMITS,
      subscribers: [this.#edge.attachWatcher(socket)],
      unattachedLogGate: this.#edge.gateFor(socket),
    });
    this.#sessions.add(session);
    const peers = this.#opts.peers;
    if (peers) session.onLive((callId) => peers.streamStarted(callId));
    session.onEnded(() => {
      this.#sessions.delete(session);
      // Its socket closes once its journal is written; close() waits for that rather than cutting it short.
      const closed = options.endsCall
        ? session.closed.then(() => this.#endJournal(session.callId))
        : session.closed;
      this.#closing.add(closed);
      void closed.then(() => this.#closing.delete(closed));
    });
    bindStreamSocket(ws, session);
  }
  /** Close a finished softphone call's journal (left alone while another stream holds the call). */
  async #endJournal(callId: string | null): Promise<void> {
    if (callId === null) return;
    try {
      await this.#opts.journals.end(callId, 'call completed', Date.now());
    } catch (err) {
      this.#log.warn('softphone call journal could not be closed', { callId, err });
    }
  }
}
