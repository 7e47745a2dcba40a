/**
 * The agent's audio on a media stream: prompts are paced out in real time (audio/pacer.ts), each followed by its
 * mark; the marks Twilio echoes say what the caller has heard, and what of a cut prompt was heard (played-text.ts).
 * It also measures the agent's first audio of the stream and of each reply to a heard turn.
 */
import { FRAME_MS } from '../../audio/frames.ts';
import { Pacer, type PacerClock } from '../../audio/pacer.ts';
import type { Clock } from '../../clock.ts';
import { OutboundEncoder } from '../../telephony/media-streams.ts';
import { PlayedText } from '../played-text.ts';
import type { TurnTiming } from './hearing.ts';
import { FRAME_OUT, type SessionEvents } from './session-events.ts';

/** The part of a websocket a session uses; `ws`'s WebSocket fits, and so does a test double. */
export interface StreamSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

/** Past this much unsent data the peer is not reading; the call is ended rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 1 << 20;

export interface OutboundOptions {
  socket: StreamSocket;
  streamSid: string;
  pacerClock: PacerClock;
  /** Times a reply's latency, with the same monotonic time as the turn's. */
  clock: Clock;
  events: SessionEvents;
  /** Whether the stream is live: nothing is sent once it is not. */
  live: () => boolean;
  /** Wall-clock ms since the stream started, for its first audio. */
  sinceStart: () => number;
  /** The caller heard the prompt that ended with `mark`. */
  heard: (mark: string) => void;
  /** The peer does not read what is sent: the call should end. */
  stuck: (bufferedAmount: number) => void;
  /** Queuing failed (AUDIO_QUEUE_FULL): the call should end. */
  fail: (err: unknown) => void;
}

/** What a clear cut: the marks in flight, and whether any audio was. */
export interface Cleared {
  marksInterrupted: string[];
}

export class OutboundAudio {
  readonly #opts: OutboundOptions;
  readonly #encoder: OutboundEncoder;
  readonly #pacer: Pacer;
  /** Marks sent to Twilio and not yet echoed. */
  readonly #inFlight = new Set<string>();
  /** Marks whose audio was cleared: Twilio echoes them, but the caller did not hear them out. */
  readonly #cleared = new Set<string>();
  /** The sentences queued and not yet heard to their mark: what a cut prompt had said so far. */
  readonly #playedText = new PlayedText();
  /** Audio has been sent that no mark follows yet (a prompt's first sentences): Twilio may still be playing it. */
  #unmarkedAudio = false;
  #framesOut = 0;
  #firstSent = false;
  /** The last heard turn, until the agent's first audio after it: the turn's latency is measured then. */
  #reply: TurnTiming | null = null;
  #idleWaiters: (() => void)[] = [];

