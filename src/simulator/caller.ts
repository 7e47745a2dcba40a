/**
 * A simulated caller that behaves like Twilio: it posts the incoming-call webhook (signed when a token is given),
 * opens the stream from the TwiML, sends connected/start/media in real time, presses keys when the agent has
 * finished speaking, "plays" the agent's audio in real time and echoes each mark when the audio before it has
 * played, honours `clear`, and follows the `<Connect action>` when the stream ends. It is how people try a flow
 * without a phone, and what the integration tests and benchmarks drive.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE } from '../audio/index.ts';
import { InboundEncoder, parseOutbound } from '../telephony/media-streams.ts';
import { signTwilioRequest } from '../telephony/signature.ts';
import { REFUSAL_HEADER } from '../telephony/twiml.ts';
import { readTwiml, type TwimlInstructions } from './twiml-reader.ts';

export type CallerInput =
  | { kind: 'dtmf'; keys: string }
  /** The caller says `text`: `audio` (8 kHz mu-law, e.g. synthesized) is streamed in real time. */
  | { kind: 'speech'; text: string; audio: Uint8Array };

export type TimelineEvent =
  /**
   * A stretch of agent audio, up to `mark` ('' when it was cleared before its mark was sent); `audio` is the
   * part the caller heard (8 kHz mu-law).
   */
  | { t: number; kind: 'agent'; mark: string; durationMs: number; interrupted: boolean; audio: Uint8Array }
  | { t: number; kind: 'dtmf'; keys: string }
  | { t: number; kind: 'speech'; text: string; durationMs: number; bargeIn: boolean }
  | { t: number; kind: 'stream'; event: 'open' | 'closed'; code?: number }
  | { t: number; kind: 'hangup'; by: 'agent' | 'caller' }
  /** The agent stopped its audio (Twilio's `clear`), as after the caller talked over it. */
  | { t: number; kind: 'clear' }
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

/** The server could not be reached at `url`: nothing listens there, its name does not resolve, no answer. */
export class ServerUnreachableError extends Error {
  readonly url: string;
  /** The system's reason, such as ECONNREFUSED; null when there is none (a timeout, say). */
  readonly code: string | null;

  constructor(url: string, code: string | null, why: string, options?: ErrorOptions) {
    super(`cannot reach the server at ${url}: ${why}`, options);
    this.name = 'ServerUnreachableError';
    this.url = url;
    this.code = code;
  }
}

/** Place one simulated call; resolves when the call is over. */
export async function placeCall(options: SimulatedCallOptions): Promise<SimulatedCallResult> {
  const call = new SimulatedCall(options);
  return call.run();
}

/** Streams one call follows through `<Connect action>`: each crash or hand-back of its server costs one. */
const MAX_STREAMS = 50;
/** Twilio gives up on a webhook after 15 s; so does the simulated caller. */
const WEBHOOK_TIMEOUT_MS = 15_000;

const randomSid = (prefix: string): string => prefix + randomBytes(16).toString('hex');
const SILENCE_PAYLOAD = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE).toString('base64');

/** Why a webhook could not be posted, by the system's code. */
const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/** What fetch's failure says about why the server could not be reached (its cause carries the system code). */
function unreachable(url: string, err: unknown): ServerUnreachableError {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  const why = code
    ? `${NETWORK_FAILURES[code] ?? 'network error'} (${code})`
    : typeof cause?.message === 'string'
      ? cause.message
      : String(err);
  return new ServerUnreachableError(url, code, why, { cause: err });
}

class SimulatedCall {
  readonly #o: Required<
    Omit<SimulatedCallOptions, 'onEvent' | 'signal' | 'authToken' | 'flow' | 'answerFor'>
  > &
    Pick<SimulatedCallOptions, 'onEvent' | 'signal' | 'authToken' | 'flow' | 'answerFor'>;
  readonly #callSid = randomSid('CA');
  readonly #accountSid = randomSid('AC');
  readonly #timeline: TimelineEvent[] = [];
  readonly #marks: string[] = [];
  /** Agent frames with the time (ms since call start) they start playing. */
  readonly #heard: { at: number; frame: Buffer }[] = [];
  #t0 = 0;
  #firstMediaMs: number | null = null;
  readonly #replyMs: number[] = [];
  /** When the last caller input ended, until the agent's next audio. */
  #inputEndedAt: number | null = null;
  #endedBy: 'agent' | 'caller' = 'agent';
  #closeCode: number | null = null;
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
      const keepGoing = await this.#stream(twiml.connect.streamUrl, twiml.connect.parameters);
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
      heard: this.#assembleHeard(),
      marks: this.#marks,
      firstMediaMs: this.#firstMediaMs,
      replyMs: this.#replyMs,
      endedBy: this.#endedBy,
      closeCode: this.#closeCode,
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
    const mark = this.#marks.at(-1) ?? '';
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

