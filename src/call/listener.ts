/**
 * Hearing one caller. Every inbound frame goes through voice activity detection; a turn (from speech start to the
 * silence that ends it) is recognized by the speech engine with what the current state expects to hear, and its
 * final transcript is handed on as the caller's words.
 *
 * The VAD decides that speech started only after some speech has passed (a minimum duration, plus Silero's
 * batching delay), so recent frames are kept in a ring: the recognizer hears the turn from its onset, with a
 * little audio before it. Audio time here counts frames (20 ms each), the clock the VAD reports in.
 */
import { FRAME_MS, FRAME_SAMPLES } from '../audio/frames.ts';
import { mulawToPcm } from '../audio/mulaw.ts';
import { TurnDetector, type TurnEvent } from '../audio/turn-detector.ts';
import { systemClock, type Clock } from '../clock.ts';
import { isSwitchboardError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { ListenContext, RecognitionStream, SttEngine, Transcript } from '../speech/stt/engine.ts';
import type { VadOpener, VadStream } from '../speech/vad/opener.ts';

/** Frames kept for the recognizer to start from: 1.5 s covers the VAD's decision delay with room to spare. */
const RING_FRAMES = 75;
/** Audio before the detected onset given to the recognizer, so a soft first consonant is not cut. */
const PREROLL_MS = 200;
/**
 * A VAD stream is started afresh after each turn and after this much audio without one, so its recurrent state
 * never runs long: in a real-time pizza call without restarts, Silero missed "four" spoken 20 s in, and heard it
 * with them. Restarting loses at most one pending chunk, of silence.
 */
const VAD_RESTART_FRAMES = 4000 / FRAME_MS;

export interface HeardTurn {
  /** The final transcript ('' when nothing was recognized). Personal data: log only in a `pii` field. */
  text: string;
  confidence: number | null;
  /** Audio times (ms) of the turn's onset and of the end of its last voiced frame. */
  onsetMs: number;
  endMs: number;
  /** Monotonic clock time (ms) when the end of the turn was decided and when the transcript arrived. */
  endDecidedAt: number;
  transcribedAt: number;
  /** Why the turn could not be recognized (its text is then ''); absent when it was. */
  error?: unknown;
}

export interface ListenerOptions {
  stt: SttEngine;
  openVad: VadOpener;
  /**
   * What the call listens for right now, asked when a turn starts; null when the call is not taking speech
   * (nothing is recognized then, though speech starts are still reported, for barge-in).
   */
  context: () => ListenContext | null;
  /** Speech started (after the minimum duration) at audio time `onsetMs`. */
  onSpeechStart: (onsetMs: number) => void;
  /** A recognized turn. */
  onTurn: (turn: HeardTurn) => void;
  /** An interim transcript of the current turn (the engine may still revise it). Personal data: never logged. */
  onInterim?: (text: string) => void;
  logger: Logger;
  /** Trailing silence that ends a turn, ms; default 700. Change it per state with setSilenceMs. */
  silenceMs?: number;
  /** Where the turn timings (`endDecidedAt`, `transcribedAt`) come from: its monotonic time. Default: the system's. */
  clock?: Clock;
}

export class CallListener {
  readonly #opts: ListenerOptions;
  readonly #now: () => number;
  readonly #turns: TurnDetector;
  #vad: VadStream;
  /** Frame number at which the current VAD stream started: its times count from there. */
  #vadStart = 0;
  #vadDirty = false;
  /** Bumped per VAD stream, so a late probability from a replaced stream is ignored. */
  #vadGeneration = 0;
  /** The last RING_FRAMES frames as PCM, slot = frame number % RING_FRAMES. */
  readonly #ring = new Int16Array(RING_FRAMES * FRAME_SAMPLES);
  /** A view of each slot, made once: a view per frame would be garbage 50 times a second per call. */
  readonly #ringFrames = Array.from({ length: RING_FRAMES }, (_, k) =>
    this.#ring.subarray(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES),
  );
  #frames = 0;
  /** The turn being recorded: its recognition and the next frame number it has not been given. */
  #recording: { stream: RecognitionStream; onsetMs: number; nextFrame: number } | null = null;
  /** Recognitions whose turn has ended, awaiting their final transcript, with the turn's timing. */
  readonly #finishing = new Map<RecognitionStream, { onsetMs: number; endDecidedAt: number }>();
  #closed = false;

  constructor(opts: ListenerOptions) {
    this.#opts = opts;
    const clock = opts.clock ?? systemClock;
    this.#now = () => clock.monotonic();
    this.#turns = new TurnDetector(opts.silenceMs === undefined ? {} : { silenceMs: opts.silenceMs });
    this.#vad = this.#openVad();
  }

  /** One inbound frame of 8 kHz mu-law (160 bytes); a short frame is padded with silence. */
  pushMulaw(frame: Uint8Array): void {
    if (this.#closed) return;
    const pcm = this.#ringFrames[this.#frames % RING_FRAMES]!;
    if (frame.length >= FRAME_SAMPLES) mulawToPcm(frame.subarray(0, FRAME_SAMPLES), pcm);
    else {
      pcm.fill(0);
      mulawToPcm(frame, pcm.subarray(0, frame.length));
    }
    if (
      this.#vadDirty ||
      (this.#frames - this.#vadStart >= VAD_RESTART_FRAMES && this.#turns.phase === 'silence')
    )
      this.#restartVad();
    this.#frames++;
    // The padded frame, as the recognizer gets it: the VAD's clock and the listener's stay 20 ms a frame.
    this.#vad.pushPcm(pcm);
    this.#feed();
  }

  setSilenceMs(ms: number): void {
    this.#turns.setSilenceMs(ms);
  }

  /** Stops listening: turns under way are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#vad.close();
    this.#recording?.stream.close();
    this.#recording = null;
    for (const stream of this.#finishing.keys()) stream.close();
    this.#finishing.clear();
  }

  #openVad(): VadStream {
    const offsetMs = this.#frames * FRAME_MS;
    this.#vadStart = this.#frames;
    this.#vadDirty = false;
    const generation = ++this.#vadGeneration;
    return this.#opts.openVad((p, startMs, durationMs) => {
      if (generation === this.#vadGeneration) this.#probability(p, offsetMs + startMs, durationMs);
    });
  }

  #restartVad(): void {
    const old = this.#vad;
    this.#vad = this.#openVad();
    old.close();
  }

  #probability(probability: number, startMs: number, durationMs: number): void {
    if (this.#closed) return;
    const event = this.#turns.push(probability, startMs, durationMs);
    if (event) this.#turn(event);
  }

  #turn(event: TurnEvent): void {
    if (event.type === 'speech-start') {
      this.#opts.onSpeechStart(event.onsetMs);
      const context = this.#opts.context();
      if (context !== null) this.#begin(context, event.onsetMs);
      return;
    }
    this.#vadDirty = true;
    const recording = this.#recording;
    if (recording === null) return;
    this.#feed();
    this.#recording = null;
    this.#finishing.set(recording.stream, { onsetMs: recording.onsetMs, endDecidedAt: this.#now() });
    recording.stream.endUtterance();
  }

  #begin(context: ListenContext, onsetMs: number): void {
    this.#recording?.stream.close();
    const nextFrame = Math.max(0, Math.floor((onsetMs - PREROLL_MS) / FRAME_MS), this.#frames - RING_FRAMES);
    const stream: RecognitionStream = this.#opts.stt.stream({
      context,
      onTranscript: (t) => {
        if (t.final) this.#final(stream, t);
        else if (this.#recording?.stream === stream || this.#finishing.has(stream))
          this.#opts.onInterim?.(t.text);
      },
      onError: (err) => {
        const recording = this.#recording?.stream === stream;
        if (recording) this.#recording = null;
        const ended = this.#finishing.get(stream);
        this.#finishing.delete(stream);
        if (this.#closed || (!recording && ended === undefined)) return;
        this.#opts.logger.error('speech recognition failed for a turn; it counts as not understood', {
          code: isSwitchboardError(err) ? err.code : 'STT_FAILED',
          err,
        });
        // The caller did speak: an empty turn gets the state's no-match prompt rather than silence.
        const at = this.#now();
        this.#opts.onTurn({
          text: '',
          confidence: null,
          onsetMs,
          endMs: onsetMs,
          endDecidedAt: ended?.endDecidedAt ?? at,
          transcribedAt: at,
          error: err,
        });
      },
    });
    this.#recording = { stream, onsetMs, nextFrame };
    this.#feed();
  }

  /** Gives the turn being recorded every frame it has not had yet. */
  #feed(): void {
    const recording = this.#recording;
    if (recording === null) return;
    for (; recording.nextFrame < this.#frames; recording.nextFrame++) {
      const slot = (recording.nextFrame % RING_FRAMES) * FRAME_SAMPLES;
      recording.stream.write(this.#ring.subarray(slot, slot + FRAME_SAMPLES));
    }
  }

  #final(stream: RecognitionStream, t: Transcript): void {
    const ended = this.#finishing.get(stream);
    if (ended === undefined) return;
    this.#finishing.delete(stream);
    stream.close();
    this.#opts.onTurn({
      text: t.text,
      confidence: t.confidence,
      onsetMs: ended.onsetMs,
      endMs: t.endMs,
      endDecidedAt: ended.endDecidedAt,
      transcribedAt: this.#now(),
    });
  }
}
