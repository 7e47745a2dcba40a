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
import type { PromptSource } from '../call/effects.ts';
import type { FallbackSpeech } from '../call/speech-failover.ts';
import type { FaultHook } from '../call/call-journal.ts';
import type { CallJournals } from '../call/journals.ts';
import { MediaSession, type Hearing } from '../call/session.ts';
import { ErrorCodes, SwitchboardError, isErrorFamily } from '../errors.ts';
import { nameHints, type CompiledFlow } from '../flow/index.ts';
import type { SharedIntentModel } from '../nlu/shared-model.ts';
import { resumeRefusal } from '../journal/resume.ts';
import type { Logger } from '../observability/logger.ts';
import { createServerMetrics, type ServerMetrics } from '../observability/metrics.ts';
import { MAX_MESSAGE_BYTES } from '../telephony/media-streams.ts';
import { isValidStreamSignature, isValidTwilioSignature } from '../telephony/signature.ts';
import {
  REFUSAL_HEADER,
  connectStream,
  hangup,
  httpUrlFor,
  sayThenHangup,
  streamUrlFor,
} from '../telephony/twiml.ts';
import { parseForm, readBody, sendError, sendJson, sendText, sendXml } from './http.ts';
import { CallsPage } from './calls-page.ts';
import { SOFTPHONE_MEDIA_PATH, Softphone } from './softphone.ts';
import { StatusLog } from './status-log.ts';
import type { CallControl } from '../telephony/call-control.ts';

export const MEDIA_PATH = '/twilio/media';
/** Why the server cannot listen, by the system's code. */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use by another process',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'the address is not one of this machine',
};
/** Said by Twilio when a call that was cut off cannot be taken up again. */
const SORRY_CUT_OFF = 'Sorry, we could not continue this call. Please call again. Goodbye.';

