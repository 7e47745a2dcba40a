/**
 * One typed event stream per call: the session's parts say what happened, and the log, the Prometheus metrics and
 * the live view each subscribe and turn the events into log lines, metric updates and view events. No part calls
 * a logger, a metric or the view for those. Events may carry personal data (transcripts, keys, prompts): a
 * subscriber that logs puts it under `pii`.
 */
import type { CallContext, CallEvent, Effect } from '../../flow/index.ts';
import type { ShadowVerdict } from '../../nlu/shadow.ts';
import type { EndReason } from '../end-reasons.ts';

export type SessionEvent =
  /** The stream started and the call went live (before its journal is read). */
  | { type: 'call.live' }
  /** A new conversation began. */
  | { type: 'call.started'; flowVersion: number; modelVersion: string | null; tracks: readonly string[] }
  /** The conversation was taken up from its journal on this stream. */
  | {
      type: 'call.resumed';
      flowVersion: number;
      modelVersion: string | null;
      journaledModelVersion: unknown;
      records: number;
      replayedEvents: number;
      timersRearmed: number;
      state: string;
      leaseToken: number;
    }
  /** The supervisor restarted the call's actor from its journal. */
  | { type: 'actor.restarted' }
  /** One inbound frame arrived (counted before ordering checks). */
  | { type: 'frame.in' }
  /** One outbound frame was sent. */
  | { type: 'frame.out' }
  /** The first agent audio of the stream, `msSinceStart` after it started. */
  | { type: 'audio.first'; msSinceStart: number }
  /** The caller pressed a key (personal data). */
  | { type: 'key.pressed'; digit: string }
  /** A key past the call's key rate (key-rate.ts): dropped, with how many so far. */
  | { type: 'key.dropped'; dropped: number }
  /** An event reached the conversation (not one kept while it attaches). */
  | { type: 'event.delivered'; event: CallEvent }
  /** The conversation was attached and has taken the events kept meanwhile. */
  | { type: 'conversation.attached' }
  /** The conversation has handled `event` (null: events the caller did not cause) and is at `context`. */
  | { type: 'step.settled'; event: CallEvent | null; context: CallContext | null }
  /** An event came while the call was attaching and none more could be kept. */
  | { type: 'event.dropped'; event: CallEvent['type'] }
  /** The conversation entered a flow state, or its slots changed. */
  | { type: 'state.entered'; state: string; slots: Record<string, string> }
  /** The machine asked for an effect, now being carried out. */
  | { type: 'effect'; effect: Effect }
  /** The machine reached its end. */
  | { type: 'conversation.done' }
  /** The caller's speech started; `agentSpeaking`: over agent audio still in flight. */
  | { type: 'speech.started'; agentSpeaking: boolean }
  /** An interim transcript of the caller's current turn (personal data). */
  | { type: 'turn.hearing'; text: string }
  /** A caller's spoken turn, recognized and understood (text and entities are personal data). */
  | {
      type: 'turn.heard';
      text: string;
      intent: string | null;
      confidence: number;
      sttConfidence: number | null;
      entities: Record<string, string>;
    }
  /** A turn's understanding by the shadow model, compared with the live model's (nlu/shadow.ts). */
  | { type: 'nlu.shadow'; verdict: ShadowVerdict }
  /** Steps of the last turn to the agent's first audio after it, ms. */
  | {
      type: 'turn.latency';
      silenceMs: number;
      transcriptMs: number;
      decisionMs: number;
      firstAudioMs: number;
      endOfTurnMs: number;
      speechEndToAudioMs: number;
    }
  /** The call switches speech engines for `service`. */
  | { type: 'speech.failover'; service: 'stt' | 'tts'; to: 'embedded' | 'dtmf' }
  /** A prompt's mark came back: `heard` to its end, `cleared` (cut, echoed anyway), or `unknown`. */
  | { type: 'prompt.echo'; mark: string; outcome: 'heard' | 'cleared' | 'unknown' }
  /** Audio in flight was dropped at Twilio and in the pacer. */
  | { type: 'audio.cleared'; marksInterrupted: number; marksDropped: number }
  /** A prompt was cut short: what of it the caller heard (personal data) and how much played. */
  | { type: 'prompt.cut'; mark: string | null; heard: string; playedMs: number; promptMs: number }
  /** The caller's speech cut the prompt of `state` (the flow's `clear` after a `speech.start`). */
  | { type: 'barge-in'; state: string | null; marksInterrupted: readonly string[] }
  /** A message or the journal failed the stream; the session ends. */
  | { type: 'stream.rejected'; code: string; err: unknown; data: Record<string, unknown> }
  /** The session ended. */
  | {
      type: 'call.ended';
      reason: EndReason;
      /** Whether the call was live (counted as active) when it ended. */
      wasLive: boolean;
      fields: Record<string, unknown>;
      durationMs: number;
      framesIn: number;
      framesOut: number;
      outOfOrderFrames: number;
      gapFilledFrames: number;
      /** Keys dropped past the call's key rate. */
      keysDropped: number;
      state: string | null;
    };

export type SessionEventType = SessionEvent['type'];

/** A subscriber gets each event with the wall-clock time it happened (ms since the epoch). */
export type SessionSubscriber = (event: SessionEvent, at: number) => void;

/** The stream of one call's events. Subscribers run in the order they subscribed, synchronously. */
export class SessionEvents {
  readonly #subscribers: SessionSubscriber[] = [];
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  subscribe(subscriber: SessionSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  emit(event: SessionEvent): void {
    const at = this.#now();
    for (const subscriber of this.#subscribers) subscriber(event, at);
  }
}

/** Events without fields, shared: the per-frame ones are emitted 50 times a second per call. */
export const FRAME_IN: SessionEvent = Object.freeze({ type: 'frame.in' });
export const FRAME_OUT: SessionEvent = Object.freeze({ type: 'frame.out' });
