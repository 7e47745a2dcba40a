/**
 * Twilio's webhooks: the voice webhook that connects a new call's media stream (or turns it away when the
 * process is busy), the status callback, and the `<Connect action>` Twilio asks when a stream ends, which
 * resumes the call from its journal on a new stream unless it is over. Each form post's signature is checked
 * against the public URL Twilio used.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallJournals, StreamTicket } from '../call/journals.ts';
import { recordReport, recordingReport } from '../call/recordings.ts';
import { ErrorCodes, SwitchboardError, isErrorFamily } from '../errors.ts';
import { nameHints, type CompiledFlow } from '../flow/index.ts';
import { resumeRefusal } from '../journal/resume.ts';
import type { Logger } from '../observability/logger.ts';
import { checkAnsweredBy, recordAnswer, recordStatus } from '../outbound/dial-callbacks.ts';
import { dialKeyOf } from '../outbound/dial-request.ts';
import { isValidTwilioSignature } from '../telephony/signature.ts';
import { TRANSFER_PATH, type WarmTransfers } from '../transfer/warm-transfers.ts';
import {
  REFUSAL_HEADER,
  connectStream,
  hangup,
  httpUrlFor,
  sayThenHangup,
  streamUrlFor,
} from '../telephony/twiml.ts';
import type { Admission } from './admission.ts';
import { isCrossSiteBrowserRequest } from './cross-site.ts';
import { header, parseForm, readBody, sendXml } from './http.ts';
import { StatusLog } from './status-log.ts';

/** Where a number's voice webhook points (`?flow=NAME` picks a flow other than DEFAULT_FLOW). */
export const VOICE_PATH = '/twilio/voice';
/** Where a number's (or an outbound call's) status callback points. */
export const STATUS_PATH = '/twilio/status';
/** Where answering-machine detection reports who answered a call this server placed (`?dial=KEY`). */
export const AMD_PATH = '/twilio/amd';
/** Where a call's recordings report their status (started, completed with their URL). */
export const RECORDING_PATH = '/twilio/recording';
/** Where Twilio asks what next when a call's stream ends (and where a call back from hold is sent). */
export const CONNECT_ENDED_PATH = '/twilio/connect-ended';
/** Every webhook route's path (each takes POST only). */
export const WEBHOOK_PATHS = [
  VOICE_PATH,
  STATUS_PATH,
  AMD_PATH,
  RECORDING_PATH,
  CONNECT_ENDED_PATH,
  TRANSFER_PATH,
];

/** Twilio's media streams connect to MEDIA_PATH/<ticket token>: the signed URL names the ticket it may use. */
export const MEDIA_PATH = '/twilio/media';

/** The ticket token a stream path names (`/twilio/media/<token>`); null when `path` is not a stream path. */
export function streamPathTicket(path: string): string | null {
  if (!path.startsWith(`${MEDIA_PATH}/`)) return null;
  const token = path.slice(MEDIA_PATH.length + 1);
  return /^[A-Za-z0-9_-]{1,128}$/.test(token) ? token : null;
}

/** Twilio's call ids are `CA` and 32 hex digits; anything far from that shape is refused before it is stored. */
const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;

function checkCallSid(callSid: string): void {
  if (!CALL_SID.test(callSid))
    throw new SwitchboardError('HTTP_BAD_BODY', 'CallSid is not a call id', { length: callSid.length });
}

/** Said by Twilio when a call that was cut off cannot be taken up again. */
const SORRY_CUT_OFF = 'Sorry, we could not continue this call. Please call again. Goodbye.';

export interface TwilioWebhooksOptions {
  flows: ReadonlyMap<string, CompiledFlow>;
  defaultFlow: string;
  journals: CallJournals;
  admission: Admission;
  logger: Logger;
  /** When set, every form post must be signed with it. */
  twilioAuthToken: string | null;
  /** While the token is rotated: a form post signed with this one is accepted too. */
  twilioAuthTokenSecondary?: string | null;
  /** The URL Twilio reaches (known once the server listens). */
  publicUrl: () => string;
  /** Whether the server is draining (no new calls). */
  draining: () => boolean;
  /** Warm transfers, told what Twilio reports on the people called; null: the server makes none. */
  warmTransfers?: WarmTransfers | null;
}

export class TwilioWebhooks {
  readonly #opts: TwilioWebhooksOptions;
  readonly #log: Logger;
  readonly #statuses = new StatusLog(1000);

