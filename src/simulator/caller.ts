/**
 * A simulated caller that behaves like Twilio: it posts the incoming-call webhook (signed when a token is given),
 * opens the stream from the TwiML, sends connected/start/media in real time, presses keys when the agent has
 * finished speaking, "plays" the agent's audio in real time and echoes each mark when the audio before it has
 * played, honours `clear`, and follows the `<Connect action>` when the stream ends. It is how people try a flow
 * without a phone, and what the integration tests and benchmarks drive.
 *
 * Parts: media-stream-driver.ts (the websocket side of each stream), webhook.ts (posting webhooks),
 * call-record.ts (what the call collects for its result). This file follows the TwiML and assembles the result.
 */
import { CallRecord } from './call-record.ts';
import { driveStream, type CallerInput, type StreamCall, type StreamEvent } from './media-stream-driver.ts';
import { randomSid } from './sid.ts';
import type { TwimlInstructions } from './twiml-reader.ts';
import { postWebhook } from './webhook.ts';

export type { CallerInput, StreamEvent } from './media-stream-driver.ts';
export { ServerUnreachableError } from './webhook.ts';

/** An entry of the call's timeline: what the stream saw, the prompts read out, and the hang-up. */
export type TimelineEvent =
  | StreamEvent
  | { t: number; kind: 'hangup'; by: 'agent' | 'caller' }
  | { t: number; kind: 'say'; text: string };

export interface SimulatedCallOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  flow?: string;
  inputs?: CallerInput[];
  /**
   * Answer what was asked rather than in a fixed order: called with the state of the last prompt heard (the part
   * of its mark before the dot), it gives the input for it, or undefined to wait. It replaces `inputs`. A caller
   * whose call was cut off and taken up again answers the question asked again, as a person would.
   */
  answerFor?: (state: string) => CallerInput | undefined;
  /** Sign requests like Twilio does; the server checks them when it has the same token. */
  authToken?: string | null;
  from?: string;
  to?: string;
  /** Pause after the agent stops talking before the caller acts. */
  thinkMs?: number;
  /** Gap between key presses of one input. */
  keyGapMs?: number;
  /**
   * Talk over the agent: each speech input starts once the agent's audio has been playing this long, instead of
   * after the agent stops talking.
   */
  bargeInAfterMs?: number | null;
  /** Once inputs are used up, hang up after the agent has been silent this long. */
  idleHangupMs?: number;
  /** Hard limit on the whole call. */
  maxDurationMs?: number;
  /** Called as the call goes, for live printing. */
  onEvent?: (event: TimelineEvent) => void;
  /** Aborting it hangs up the call, as the caller putting the phone down. */
  signal?: AbortSignal;
}

export interface SimulatedCallResult {
  callSid: string;
  timeline: TimelineEvent[];
  /** What the caller heard: the agent's audio (8 kHz mu-law) placed at the time it played, silence between. */
  heard: Uint8Array;
  /** Marks echoed, in order. */
  marks: string[];
  /** From sending `start` to the first agent audio frame, in ms. */
  firstMediaMs: number | null;
  /**
   * For each caller input the agent answered: ms from the end of the input (last frame of speech sent, last
   * key pressed) to the agent's next audio frame. It includes the agent's end-of-turn silence window.
   */
  replyMs: number[];
  /** Who ended the call. */
  endedBy: 'agent' | 'caller';
  /** The websocket close code of the last stream. */
  closeCode: number | null;
  /** TwiML answered by the `<Connect action>` URL, when requested. */
  actionTwiml: TwimlInstructions | null;
  /** Why the `<Connect action>` request failed, when it did (e.g. the server had shut down). */
  actionError: string | null;
  /**
   * When the server answered the call without connecting a stream (an unknown flow, say): its reason, as given
   * in its refusal header, else what its TwiML said. Null when the call was connected.
   */
  refused: string | null;
}

/** Place one simulated call; resolves when the call is over. */
export async function placeCall(options: SimulatedCallOptions): Promise<SimulatedCallResult> {
  const call = new SimulatedCall(options);
  return call.run();
}

/** Streams one call follows through `<Connect action>`: each crash or hand-back of its server costs one. */
const MAX_STREAMS = 50;

