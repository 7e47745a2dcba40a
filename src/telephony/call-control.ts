/**
 * Live call control over Twilio's REST API: replace a call's TwiML (redirect), connect it elsewhere (transfer, a
 * redirect to `<Dial>`), or hang it up. Redirecting ends the media stream with the same `stop` a hang-up sends, so
 * whoever calls this must not read that `stop` as the caller leaving.
 *
 * The `twilio` package's own client builds the requests (rest-client.ts: loaded on first use or in warm(), sent
 * to TWILIO_API_URL when it is set); a failed request is a TWILIO_REST_FAILED error (rest-errors.ts).
 */
import type TwilioClient from 'twilio/lib/rest/Twilio.js';
import { SwitchboardError, isSwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { lazyRestClient, type TwilioRestOptions } from './rest-client.ts';
import { restError, twilioMessage } from './rest-errors.ts';
import { MAX_INLINE_TWIML_CHARS, dialTwiml } from './twiml.ts';

const CALL_SID = /^CA[0-9a-f]{32}$/;

/** A transfer should not hang for the library's default 30 s while the caller waits in silence. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface CallControlOptions extends TwilioRestOptions {
  logger: Logger;
}

type Action =
  | 'redirect'
  | 'transfer'
  | 'hangup'
  | 'record'
  | 'pause recording'
  | 'resume recording'
  | 'call for transfer';

/** A call placed to brief a person before a transfer: its TwiML inline, its end reported to `statusCallback`. */
export interface PersonCall {
  to: string;
  from: string;
  twiml: string;
  /** Seconds to ring before Twilio gives up (`no-answer`). */
  timeoutSeconds: number;
  /** Where Twilio reports the call's final status. */
  statusCallback: string;
}

/** Where a recording's status callbacks go (`in-progress`, `completed`, `absent`). */
export interface RecordingCallback {
  url: string;
}

export class CallControl {
  readonly #logger: Logger;
  readonly #client: () => TwilioClient;

  /** Throws CONFIG_INVALID for an account SID or auth token that could never authenticate, or a bad `apiUrl`. */
  constructor(options: CallControlOptions) {
    this.#client = lazyRestClient(options, REQUEST_TIMEOUT_MS);
    this.#logger = options.logger;
  }

  /**
   * Loads the twilio library and builds the client now, sending nothing. Loading blocks the event loop for
   * ~150 ms; call this at start-up so the first transfer does not stall every live call's audio.
   */
  warm(): void {
    this.#client();
  }

  /** Replace a live call's TwiML (ends its media stream). Resolves when Twilio accepted it. */
  async redirect(callSid: string, twiml: string): Promise<void> {
    await this.#run('redirect', callSid, () => {
      checkTwiml(twiml);
      return { twiml };
    });
    this.#logger.info('call redirected', { callSid });
  }

  /** Connect the caller to `to` (E.164) by redirecting the call to `<Dial>`. */
  async transfer(callSid: string, to: string, options: { callerId?: string } = {}): Promise<void> {
    await this.#run('transfer', callSid, () => {
      const twiml = dialTwiml(to, options.callerId === undefined ? {} : { callerId: options.callerId });
      checkTwiml(twiml);
      return { twiml };
    });
    this.#logger.info('call transferred', { callSid, pii: { to } });
  }

  /** Hand a live call's next TwiML to `url` (POST, signed), as Twilio asks a webhook (ends its media stream). */
  async redirectTo(callSid: string, url: string): Promise<void> {
    await this.#call('redirect', callSid, async (call) => {
      await call.update({ url, method: 'POST' });
    });
    this.#logger.info('call redirected', { callSid });
  }

  /** Place a call that runs `twiml` when answered; resolves with its SID. */
  async callPerson(person: PersonCall): Promise<{ sid: string }> {
    checkTwiml(person.twiml);
    const action: Action = 'call for transfer';
    let sid: string;
    try {
      const call = await this.#client().calls.create({
        to: person.to,
        from: person.from,
        twiml: person.twiml,
        timeout: person.timeoutSeconds,
        statusCallback: person.statusCallback,
        statusCallbackMethod: 'POST',
      });
      sid = call.sid;
    } catch (err) {
      throw this.#failed(action, null, isSwitchboardError(err) ? err : restError(action, err, { action }));
    }
    this.#logger.info('call placed for a transfer', { callSid: sid, pii: { to: person.to } });
    return { sid };
  }

  /** End a live call. */
  async hangup(callSid: string): Promise<void> {
    await this.#run('hangup', callSid, () => ({ status: 'completed' as const }));
    this.#logger.info('call hung up', { callSid });
  }

  /** Start a dual-channel recording of a live call (each party on its own channel); resolves with its SID. */
  async startRecording(callSid: string, callback: RecordingCallback): Promise<{ sid: string }> {
    let sid = '';
    await this.#call('record', callSid, async (call) => {
      const recording = await call.recordings.create({
        recordingChannels: 'dual',
        recordingStatusCallback: callback.url,
        recordingStatusCallbackMethod: 'POST',
        recordingStatusCallbackEvent: ['in-progress', 'completed', 'absent'],
      });
      sid = recording.sid;
    });
    this.#logger.info('call recording started', { callSid, recordingSid: sid });
    return { sid };
  }

  /** Pause or resume the call's running recording (Twilio.CURRENT: the one started last). */
  async setRecording(callSid: string, status: 'paused' | 'in-progress'): Promise<void> {
    const action = status === 'paused' ? 'pause recording' : 'resume recording';
    await this.#call(action, callSid, async (call) => {
      await call.recordings('Twilio.CURRENT').update({ status });
    });
    this.#logger.info(status === 'paused' ? 'call recording paused' : 'call recording resumed', { callSid });
  }

  /** Validates everything first (no request for a bad input), then updates the call; one log line per failure. */
  #run(
    action: Action,
    callSid: string,
    params: () => { twiml: string } | { status: 'completed' },
  ): Promise<void> {
    return this.#call(action, callSid, async (call) => {
      const update = params();
      await call.update(update);
    });
  }

  /** Checks the call SID (no request for a bad one), then sends `request`; one log line per failure. */
  async #call(
    action: Action,
    callSid: string,
    request: (call: ReturnType<TwilioClient['calls']>) => Promise<void>,
  ): Promise<void> {
    try {
      if (!CALL_SID.test(callSid)) {
        throw new SwitchboardError(
          'CALL_CONTROL_INVALID',
          'call SID must be "CA" and 32 lower-case hex digits',
          {
            action,
          },
        );
      }
      try {
        await request(this.#client().calls(callSid));
      } catch (err) {
        if (isSwitchboardError(err)) throw err;
        throw restError(action, err, { action, callSid });
      }
    } catch (err) {
      const e = isSwitchboardError(err)
        ? err
        : new SwitchboardError('TWILIO_REST_FAILED', `${action}: client error`, { action });
      throw this.#failed(action, callSid, e);
    }
  }

  /** One log line for a failed request; returns its error, to throw. */
  #failed(action: Action, callSid: string | null, e: SwitchboardError): SwitchboardError {
    this.#logger.error('call control failed', {
      action,
      ...(callSid === null ? {} : { callSid }),
      code: e.code,
      status: e.data.status ?? null,
      twilioCode: e.data.twilioCode ?? null,
      // Twilio's own message can quote the numbers involved.
      ...(twilioMessage(e) === undefined ? {} : { pii: { twilioMessage: twilioMessage(e) } }),
    });
    return e;
  }
}

function checkTwiml(twiml: string): void {
  if (twiml.length > MAX_INLINE_TWIML_CHARS) {
    throw new SwitchboardError('CALL_CONTROL_INVALID', `TwiML over ${MAX_INLINE_TWIML_CHARS} characters`, {
      length: twiml.length,
    });
  }
}