export interface AppOptions {
  flows: ReadonlyMap<string, CompiledFlow>;
  /** Where calls are journaled; streams attach to their calls through it. */
  journals: CallJournals;
  /** Deterministic fault injection for tests. */
  faults?: FaultHook;
  /** Speech recognition and voice activity for calls; absent or null: calls take keys only. */
  hearing?: Hearing | null;
  /** Each flow's intent model by flow id (a FlowLibrary's `models`); absent: exact examples only. */
  models?: ReadonlyMap<string, SharedIntentModel>;
  defaultFlow: string;
  prompts: PromptSource;
  /** Offline engines calls switch to when cloud speech keeps failing (flows' `speechFailover`). */
  fallback?: FallbackSpeech | null;
  logger: Logger;
  /** When set, every Twilio request and the websocket upgrade must be signed with it. */
  twilioAuthToken: string | null;
  /** The URL Twilio reaches; when null, derived from the listening address. */
  publicUrl: string | null;
  metrics?: ServerMetrics;
  /** Twilio REST control, for transfers; null or absent when no account credentials are configured. */
  callControl?: CallControl | null;
  /** Where flows' `{{env.NAME}}` values come from (process.env unless given). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Serve the browser softphone at `/` (off unless set). */
  softphone?: boolean;
}

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
  readonly #statuses = new StatusLog(1000);
  readonly #softphone: Softphone | null;
  /** The calls pages, drawn from the journal; served with the softphone, as part of the local developer view. */
  readonly #calls: CallsPage | null;
  /** Live views of the softphone's calls (null when the softphone is off). */
  readonly #views: CallViews | null;
  #publicUrl = '';
  #draining = false;

  constructor(opts: AppOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.metrics = opts.metrics ?? createServerMetrics();
    this.#pacerClock = new PacerClock({
      onError: (err) => this.#log.error('outbound audio pacing failed', { err }),
    });
    this.#views = opts.softphone ? new CallViews() : null;
    this.#softphone = opts.softphone
      ? new Softphone({
          flows: opts.flows,
          defaultFlow: opts.defaultFlow,
          journals: opts.journals,
          logger: opts.logger,
          draining: () => this.#draining,
          ...(this.#views ? { views: this.#views } : {}),
        })
      : null;
    this.#calls = opts.softphone
      ? new CallsPage({ store: opts.journals.store, flows: opts.flows, logger: opts.logger })
      : null;
    this.#http = createServer((req, res) => void this.#handle(req, res));
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
    this.#http.on('clientError', (err, socket) => {
      this.#log.warn('bad http request', { err });
      socket.destroy();
    });
  }

  /**
   * Start listening; resolves with the bound address. Rejects with CONFIG_INVALID when the address cannot be
   * used (the port taken, say), its system code in `data.systemCode`.
   */
  async listen(port: number, host: string): Promise<AddressInfo> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.#http.once('error', reject);
        this.#http.listen(port, host, () => {
          this.#http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? null;
      const why = (code && LISTEN_FAILURES[code]) ?? (err as Error).message;
      const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      const data = { host, port, systemCode: code };
      throw new SwitchboardError('CONFIG_INVALID', `cannot listen on ${where}: ${why}`, data, { cause: err });
    }
    const address = this.#http.address() as AddressInfo;
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
    this.#views?.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    try {
      switch (route) {
        case 'GET /healthz':
          return sendJson(res, { status: 'ok' });
        case 'GET /readyz':
          return this.#draining
            ? sendJson(res, { status: 'draining' }, 503)
            : sendJson(res, { status: 'ready', calls: this.#sessions.size });
        case 'GET /metrics':
          return sendText(res, this.metrics.registry.render(), 'text/plain; version=0.0.4');
        case 'POST /twilio/voice':
          return await this.#voice(req, res, url);
        case 'POST /twilio/status':
          return await this.#status(req, res);
        case 'POST /twilio/connect-ended':
          return await this.#connectEnded(req, res);
      }
      if (this.#softphone && (await this.#softphone.handle(req, res, route))) return;
      if (this.#calls && (await this.#calls.handle(req, res, route))) return;
      const known = [
        '/healthz',
        '/readyz',
        '/metrics',
        '/twilio/voice',
        '/twilio/status',
        '/twilio/connect-ended',
      ];
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
      } else
        this.#log.warn('http request refused', { route, code, err: code === 'INTERNAL' ? err : undefined });
      sendError(res, err);
    }
  }

  /** Read a Twilio form post and check its signature against the public URL Twilio used. */
  async #twilioForm(req: IncomingMessage): Promise<Record<string, string>> {
    const params = parseForm(req, await readBody(req));
    const token = this.#opts.twilioAuthToken;
    if (token !== null) {
      const url = this.#publicUrl + (req.url ?? '/');
      if (!isValidTwilioSignature(token, header(req, 'x-twilio-signature'), url, params)) {
        throw new SwitchboardError('HTTP_FORBIDDEN');
      }
    }
    return params;
  }

  async #voice(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Retryable: another instance behind the same address takes the call.
    if (this.#draining) throw new SwitchboardError('HTTP_DRAINING', undefined, {}, { retryable: true });
    const params = await this.#twilioForm(req);
    const flow = url.searchParams.get('flow') ?? this.#opts.defaultFlow;
    const callSid = params.CallSid ?? '';
    const log = this.#log.child({ callId: callSid });
    if (!this.#opts.flows.has(flow)) {
      const hint = nameHints(new Set(this.#opts.flows.keys()), 'flows')(flow);
      log.error('incoming call for an unknown flow', { code: 'FLOW_NOT_FOUND', flow, hint });
      res.setHeader(REFUSAL_HEADER, `${ErrorCodes.FLOW_NOT_FOUND} (${hint})`);
      return sendXml(res, sayThenHangup('Sorry, this number is not set up yet. Goodbye.'));
    }
    if (callSid === '') throw new SwitchboardError('HTTP_BAD_BODY', 'CallSid is missing');
    const ticket = await this.#opts.journals.admit(callSid);
    log.info('incoming call', { flow, pii: { from: params.From, to: params.To } });
    sendXml(res, this.#connect(flow, { ...ticket }));
  }

  #connect(flow: string, ticket: Record<string, string>): string {
    return connectStream({
      actionUrl: httpUrlFor(this.#publicUrl, '/twilio/connect-ended'),
      streamUrl: streamUrlFor(this.#publicUrl, MEDIA_PATH),
      parameters: { flow, ...ticket },
    });
  }

  async #status(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = await this.#twilioForm(req);
    const entry = this.#statuses.record(params);
    this.#log.info('call status', {
      callId: entry.callSid,
      status: entry.status,
      sequenceNumber: entry.sequenceNumber,
      pii: { from: params.From, to: params.To },
    });
    // A call that ended while no stream held it (the caller hung up during a hand-over) is closed in its
    // journal, so nothing tries to resume it.
    if (entry.status === 'completed' && entry.callSid) {
      if (await this.#opts.journals.end(entry.callSid, 'call completed', Date.now())) {
        this.#log.info('call journal closed by its completed status', { callId: entry.callSid });
      }
    }
    res.writeHead(204).end();
  }

  /** Twilio's stream for a call ended: resume the conversation on a new stream, unless it is over. */
  async #connectEnded(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = await this.#twilioForm(req);
    const callSid = params.CallSid ?? '';
    const log = this.#log.child({ callId: callSid });
    let next;
    try {
      next = callSid === '' ? { kind: 'unknown' as const } : await this.#opts.journals.afterStream(callSid);
    } catch (err) {
      // A journal that cannot be read (damaged, from a newer version) cannot be resumed: the caller is told.
      if (!isErrorFamily(err, 'JOURNAL')) throw err;
      log.error('call cannot resume: its journal cannot be read', { code: err.code, err });
      return sendXml(res, sayThenHangup(SORRY_CUT_OFF));
    }
    if (next.kind === 'unknown') {
      log.warn('stream ended for a call with no journal; hanging up', { code: 'JOURNAL_NOT_FOUND' });
      return sendXml(res, hangup());
    }
    if (next.kind === 'ended') {
      log.info('stream ended, call is over; hanging up');
      return sendXml(res, hangup());
    }
    // A call that never began (its instance died before the stream started) starts over on the default flow.
    const flow = next.start?.flow ?? this.#opts.defaultFlow;
    const refused = resumeRefusal(next.start, flow, this.#opts.flows.get(flow)?.flow.version);
    if (refused) {
      log.error('call cannot resume: its flow version is not loaded here', {
        code: refused.code,
        ...refused.data,
      });
      await this.#opts.journals.end(callSid, 'flow version not loaded', Date.now(), { force: true });
      return sendXml(res, sayThenHangup(SORRY_CUT_OFF));
    }
    log.info('stream ended mid-call; resuming on a new stream', {
      flow,
      leaseToken: Number(next.ticket.lease),
    });
    sendXml(res, this.#connect(flow, { ...next.ticket }));
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    const refuse = (status: number, text: string, code: string): void => {
      this.#log.warn('websocket upgrade refused', { code, path });
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const softphone = path === SOFTPHONE_MEDIA_PATH ? this.#softphone : null;
    if (path !== MEDIA_PATH && !softphone) return refuse(404, 'Not Found', 'HTTP_NOT_FOUND');
    // A draining instance takes no new streams: a proxy in front retries another instance on 503.
    if (this.#draining) return refuse(503, 'Service Unavailable', 'HTTP_DRAINING');
    if (softphone) {
      // The page's own stream: its page token and Origin, never the Twilio signature, which it cannot have.
      const refused = softphone.refuseUpgrade(req);
      if (refused) return refuse(403, 'Forbidden', refused);
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, { endsCall: true }));
      return;
    }
    const token = this.#opts.twilioAuthToken;
    if (token !== null) {
      const streamUrl = streamUrlFor(this.#publicUrl, MEDIA_PATH);
      if (!isValidStreamSignature(token, header(req, 'x-twilio-signature'), streamUrl)) {
        return refuse(403, 'Forbidden', 'HTTP_FORBIDDEN');
      }
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws));
  }

  /**
   * Hand a stream to a new session. `endsCall`: the stream is the whole call (the softphone), so when it ends
   * its journal is closed, as Twilio's `completed` status callback does for a phone call.
   */
  #attach(ws: WebSocket, options: { endsCall?: boolean } = {}): void {
    const session = new MediaSession(ws, {
      flows: this.#opts.flows,
      journals: this.#opts.journals,
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
      ...(this.#opts.env ? { env: this.#opts.env } : {}),
      ...(this.#views ? { views: this.#views } : {}),
    });
    this.#sessions.add(session);
    session.onEnded(() => {
      this.#sessions.delete(session);
      // Its socket closes once its journal is written; close() waits for that rather than cutting it short.
      const closed = options.endsCall
        ? session.closed.then(() => this.#endJournal(session.callId))
        : session.closed;
      this.#closing.add(closed);
      void closed.then(() => this.#closing.delete(closed));
    });
    ws.on('message', (data: Buffer) => session.handleMessage(data));
    ws.on('close', (code) => session.handleClose(code));
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        session.reject(new SwitchboardError('MEDIA_TOO_LARGE', `over ${MAX_MESSAGE_BYTES} bytes`));
      } else session.reject(err);
    });
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

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
