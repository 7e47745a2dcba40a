/**
 * How a created call goes on, as its callee's script says (`ScriptedOutcome`; a human answers by default):
 * initiated, ringing, then answered, busy, no answer or failed, each step `stepMs` apart. It sends the status
 * callbacks the call asked for, fetches the voice `Url` on answer and keeps the TwiML it got, and posts
 * answering-machine detection results. The TwiML is not interpreted (no media stream is opened), but a voice
 * webhook that fails (no 2xx) hangs up, as Twilio does after an application error. An answered call stays up
 * until it is ended: by the callee (`complete`, or on their own `hangupAfterMs` after the answer) or a REST
 * update.
 */
import { enqueue, waitWhileLive, type CallState } from './call-state.ts';
import type { EventLog } from './events.ts';
import type { Recordings } from './recordings.ts';
import { API_VERSION, rfc2822, seconds } from './resources.ts';
import type { AnsweredBy, FakeCallStatus, ScriptedOutcome } from './types.ts';
import type { WebhookSender } from './webhooks.ts';

export interface CallProgressOptions {
  accountSid: string;
  /** Real delay before each step of placing a call (ms). */
  stepMs: number;
  /** When the callee hangs up an answered call whose script does not say (ms after the answer). */
  hangupAfterMs: number | undefined;
  events: EventLog;
  webhooks: WebhookSender;
  recordings: Recordings;
}

export class CallProgress {
  readonly #accountSid: string;
  readonly #stepMs: number;
  readonly #hangupAfterMs: number | undefined;
  readonly #events: EventLog;
  readonly #webhooks: WebhookSender;
  readonly #recordings: Recordings;

  constructor(options: CallProgressOptions) {
    this.#accountSid = options.accountSid;
    this.#stepMs = options.stepMs;
    this.#hangupAfterMs = options.hangupAfterMs;
    this.#events = options.events;
    this.#webhooks = options.webhooks;
    this.#recordings = options.recordings;
  }