class SimulatedCall {
  readonly #o: Required<
    Omit<SimulatedCallOptions, 'onEvent' | 'signal' | 'authToken' | 'flow' | 'answerFor'>
  > &
    Pick<SimulatedCallOptions, 'onEvent' | 'signal' | 'authToken' | 'flow' | 'answerFor'>;
  readonly #callSid = randomSid('CA');
  readonly #accountSid = randomSid('AC');
  readonly #timeline: TimelineEvent[] = [];
  readonly #record = new CallRecord();
  #t0 = 0;
  #endedBy: 'agent' | 'caller' = 'agent';
  #actionTwiml: TwimlInstructions | null = null;
  #actionError: string | null = null;
  #inputs: CallerInput[];

  constructor(options: SimulatedCallOptions) {
    this.#o = {
      from: '+15005550006',
      to: '+15005550001',
      inputs: [],
      thinkMs: 400,
      keyGapMs: 120,
      bargeInAfterMs: null,
      idleHangupMs: 3000,
      maxDurationMs: 120_000,
      ...options,
    };
    this.#inputs = [...this.#o.inputs];
  }

  async run(): Promise<SimulatedCallResult> {
    this.#t0 = performance.now();
    const base = this.#o.url.replace(/\/+$/, '');
    const query = this.#o.flow ? `?flow=${encodeURIComponent(this.#o.flow)}` : '';
    const answer = await this.#post(`${base}/twilio/voice${query}`, { CallStatus: 'ringing' });
    let twiml = answer.twiml;
    const refused = twiml.connect ? null : (answer.refusal ?? (twiml.say.join(' ') || 'no reason given'));
    // Follow TwiML like Twilio: stream while told to connect, then ask the action URL what next.
    // Bounded only so a server that hands the call back forever cannot keep the caller forever.
    for (let streams = 0; streams < MAX_STREAMS; streams++) {
      for (const text of twiml.say) this.#emit({ t: this.#now(), kind: 'say', text });
      if (!twiml.connect) break;
      const keepGoing = await driveStream(
        this.#streamCall(),
        twiml.connect.streamUrl,
        twiml.connect.parameters,
      );
      if (!keepGoing || !twiml.connect.action) break;
      try {
        twiml = (await this.#post(twiml.connect.action, { CallStatus: 'in-progress' })).twiml;
      } catch (err) {
        // Twilio would end the call when the action URL fails; so does the simulated caller.
        this.#actionError = err instanceof Error ? err.message : String(err);
        break;
      }
      this.#actionTwiml = twiml;
    }
    return {
      callSid: this.#callSid,
      timeline: this.#timeline,
      heard: this.#record.assembleHeard(),
      marks: this.#record.marks,
      firstMediaMs: this.#record.firstMediaMs,
      replyMs: this.#record.replyMs,
      endedBy: this.#endedBy,
      closeCode: this.#record.closeCode,
      actionTwiml: this.#actionTwiml,
      actionError: this.#actionError,
      refused,
    };
  }

  #now(): number {
    return performance.now() - this.#t0;
  }

  /** The state whose prompt was heard last. */
  #askedState(): string {
    const mark = this.#record.marks.at(-1) ?? '';
    return mark.slice(0, Math.max(0, mark.lastIndexOf('.')));
  }

  #nextInput(): CallerInput | undefined {
    return this.#o.answerFor ? this.#o.answerFor(this.#askedState()) : this.#inputs[0];
  }

  #takeInput(): CallerInput | undefined {
    return this.#o.answerFor ? this.#o.answerFor(this.#askedState()) : this.#inputs.shift();
  }

  #emit(event: TimelineEvent): void {
    this.#timeline.push(event);
    this.#o.onEvent?.(event);
  }

  /** Posts a webhook as Twilio does, with this call's parameters. */
  #post(
    url: string,
    extra: Record<string, string>,
  ): Promise<{ twiml: TwimlInstructions; refusal: string | null }> {
    const params: Record<string, string> = {
      AccountSid: this.#accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.#callSid,
      Direction: 'inbound',
      From: this.#o.from,
      To: this.#o.to,
      ...extra,
    };
    return postWebhook(url, params, this.#o.authToken, this.#o.signal);
  }

  /** This call as its media streams see it; the hang-up entry is written here, with the call's other entries. */
  #streamCall(): StreamCall {
    return {
      callSid: this.#callSid,
      accountSid: this.#accountSid,
      options: this.#o,
      record: this.#record,
      now: () => this.#now(),
      emit: (event) => this.#emit(event),
      hangup: (by) => {
        if (by === 'caller') this.#endedBy = 'caller';
        this.#emit({ t: this.#now(), kind: 'hangup', by });
      },
      nextInput: () => this.#nextInput(),
      takeInput: () => this.#takeInput(),
    };
  }
}