  /** Posts a webhook as Twilio does; the TwiML answered, and the server's refusal header if it sent one. */
  async #post(
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
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.#o.authToken) headers['x-twilio-signature'] = signTwilioRequest(this.#o.authToken, url, params);
    const timeout = AbortSignal.timeout(WEBHOOK_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: new URLSearchParams(params).toString(),
        signal: this.#o.signal ? AbortSignal.any([this.#o.signal, timeout]) : timeout,
      });
    } catch (err) {
      if (this.#o.signal?.aborted) throw err;
      if (timeout.aborted)
        throw new ServerUnreachableError(url, null, `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`);
      throw unreachable(url, err);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    return { twiml: readTwiml(text), refusal: res.headers.get(REFUSAL_HEADER) };
  }

  /** One media stream; resolves true when the server closed it (so Twilio would follow the action URL). */
  #stream(streamUrl: string, parameters: Record<string, string>): Promise<boolean> {
    const headers: Record<string, string> = {};
    if (this.#o.authToken)
      headers['x-twilio-signature'] = signTwilioRequest(this.#o.authToken, streamUrl, {});
    const ws = new WebSocket(streamUrl, { headers, perMessageDeflate: false });
    const enc = new InboundEncoder({
      streamSid: randomSid('MZ'),
      callSid: this.#callSid,
      accountSid: this.#accountSid,
    });
    const o = this.#o;

    return new Promise<boolean>((resolve, reject) => {
      let startAt = 0;
      let framesSent = 0;
      let playEnd = 0; // ms (call clock) when the audio received so far will have played
      /** The agent's current stretch of audio: when it started, its frames, and where they begin in #heard. */
      let segment: { start: number; frames: number; first: number } | null = null;
      const pendingMarks: { name: string; timer: NodeJS.Timeout }[] = [];
      let lastAgentActivity = 0;
      let busyInput = false;
      let heardSinceInput = false;
      let ended = false;
      let hungUp = false;

      const send = (text: string): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
      };
      const agentIdle = (): boolean => pendingMarks.length === 0 && playEnd <= this.#now();

      /** What the caller is saying: its audio and how much of it has been sent. */
      let speaking: { audio: Uint8Array; sent: number } | null = null;
      /** The agent segment last talked over, so each prompt is interrupted once. */
      let bargedInto: number | null = null;

      const nextPayload = (): string => {
        if (speaking === null) return SILENCE_PAYLOAD;
        const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
        frame.set(speaking.audio.subarray(speaking.sent, speaking.sent + FRAME_BYTES));
        speaking.sent += FRAME_BYTES;
        if (speaking.sent >= speaking.audio.length) {
          speaking = null;
          busyInput = false;
          lastAgentActivity = this.#now();
          this.#inputEndedAt = lastAgentActivity;
        }
        return frame.toString('base64');
      };

      const ticker = setInterval(() => {
        if (startAt === 0) return; // not connected yet
        // Real-time audio from the caller's side (silence unless speaking), caught up by elapsed time so there
        // is no drift.
        const due = Math.floor((this.#now() - startAt) / FRAME_MS);
        while (framesSent < due) {
          send(enc.media(nextPayload(), framesSent * FRAME_MS));
          framesSent += 1;
        }
        const next = this.#nextInput();
        if (
          o.bargeInAfterMs !== null &&
          !busyInput &&
          next?.kind === 'speech' &&
          segment !== null &&
          segment.start !== bargedInto &&
          this.#now() - segment.start >= o.bargeInAfterMs
        ) {
          bargedInto = segment.start;
          void act(true);
        }
        if (!busyInput && agentIdle() && this.#now() - lastAgentActivity >= o.thinkMs) {
          // Like a person, answer only once the agent has said something since our last input.
          if (this.#nextInput() !== undefined) {
            if (heardSinceInput) void act();
          } else if (heardSinceInput && this.#now() - lastAgentActivity >= o.idleHangupMs) hangUp();
        }
        if (this.#now() > o.maxDurationMs) hangUp();
      }, FRAME_MS);

      const act = async (bargeIn = false): Promise<void> => {
        const input = this.#takeInput();
        if (!input) return;
        busyInput = true;
        heardSinceInput = false;
        if (input.kind === 'speech') {
          const durationMs = (input.audio.length / FRAME_BYTES) * FRAME_MS;
          this.#emit({ t: this.#now(), kind: 'speech', text: input.text, durationMs, bargeIn });
          speaking = { audio: input.audio, sent: 0 };
          return;
        }
        this.#emit({ t: this.#now(), kind: 'dtmf', keys: input.keys });
        for (const [i, key] of [...input.keys].entries()) {
          send(enc.dtmf(key));
          // The agent may answer the last key before the caller's pause after it is over.
          if (i === input.keys.length - 1) this.#inputEndedAt = this.#now();
          await new Promise((r) => setTimeout(r, o.keyGapMs));
        }
        lastAgentActivity = this.#now();
        busyInput = false;
      };

      const hangUp = (): void => {
        if (hungUp || ended) return;
        hungUp = true;
        this.#endedBy = 'caller';
        this.#emit({ t: this.#now(), kind: 'hangup', by: 'caller' });
        send(enc.stop());
        ws.close(1000, 'caller hung up');
      };

      /** Closes the agent's current stretch of audio in the timeline: what of it played, up to `mark`. */
      const endSegment = (mark: string, interrupted: boolean): void => {
        if (!segment) return;
        const sent = segment.frames * FRAME_MS;
        // Cut short, only the part up to now was heard.
        const now = this.#now();
        const durationMs = interrupted ? Math.min(sent, Math.max(0, now - segment.start)) : sent;
        const frames = this.#heard.slice(segment.first).filter((h) => !interrupted || h.at < now);
        const audio = Buffer.concat(frames.map((h) => h.frame));
        this.#emit({ t: segment.start, kind: 'agent', mark, durationMs, interrupted, audio });
        segment = null;
      };

      const echo = (name: string, interrupted: boolean): void => {
        send(enc.mark(name));
        this.#marks.push(name);
        endSegment(name, interrupted);
        heardSinceInput = true;
        lastAgentActivity = this.#now();
      };

      const onMessage = (data: Buffer): void => {
        const msg = parseOutbound(data);
        const now = this.#now();
        if (msg.event === 'media') {
          if (this.#firstMediaMs === null) this.#firstMediaMs = now - startAt;
          // The first frame of a new stretch answers the input; a prompt still playing over it does not.
          if (this.#inputEndedAt !== null && segment === null) {
            this.#replyMs.push(now - this.#inputEndedAt);
            this.#inputEndedAt = null;
          }
          const frameStart = Math.max(playEnd, now);
          playEnd = frameStart + FRAME_MS;
          segment ??= { start: frameStart, frames: 0, first: this.#heard.length };
          segment.frames += 1;
          this.#heard.push({ at: frameStart, frame: Buffer.from(msg.media.payload, 'base64') });
          lastAgentActivity = now;
        } else if (msg.event === 'mark') {
          const name = msg.mark.name;
          const timer = setTimeout(
            () => {
              pendingMarks.splice(
                pendingMarks.findIndex((m) => m.name === name),
                1,
              );
              echo(name, false);
            },
            Math.max(0, playEnd - now),
          );
          pendingMarks.push({ name, timer });
        } else {
          // clear: drop what has not played and echo every pending mark at once, as Twilio does.
          this.#emit({ t: now, kind: 'clear' });
          playEnd = now;
          for (const { name, timer } of pendingMarks.splice(0)) {
            clearTimeout(timer);
            echo(name, true);
          }
          // Audio whose mark had not been sent yet (a prompt's first sentences) stops here too.
          endSegment('', true);
          this.#heard.splice(0, this.#heard.length, ...this.#heard.filter((h) => h.at < now));
        }
      };

      ws.on('open', () => {
        this.#emit({ t: this.#now(), kind: 'stream', event: 'open' });
        send(enc.connected());
        // The clock starts before the send, so the time to first media includes writing `start` to the socket.
        startAt = this.#now();
        send(enc.start(parameters));
        lastAgentActivity = startAt;
      });
      ws.on('message', (data: Buffer) => {
        try {
          onMessage(data);
        } catch (err) {
          finish(err as Error);
        }
      });
      ws.on('unexpected-response', (_req, res) =>
        finish(new Error(`stream refused: HTTP ${res.statusCode}`)),
      );
      ws.on('error', (err) => finish(err));
      ws.on('close', (code) => {
        this.#closeCode = code;
        // The agent ending the stream is its hang-up, which the timeline shows before the close it caused.
        if (!hungUp) this.#emit({ t: this.#now(), kind: 'hangup', by: 'agent' });
        this.#emit({ t: this.#now(), kind: 'stream', event: 'closed', code });
        finish(null);
      });
      o.signal?.addEventListener('abort', () => hangUp(), { once: true });

      const finish = (err: Error | null): void => {
        if (ended) return;
        ended = true;
        clearInterval(ticker);
        for (const m of pendingMarks) clearTimeout(m.timer);
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
        if (err) reject(err);
        else resolve(!hungUp);
      };
    });
  }

  #assembleHeard(): Uint8Array {
    const last = this.#heard.at(-1);
    if (!last) return new Uint8Array(0);
    const first = this.#heard[0]!.at;
    const bytesPerMs = FRAME_BYTES / FRAME_MS;
    const out = new Uint8Array(Math.ceil((last.at - first) * bytesPerMs) + FRAME_BYTES).fill(MULAW_SILENCE);
    for (const { at, frame } of this.#heard) out.set(frame, Math.round((at - first) * bytesPerMs));
    return out;
  }
}