  constructor(opts: TwilioWebhooksOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
  }

  get #store() {
    return this.#opts.journals.store;
  }

  get #owner() {
    return this.#opts.journals.owner;
  }

  /** Serve a webhook route ("METHOD /path"); false when `route` is not one. Throws typed errors for the app. */
  async handle(req: IncomingMessage, res: ServerResponse, route: string, url: URL): Promise<boolean> {
    switch (route) {
      case `POST ${VOICE_PATH}`:
        await this.#voice(req, res, url);
        return true;
      case `POST ${STATUS_PATH}`:
        await this.#status(req, res, url);
        return true;
      case `POST ${AMD_PATH}`:
        await this.#amd(req, res, url);
        return true;
      case `POST ${RECORDING_PATH}`:
        await this.#recording(req, res);
        return true;
      case `POST ${CONNECT_ENDED_PATH}`:
        await this.#connectEnded(req, res, url);
        return true;
      case `POST ${TRANSFER_PATH}`:
        await this.#transfer(req, res, url);
        return true;
      default:
        return false;
    }
  }

  /** Read a Twilio form post and check its signature against the public URL Twilio used. */
  async #twilioForm(req: IncomingMessage): Promise<Record<string, string>> {
    // Unsigned (no auth token), a form another site's page posts must not place a call from a visitor's browser.
    if (this.#opts.twilioAuthToken === null && isCrossSiteBrowserRequest(req)) {
      throw new SwitchboardError('HTTP_CROSS_SITE');
    }
    const params = parseForm(req, await readBody(req));
    const token = this.#opts.twilioAuthToken;
    if (token !== null) {
      const url = this.#opts.publicUrl() + (req.url ?? '/');
      const tokens = [token, this.#opts.twilioAuthTokenSecondary];
      if (!isValidTwilioSignature(tokens, header(req, 'x-twilio-signature'), url, params)) {
        throw new SwitchboardError('HTTP_FORBIDDEN');
      }
    }
    return params;
  }

  async #voice(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Retryable: another instance behind the same address takes the call.
    if (this.#opts.draining())
      throw new SwitchboardError('HTTP_DRAINING', undefined, {}, { retryable: true });
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
    checkCallSid(callSid);
    const busy = await this.#opts.admission.refuseNew(callSid, { from: params.From, to: params.To });
    if (busy) return sendXml(res.setHeader(REFUSAL_HEADER, busy.why), busy.twiml);
    const ticket = await this.#opts.journals.admit(callSid);
    const direction = directionOf(params);
    log.info('incoming call', { flow, direction, pii: { from: params.From, to: params.To } });
    // A call this server placed names its dial: the flow reads the variables it was dialed with from there.
    const dial = direction === 'outbound' ? dialKeyOf(url.searchParams.get('dial')) : null;
    const caller = { direction, ...callerNumbers(params), ...(dial === null ? {} : { dial }) };
    sendXml(res, this.#connect(flow, { ...ticket }, caller));
  }

  /**
   * `caller`: how the call came (`direction`) and its numbers, carried to the stream: the flow reads them, and its
   * journal keeps them (erasure finds a caller by them).
   */
  #connect(flow: string, ticket: StreamTicket, caller: Record<string, string> = {}): string {
    return connectStream({
      // The flow rides along: a call whose first stream never started has no journaled flow to resume with.
      actionUrl: httpUrlFor(this.#opts.publicUrl(), `${CONNECT_ENDED_PATH}?flow=${encodeURIComponent(flow)}`),
      streamUrl: streamUrlFor(this.#opts.publicUrl(), `${MEDIA_PATH}/${ticket.token}`),
      parameters: { flow, ...caller, ...ticket },
    });
  }

  async #status(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params = await this.#twilioForm(req);
    const entry = this.#statuses.record(params);
    const dial = dialKeyOf(url.searchParams.get('dial'));
    if (dial !== null && entry.callSid && entry.status) {
      const outcome = await recordStatus(
        this.#store,
        this.#owner,
        dial,
        entry.callSid,
        entry.status,
        Date.now(),
      );
      if (outcome === 'unknown') {
        this.#log.warn('status callback for a call no dial placed', { callId: entry.callSid, dial });
      }
    }
    this.#log.info('call status', {
      callId: entry.callSid,
      status: entry.status,
      sequenceNumber: entry.sequenceNumber,
      pii: { from: params.From, to: params.To },
    });
    // A call that ended while no stream held it (the caller hung up during a hand-over) is closed in its
    // journal, so nothing tries to resume it.
    if (entry.status === 'completed' && entry.callSid && CALL_SID.test(entry.callSid)) {
      if (await this.#opts.journals.end(entry.callSid, 'call completed', Date.now())) {
        this.#log.info('call journal closed by its completed status', { callId: entry.callSid });
      }
      await this.#opts.warmTransfers?.callerLeft(entry.callSid).catch((err: unknown) => {
        this.#log.warn("a caller's warm transfers could not be called off", { callId: entry.callSid, err });
      });
    }
    res.writeHead(204).end();
  }

  /** Who answered a call this server placed: journaled with its dial, where the call's conversation reads it. */
  async #amd(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params = await this.#twilioForm(req);
    const callSid = params.CallSid ?? '';
    checkCallSid(callSid);
    const answeredBy = checkAnsweredBy(params.AnsweredBy);
    if (answeredBy === null) throw new SwitchboardError('HTTP_BAD_BODY', 'AnsweredBy is not a known answer');
    const dial = dialKeyOf(url.searchParams.get('dial'));
    const outcome =
      dial === null
        ? 'unknown'
        : await recordAnswer(this.#store, this.#owner, dial, callSid, answeredBy, Date.now());
    const fields = { callId: callSid, dial, answeredBy };
    if (outcome === 'unknown') this.#log.warn('answering machine detection for an unknown call', fields);
    else if (outcome === 'repeated') this.#log.info('answering machine detection repeated', fields);
    else this.#log.info('answering machine detection', fields);
    res.writeHead(204).end();
  }

  /** A recording of a call reports its status: journaled beside the call, shown on its page. */
  async #recording(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = await this.#twilioForm(req);
    const callSid = params.CallSid ?? '';
    checkCallSid(callSid);
    const report = recordingReport(params);
    if (report === null) throw new SwitchboardError('HTTP_BAD_BODY', 'not a recording status callback');
    const taken = await recordReport(this.#store, this.#owner, callSid, report, Date.now());
    const fields = {
      callId: callSid,
      recordingSid: report.sid,
      status: report.status,
      duration: report.duration,
    };
    this.#log.info(taken ? 'call recording status' : 'call recording status repeated', fields);
    res.writeHead(204).end();
  }

  /** The person a warm transfer called took the call, declined it, or their call ended (transfer/). */
  async #transfer(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params = await this.#twilioForm(req);
    const warm = this.#opts.warmTransfers;
    if (!warm) throw new SwitchboardError('HTTP_NOT_FOUND', 'this server makes no warm transfers');
    const twiml = await warm.callback(url.searchParams, params);
    if (twiml === null) res.writeHead(204).end();
    else sendXml(res, twiml);
  }

  /** Twilio's stream for a call ended: resume the conversation on a new stream, unless it is over. */
  async #connectEnded(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params = await this.#twilioForm(req);
    const callSid = params.CallSid ?? '';
    if (callSid !== '') checkCallSid(callSid);
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
    // A call that never began (its first stream failed before it started) starts over on the flow it was
    // connected to, named in the action URL (signed with it), or the default flow.
    const connectedTo = url.searchParams.get('flow');
    const flow =
      next.start?.flow ??
      (connectedTo !== null && this.#opts.flows.has(connectedTo) ? connectedTo : this.#opts.defaultFlow);
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
    this.#opts.admission.resumed(callSid);
    // A call that never began journals the caller's numbers when it starts on this stream, as on its first, so
    // erasure by caller finds it.
    const numbers = next.start === null ? { direction: directionOf(params), ...callerNumbers(params) } : {};
    sendXml(res, this.#connect(flow, { ...next.ticket }, numbers));
  }
}

/**
 * How the call reached us, as the flow reads it (`{{call.direction}}`): `outbound` for a call placed through the
 * REST API (Twilio's `Direction` is `outbound-api`), else `inbound`.
 */
function directionOf(params: Record<string, string>): 'inbound' | 'outbound' {
  return params.Direction === 'outbound-api' ? 'outbound' : 'inbound';
}

/** The webhook's From and To, when they are phone numbers (or client identities) of a sane length. */
function callerNumbers(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (params.From && params.From.length <= 64) out.from = params.From;
  if (params.To && params.To.length <= 64) out.to = params.To;
  return out;
}