  constructor(opts: OutboundOptions) {
    this.#opts = opts;
    this.#encoder = new OutboundEncoder(opts.streamSid);
    this.#pacer = new Pacer({
      sendMedia: (payload) => this.#sendMedia(payload),
      sendMark: (name) => this.#sendMark(name),
    });
    opts.pacerClock.add(this.#pacer);
  }

  get framesOut(): number {
    return this.#framesOut;
  }

  /** Audio sent that Twilio may still be playing: queued, unmarked, or before a mark not yet echoed. */
  get speaking(): boolean {
    return !this.#pacer.idle || this.#unmarkedAudio || this.#inFlight.size > 0;
  }

  /** Queue `frames` followed by `mark` (none: the audio goes on in the next play); `text` is what they say. */
  play(frames: readonly string[], mark: string | null, text?: string): void {
    if (!this.#opts.live()) return;
    try {
      const start = this.#pacer.sentFrames + this.#pacer.queuedMs / FRAME_MS;
      this.#pacer.enqueue(frames, mark);
      if (text !== undefined) this.#playedText.queued(text, start, frames.length, mark);
      // Start playing now rather than at the next clock tick: up to 20 ms less silence before the agent speaks.
      this.#opts.pacerClock.pump(this.#pacer);
    } catch (err) {
      this.#opts.fail(err);
    }
  }

  /** The next audio sent answers the turn timed by `timing`. */
  replyTo(timing: TurnTiming): void {
    this.#reply = timing;
  }

  /** Twilio echoed `name`: the caller heard its prompt out, unless it was cleared. */
  markEchoed(name: string): void {
    const { events } = this.#opts;
    if (this.#inFlight.delete(name)) {
      this.#playedText.played(name);
      events.emit({ type: 'prompt.echo', mark: name, outcome: 'heard' });
      this.#opts.heard(name);
    } else if (this.#cleared.delete(name)) {
      events.emit({ type: 'prompt.echo', mark: name, outcome: 'cleared' });
    } else {
      events.emit({ type: 'prompt.echo', mark: name, outcome: 'unknown' });
    }
    this.#checkIdle();
  }

  /** Drop the audio queued and in flight at Twilio; returns what was cut, or null when nothing was playing. */
  clear(): Cleared | null {
    const pacer = this.#pacer;
    const heard = this.#playedText.cut(pacer.playedFrames(this.#opts.pacerClock.now()));
    const queued = !pacer.idle;
    const marksInterrupted = [...this.#inFlight];
    const dropped = pacer.clear();
    // The prompt cut: the first whose mark had not come back (sent or still queued).
    const cutMark = marksInterrupted[0] ?? dropped[0] ?? null;
    let cleared: Cleared | null = null;
    if (queued || this.#unmarkedAudio || this.#inFlight.size > 0) {
      this.#unmarkedAudio = false;
      this.#opts.socket.send(this.#encoder.clear());
      for (const mark of this.#inFlight) this.#cleared.add(mark);
      this.#inFlight.clear();
      const events = this.#opts.events;
      events.emit({
        type: 'audio.cleared',
        marksInterrupted: this.#cleared.size,
        marksDropped: dropped.length,
      });
      if (heard) {
        const { text, playedMs, promptMs } = heard;
        events.emit({ type: 'prompt.cut', mark: cutMark, heard: text, playedMs, promptMs });
      }
      cleared = { marksInterrupted };
    }
    this.#checkIdle();
    return cleared;
  }

  /** Resolves when every queued prompt has been heard (its mark echoed) or dropped, or the stream is over. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The stream is over: stop pacing, drop what is queued, and let every idle waiter go. */
  stop(): void {
    this.#opts.pacerClock.remove(this.#pacer);
    this.#pacer.clear();
    this.#release();
  }

  #sendMedia(payload: string): void {
    if (!this.#opts.live()) return;
    const socket = this.#opts.socket;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#opts.stuck(socket.bufferedAmount);
      return;
    }
    socket.send(this.#encoder.media(payload));
    this.#unmarkedAudio = true;
    this.#framesOut += 1;
    const events = this.#opts.events;
    events.emit(FRAME_OUT);
    if (this.#reply) this.#replied(this.#reply);
    if (!this.#firstSent) {
      this.#firstSent = true;
      events.emit({ type: 'audio.first', msSinceStart: this.#opts.sinceStart() });
    }
  }

  #sendMark(name: string): void {
    if (!this.#opts.live()) return;
    this.#opts.socket.send(this.#encoder.mark(name));
    this.#unmarkedAudio = false;
    this.#inFlight.add(name);
  }

  /** Caller stops speaking -> end of turn decided -> transcript -> decision -> first agent audio, in ms. */
  #replied(t: TurnTiming): void {
    this.#reply = null;
    const sent = this.#opts.clock.monotonic();
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    this.#opts.events.emit({
      type: 'turn.latency',
      silenceMs: t.silenceMs,
      transcriptMs: round(t.transcribedAt - t.endDecidedAt),
      decisionMs: round(t.decidedAt - t.transcribedAt),
      firstAudioMs: round(sent - t.decidedAt),
      endOfTurnMs: round(sent - t.endDecidedAt),
      speechEndToAudioMs: round(sent - t.endDecidedAt + t.silenceMs),
    });
  }

  #isIdle(): boolean {
    return !this.#opts.live() || (this.#pacer.idle && this.#inFlight.size === 0);
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length > 0 && this.#isIdle()) this.#release();
  }

  #release(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
