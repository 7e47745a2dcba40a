/**
 * One load call, as Twilio would make it: the voice webhook, then the media websocket its TwiML names, streaming
 * 20 ms frames in real time when the shared frame clock ticks it. The caller speaks on its own schedule (once
 * the agent is quiet), plays the agent's audio in real time and echoes each mark when the audio before it would
 * have played. It measures each turn (its end of speech to the first agent frame of the next prompt) and, inside
 * a prompt (the agent audio between two marks, or up to a clear), the gaps between agent frames.
 */
import WebSocket from 'ws';
import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE } from '../audio/index.ts';
import { InboundEncoder, parseOutbound } from '../telephony/media-streams.ts';
import { signTwilioRequest } from '../telephony/signature.ts';
import { randomSid } from '../simulator/sid.ts';
import { postWebhook, ServerUnreachableError, WebhookHttpError } from '../simulator/webhook.ts';
import type { Utterances } from './caller-audio.ts';
import type { FrameClock } from './frame-clock.ts';
import type { StepRecorder } from './statistics.ts';
import { checkStreamTarget } from './target.ts';

/** How a call's placing ended: streaming, turned away by the server (busy TwiML or HTTP 503), or failed. */
export type PlaceOutcome = 'connected' | 'refused' | 'failed';

/** What every call of a run shares. */
export interface LoadCallContext {
  readonly url: string;
  readonly flow: string | null;
  readonly authToken: string | null;
  readonly allowHosts: readonly string[];
  readonly utterances: Utterances;
  readonly everyMs: number;
  readonly answerWithinMs: number;
  readonly clock: FrameClock;
  /** The step measuring now, or null between holds. */
  recorder(): StepRecorder | null;
}

const SILENCE_PAYLOAD = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE).toString('base64');
/** How our server (and Twilio's examples) begin a media message: such messages skip the full parse. */
const MEDIA_PREFIX = '{"event":"media",';
/** A caller whose agent never speaks first starts talking after this long anyway. */
const FIRST_WORDS_AFTER_MS = 5000;
const OPEN_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 2000;
/** Spreads the callers' first words over the period, so they do not speak in lockstep (golden ratio). */
const SPREAD = 0.618_033_988_75;

export class LoadCall {
  readonly index: number;
  readonly #ctx: LoadCallContext;
  readonly #callSid = randomSid('CA');
  readonly #accountSid = randomSid('AC');
  #ws: WebSocket | null = null;
  #enc: InboundEncoder | null = null;
  #startAt = 0;
  #framesSent = 0;
  #agentFrames = 0;
  // The agent's side: when its audio received so far will have played, and marks waiting for that.
  #playEnd = 0;
  readonly #marks: { name: string; due: number }[] = [];
  #inPrompt = false;
  #lastAgentFrame = 0;
  #heardAgent = false;
  // The caller's side: what it is saying, when it speaks next, and the turn waiting for an answer.
  #speaking: { frames: readonly string[]; sent: number } | null = null;
  #nextSpeakAt = 0;
  #said = 0;
  #turn: { endedAt: number; recorder: StepRecorder | null } | null = null;
  #hungUp = false;
  /** Resolves when the stream has closed, by either side. */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  /** Set when the server closed the stream (the call ended on its side). */
  endedByServer = false;