  /** Runs `step` after the call's earlier steps; never rejects. */
  enqueue(call: CallState, step: () => Promise<void>): Promise<void> {
    return enqueue(call, this.#events, step);
  }

  /** Places a new call as scripted; run it on the call's queue. */
  async place(call: CallState, scripted: ScriptedOutcome): Promise<void> {
    const outcome: {
      outcome: Exclude<ScriptedOutcome, object>;
      answeredBy?: AnsweredBy;
      afterMs?: number;
      hangupAfterMs?: number;
    } = typeof scripted === 'string' ? { outcome: scripted } : scripted;
    if (!(await waitWhileLive(call, this.#stepMs))) return;
    call.startedAt = new Date();
    await this.#progress(call, 'initiated', 'initiated');
    if (outcome.outcome === 'busy' || outcome.outcome === 'failed') {
      if (await waitWhileLive(call, this.#stepMs)) void this.end(call, outcome.outcome);
      return;
    }
    if (!(await waitWhileLive(call, this.#stepMs))) return;
    this.#setStatus(call, 'ringing');
    await this.#progress(call, 'ringing', 'ringing');
    if (!(await waitWhileLive(call, this.#stepMs))) return;
    if (outcome.outcome === 'no-answer') {
      void this.end(call, 'no-answer');
      return;
    }
    call.answeredAt = new Date();
    this.#setStatus(call, 'in-progress');
    await this.#progress(call, 'answered', 'in-progress');
    const answeredBy = outcome.outcome === 'human' ? 'human' : (outcome.answeredBy ?? 'machine_end_beep');
    await this.#answer(call, answeredBy, outcome.afterMs ?? this.#stepMs);
    const hangupAfterMs = outcome.hangupAfterMs ?? this.#hangupAfterMs;
    if (hangupAfterMs !== undefined) void this.#hangUpAfter(call, hangupAfterMs);
  }

  /** Ends the call now and sends its final webhooks after those already queued. */
  end(call: CallState, status: FakeCallStatus): Promise<void> {
    call.endedAt = new Date();
    call.stop.abort();
    this.#setStatus(call, status);
    const stopped = this.#recordings.stopRunning(call);
    return this.enqueue(call, async () => {
      await this.#progress(call, 'completed', status);
      for (const recording of stopped) await this.#recordings.complete(call, recording);
    });
  }

  addTwiml(call: CallState, twiml: string): void {
    call.twiml.push(twiml);
    this.#events.emit({ type: 'twiml', callSid: call.sid, twiml });
  }

  /** Requests TwiML from `url`; Twilio hangs up on an application error, and so does the fake. */
  async fetchTwiml(
    call: CallState,
    url: string,
    verb: 'GET' | 'POST',
    extra: Record<string, string> = {},
  ): Promise<boolean> {
    if (call.status !== 'in-progress') return false;
    const params = { ...this.#callParams(call), ...extra };
    const webhook = await this.#webhooks.send(call.sid, 'voice', url, verb, params);
    if (webhook.status !== null && webhook.status >= 200 && webhook.status < 300) {
      this.addTwiml(call, webhook.body);
      return true;
    }
    if (call.status === 'in-progress') void this.end(call, 'completed');
    return false;
  }

  /**
   * The callee answers the `<Gather>` of the call's current TwiML with `digits` ('' for no answer), as Twilio
   * posts its `action` with `Digits`; the answer becomes the call's TwiML. Throws when the call is not gathering.
   */
  async gather(call: CallState, digits: string): Promise<void> {
    const open = /<Gather\b([^>]*)>/.exec(call.twiml.at(-1) ?? '')?.[1];
    const action = open === undefined ? undefined : attribute(open, 'action');
    if (action === undefined) throw new Error(`call ${call.sid} is not gathering with an action`);
    const verb = attribute(open!, 'method')?.toUpperCase() === 'GET' ? 'GET' : 'POST';
    await this.enqueue(call, async () => {
      await this.fetchTwiml(call, action, verb, { Digits: digits });
    });
  }

  /**
   * The callee hangs up `ms` after the answer, or at once if the voice webhook and detection took longer. It
   * waits off the call's queue, so that a redirect meanwhile is not stuck behind it.
   */
  async #hangUpAfter(call: CallState, ms: number): Promise<void> {
    const left = (call.answeredAt?.getTime() ?? Date.now()) + ms - Date.now();
    if ((await waitWhileLive(call, Math.max(0, left))) && call.status === 'in-progress') {
      await this.end(call, 'completed');
    }
  }

  #setStatus(call: CallState, status: FakeCallStatus): void {
    call.status = status;
    call.updatedAt = new Date();
    this.#events.emit({ type: 'status', callSid: call.sid, status });
  }

  /** After the answer: the voice webhook, and answering-machine detection when asked for. */
  async #answer(call: CallState, detected: AnsweredBy, afterMs: number): Promise<void> {
    const answeredBy =
      call.machineDetection === 'Enable' && detected.startsWith('machine_end') ? 'machine_start' : detected;
    const amd = call.machineDetection !== null;
    if (amd && !call.asyncAmd) {
      // Synchronous detection: the voice webhook waits for the result and carries it.
      if (!(await waitWhileLive(call, afterMs))) return;
      call.answeredBy = answeredBy;
      await this.#runVoice(call, { AnsweredBy: answeredBy });
      return;
    }
    if (!(await this.#runVoice(call, {})) || !amd) return;
    if (!(await waitWhileLive(call, afterMs))) return;
    call.answeredBy = answeredBy;
    call.updatedAt = new Date();
    if (call.amdCallback === null) return;
    await this.#webhooks.send(call.sid, 'amd', call.amdCallback, call.amdCallbackMethod, {
      AccountSid: this.#accountSid,
      CallSid: call.sid,
      AnsweredBy: answeredBy,
      MachineDetectionDuration: String(afterMs),
    });
  }

  /** The call's first TwiML: the Twiml it was created with, or the voice Url's answer. False when it ended. */
  async #runVoice(call: CallState, extra: Record<string, string>): Promise<boolean> {
    if (call.inlineTwiml !== null) {
      this.addTwiml(call, call.inlineTwiml);
      return true;
    }
    if (call.url === null) return true;
    return this.fetchTwiml(call, call.url, call.method, extra);
  }

  /** The standard parameters of every voice webhook about this call. */
  #callParams(call: CallState): Record<string, string> {
    return {
      AccountSid: this.#accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: 'outbound-api',
      From: call.from,
      To: call.to,
    };
  }

  /** A status callback for `event` (if the call asked for it), reporting `callStatus`. */
  async #progress(call: CallState, event: string, callStatus: string): Promise<void> {
    if (call.statusCallback === null || !call.events.has(event)) return;
    const params: Record<string, string> = {
      ...this.#callParams(call),
      CallStatus: callStatus,
      SequenceNumber: String(call.sequence++),
      Timestamp: rfc2822(new Date()) ?? '',
      CallbackSource: 'call-progress-events',
    };
    if (event === 'completed') {
      params.CallDuration = String(
        call.answeredAt === null || call.endedAt === null ? 0 : seconds(call.answeredAt, call.endedAt),
      );
    }
    if (call.answeredBy !== null) params.AnsweredBy = call.answeredBy;
    await this.#webhooks.send(call.sid, 'status', call.statusCallback, call.statusCallbackMethod, params);
  }
}

/** An XML attribute's value in a start tag's text, unescaped; undefined when absent. */
export function attribute(tag: string, name: string): string | undefined {
  const raw = new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
  return raw
    ?.replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
