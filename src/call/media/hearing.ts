/**
 * Hearing the caller on a media stream: inbound payloads are decoded into 20 ms frames for the call's listener
 * (listener.ts: VAD, end of turn, recognition), gaps in their timestamps (lost packets) are filled with silence,
 * and each recognized turn is understood (understanding.ts) into the utterance the conversation takes.
 */
import { FRAME_MS } from '../../audio/frames.ts';
import { MULAW_SILENCE } from '../../audio/mulaw.ts';
import type { Clock } from '../../clock.ts';
import type { FlowFile } from '../../flow/index.ts';
import type { IntentClassifier } from '../../nlu/intent-classifier.ts';
import type { Logger } from '../../observability/logger.ts';
import type { ListenContext } from '../../speech/stt/engine.ts';
import { MAX_MESSAGE_BYTES, decodePayloadInto } from '../../telephony/media-streams.ts';
import { FRAME_SAMPLES } from '../../audio/frames.ts';
import type { VadOpener } from '../../speech/vad/opener.ts';
import { CallListener, type HeardTurn } from '../listener.ts';
import type { SpeechFailover } from '../speech-failover.ts';
import { localDate, Understanding, type Utterance } from '../understanding.ts';
import type { SessionEvents } from './session-events.ts';
import { MAX_GAP_FILL_MS } from './stream-protocol.ts';

const SAMPLES_PER_MS = FRAME_SAMPLES / FRAME_MS;
/** The most silence one timestamp gap is filled with: a bogus jump must not make a call loop or lag behind. */
const MAX_GAP_FILL_FRAMES = MAX_GAP_FILL_MS / FRAME_MS;
/** One frame of mu-law silence, shared by every call: the listener only reads it. */
const SILENCE_FRAME = new Uint8Array(FRAME_SAMPLES).fill(MULAW_SILENCE);

/** When the steps of a heard turn happened (clock.monotonic), and the silence window that ended it. */
export interface TurnTiming {
  endDecidedAt: number;
  transcribedAt: number;
  decidedAt: number;
  silenceMs: number;
}

export interface HearingOptions {
  flow: FlowFile;
  model: IntentClassifier | null;
  /** A candidate understanding each turn beside `model`, compared with it off the turn's path. */
  shadow: { model: IntentClassifier; version: string } | null;
  openVad: VadOpener;
  speech: SpeechFailover;
  events: SessionEvents;
  logger: Logger;
  clock: Clock;
  /** Wall-clock ms for the `at` of utterances. */
  now: () => number;
  /**
   * What the call listens for right now, and the silence that ends a turn in it; null when it takes no speech
   * (speech starts are still reported then).
   */
  listening: () => { context: ListenContext; silenceMs: number } | null;
  /** The flow state an utterance is understood in; null once the call has no conversation to take it. */
  state: () => string | null;
  /** The silence window of the state a turn was heard in, for its latency. */
  silenceMs: () => number;
  onSpeechStart: () => void;
  /** A turn understood, to be delivered to the conversation. */
  onUtterance: (utterance: Utterance, timing: TurnTiming) => void;
}

export class CallHearing {
  readonly #opts: HearingOptions;
  readonly #listener: CallListener;
  readonly #understanding: Understanding;
  /** Inbound audio decoded here, one message at a time. */
  readonly #inbound = Buffer.alloc(Math.ceil((MAX_MESSAGE_BYTES * 3) / 4));
  /** Where the next inbound frame should start (ms of the stream), once audio has been heard; -1 before. */
  #nextTimestamp = -1;
  #gapFrames = 0;
  #closed = false;

  constructor(opts: HearingOptions) {
    this.#opts = opts;
    const { shadow, events } = opts;
    this.#understanding = new Understanding(opts.flow, {
      model: opts.model,
      shadow: shadow && {
        ...shadow,
        report: (verdict) => {
          if (!this.#closed) events.emit({ type: 'nlu.shadow', verdict });
        },
      },
      logger: opts.logger,
    });
    this.#listener = new CallListener({
      stt: opts.speech.stt,
      openVad: opts.openVad,
      logger: opts.logger,
      clock: opts.clock,
      context: () => {
        const listening = opts.listening();
        if (!listening) return null;
        this.#listener.setSilenceMs(listening.silenceMs);
        return listening.context;
      },
      onSpeechStart: () => opts.onSpeechStart(),
      onTurn: (turn) => void this.#heard(turn),
      onInterim: (text) => opts.events.emit({ type: 'turn.hearing', text }),
    });
  }

  /** Silent frames given to the listener for gaps in the inbound timestamps. */
  get gapFrames(): number {
    return this.#gapFrames;
  }

  /** One inbound media payload at `timestamp` (ms of the stream), in order. */
  hear(payload: string, timestamp: number): void {
    const listener = this.#listener;
    const buffer = this.#inbound;
    const length = decodePayloadInto(payload, buffer);
    // Lost packets leave a gap in the timestamps. The listener counts time in frames (VAD, end-of-turn
    // silence), so the gap is filled with silence to keep its clock with the call's; jitter under a frame is not.
    const missing = this.#nextTimestamp < 0 ? 0 : timestamp - this.#nextTimestamp;
    if (missing >= FRAME_MS) {
      const fill = Math.min(Math.round(missing / FRAME_MS), MAX_GAP_FILL_FRAMES);
      for (let i = 0; i < fill; i++) listener.pushMulaw(SILENCE_FRAME);
      this.#gapFrames += fill;
    }
    this.#nextTimestamp = timestamp + length / SAMPLES_PER_MS;
    for (let at = 0; at < length; at += FRAME_SAMPLES)
      listener.pushMulaw(buffer.subarray(at, Math.min(at + FRAME_SAMPLES, length)));
  }

  /** Stop hearing: turns under way are dropped. Only when the call leaves its flow. */
  close(): void {
    this.#closed = true;
    this.#listener.close();
  }

  async #heard(turn: HeardTurn): Promise<void> {
    const { speech, events } = this.#opts;
    const state = this.#opts.state();
    if (this.#closed || state === null) return;
    if (turn.error === undefined) speech.recognized();
    // A switch of engines asks the question again: the failed turn is not a no-match as well.
    else if (speech.recognitionFailed(turn.error)) return;
    const at = this.#opts.now();
    const utterance = await this.#understanding.interpret(turn.text, state, at, localDate(at));
    if (this.#closed || this.#opts.state() === null) return;
    events.emit({
      type: 'turn.heard',
      text: turn.text,
      intent: utterance.intent,
      confidence: Math.round(utterance.confidence * 1000) / 1000,
      sttConfidence: turn.confidence,
      entities: utterance.entities,
    });
    this.#opts.onUtterance(utterance, {
      endDecidedAt: turn.endDecidedAt,
      transcribedAt: turn.transcribedAt,
      decidedAt: this.#opts.clock.monotonic(),
      silenceMs: this.#opts.silenceMs(),
    });
  }
}