  constructor(index: number, ctx: LoadCallContext) {
    this.index = index;
    this.#ctx = ctx;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  get streaming(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Media frames this caller has sent, and agent frames it has received. */
  get frames(): { sent: number; received: number } {
    return { sent: this.#framesSent, received: this.#agentFrames };
  }

  /**
   * Places the call: posts the webhook and opens the stream. Throws ServerUnreachableError when nothing answers,
   * TargetRefusedError when the TwiML streams elsewhere, and an Error for a redirect; other failures are the
   * outcome 'failed', with why in `reason`.
   */
  async place(signal: AbortSignal): Promise<{ outcome: PlaceOutcome; reason: string | null }> {
    const c = this.#ctx;
    const query = c.flow ? `?flow=${encodeURIComponent(c.flow)}` : '';
    const params: Record<string, string> = {
      AccountSid: this.#accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.#callSid,
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: `+1500555${String(this.index % 10_000).padStart(4, '0')}`,
      To: '+15005550001',
    };
    let twiml;
    try {
      ({ twiml } = await postWebhook(`${c.url}/twilio/voice${query}`, params, c.authToken, signal, {
        followRedirects: false,
      }));
    } catch (err) {
      if (signal.aborted || this.#hungUp) {
        this.#resolveClosed();
        return { outcome: 'failed', reason: 'hung up before the webhook answered' };
      }
      if (err instanceof WebhookHttpError && err.status >= 300 && err.status < 400)
        throw new Error(
          `the voice webhook answered with a redirect (HTTP ${err.status}), which a load run does not follow: ` +
            'give --url the address it redirects to',
        );
      if (err instanceof WebhookHttpError)
        return { outcome: err.status === 503 ? 'refused' : 'failed', reason: `HTTP ${err.status}` };
      if (err instanceof ServerUnreachableError) throw err;
      // An answer that is not TwiML, say: this call failed, the run goes on.
      return { outcome: 'failed', reason: err instanceof Error ? err.message.slice(0, 120) : String(err) };
    }
    if (!twiml.connect) {
      this.#resolveClosed();
      return { outcome: 'refused', reason: twiml.say.length > 0 ? 'busy message' : 'rejected' };
    }
    checkStreamTarget(twiml.connect.streamUrl, c.url, c.allowHosts);
    return this.#open(twiml.connect.streamUrl, twiml.connect.parameters);
  }

  #open(
    streamUrl: string,
    parameters: Record<string, string>,
  ): Promise<{ outcome: PlaceOutcome; reason: string | null }> {
    if (this.#hungUp) {
      this.#resolveClosed();
      return Promise.resolve({ outcome: 'failed', reason: 'hung up before the stream opened' });
    }
    const headers: Record<string, string> = {};
    if (this.#ctx.authToken)
      headers['x-twilio-signature'] = signTwilioRequest(this.#ctx.authToken, streamUrl, {});
    const ws = new WebSocket(streamUrl, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: OPEN_TIMEOUT_MS,
    });
    this.#ws = ws;
    this.#enc = new InboundEncoder({
      streamSid: randomSid('MZ'),
      callSid: this.#callSid,
      accountSid: this.#accountSid,
    });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: PlaceOutcome, reason: string | null): void => {
        if (!settled) resolve({ outcome, reason });
        settled = true;
      };
      ws.on('open', () => {
        ws.send(this.#enc!.connected());
        this.#startAt = performance.now();
        ws.send(this.#enc!.start(parameters));
        const offset = ((this.index * SPREAD) % 1) * this.#ctx.everyMs;
        this.#nextSpeakAt = this.#startAt + offset;
        this.#ctx.clock.add(this);
        settle('connected', null);
      });
      ws.on('unexpected-response', (_req, res) => {
        settle(res.statusCode === 503 ? 'refused' : 'failed', `stream HTTP ${res.statusCode}`);
        ws.terminate();
      });
      ws.on('message', (data: Buffer) => this.#onMessage(data));
      ws.on('error', (err) => settle('failed', err.message));
      ws.on('close', () => {
        this.#ctx.clock.remove(this);
        if (!this.#hungUp && settled) this.endedByServer = true;
        settle('failed', 'stream closed before it opened');
        this.#resolveClosed();
      });
    });
  }

  /** Ends the call as a caller hanging up; resolves once the stream has closed (or was cut after a grace). */
  async hangUp(): Promise<void> {
    const ws = this.#ws;
    if (this.#hungUp) return ws ? this.closed : undefined;
    this.#hungUp = true;
    // Still posting the webhook: place() sees #hungUp (or the run's abort) and ends there.
    if (!ws) return;
    this.#ctx.clock.remove(this);
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(this.#enc!.stop());
      ws.close(1000, 'caller hung up');
    } else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    await this.closed;
    clearTimeout(grace);
  }

  /** Sends the frames due by `now`, echoes marks whose audio has played, and speaks when its time has come. */
  tick(now: number): void {
    const ws = this.#ws!;
    const enc = this.#enc!;
    const due = Math.floor((now - this.#startAt) / FRAME_MS);
    while (this.#framesSent < due) {
      ws.send(enc.media(this.#nextPayload(now), this.#framesSent * FRAME_MS));
      this.#framesSent += 1;
    }
    while (this.#marks.length > 0 && this.#marks[0]!.due <= now) ws.send(enc.mark(this.#marks.shift()!.name));
    if (this.#turn && now - this.#turn.endedAt > this.#ctx.answerWithinMs) {
      this.#turn.recorder?.turn(null);
      this.#turn = null;
    }
    this.#maybeSpeak(now);
  }

  #nextPayload(now: number): string {
    const s = this.#speaking;
    if (s === null) return SILENCE_PAYLOAD;
    const payload = s.frames[s.sent++]!;
    if (s.sent >= s.frames.length) {
      this.#speaking = null;
      // The last frame is sent once its 20 ms have been spoken: the end of speech.
      this.#turn = { endedAt: now, recorder: this.#ctx.recorder() };
    }
    return payload;
  }

  #maybeSpeak(now: number): void {
    const utterances = this.#ctx.utterances;
    if (utterances.length === 0 || this.#speaking !== null || now < this.#nextSpeakAt) return;
    // Like a person: not over the agent, and not before its greeting unless it stays silent.
    const agentQuiet = this.#marks.length === 0 && this.#playEnd <= now;
    const greeted = this.#heardAgent || now - this.#startAt >= FIRST_WORDS_AFTER_MS;
    if (!agentQuiet || !greeted || this.#turn !== null) return;
    this.#speaking = { frames: utterances[this.#said % utterances.length]!, sent: 0 };
    this.#said += 1;
    while (this.#nextSpeakAt <= now) this.#nextSpeakAt += this.#ctx.everyMs;
  }

  #onMessage(data: Buffer): void {
    const now = performance.now();
    if (data.length > MEDIA_PREFIX.length && data.toString('latin1', 0, MEDIA_PREFIX.length) === MEDIA_PREFIX)
      return this.#onAgentFrame(now);
    let msg;
    try {
      msg = parseOutbound(data);
    } catch {
      return; // Not ours to judge: the server's own tests check its messages.
    }
    if (msg.event === 'media') this.#onAgentFrame(now);
    else if (msg.event === 'mark') {
      this.#marks.push({ name: msg.mark.name, due: this.#playEnd });
      this.#inPrompt = false;
    } else {
      // clear: queued audio is dropped and every pending mark echoed at once, as Twilio does.
      this.#playEnd = now;
      for (const m of this.#marks) m.due = now;
      this.#inPrompt = false;
    }
  }

  #onAgentFrame(now: number): void {
    this.#agentFrames += 1;
    const recorder = this.#ctx.recorder();
    if (this.#inPrompt) recorder?.frameGap(now - this.#lastAgentFrame, Math.max(0, now - this.#playEnd));
    else if (this.#turn !== null) {
      // The first frame of a prompt after the caller's end of speech answers the turn.
      const latency = now - this.#turn.endedAt;
      this.#turn.recorder?.turn(latency <= this.#ctx.answerWithinMs ? latency : null);
      this.#turn = null;
    }
    this.#inPrompt = true;
    this.#heardAgent = true;
    this.#lastAgentFrame = now;
    this.#playEnd = Math.max(this.#playEnd, now) + FRAME_MS;
  }
}
