/**
 * End-of-turn detection for one call: turns a stream of per-frame speech probabilities (from any VAD) into
 * `speech-start` and `speech-end` events. Pure and deterministic: times are audio times the caller passes in.
 *
 * - A turn starts once voiced frames add up to `minSpeechMs` (a cough or a click is shorter), counting from the
 *   first voiced frame; gaps of up to `maxCandidateGapMs` inside that run are tolerated, longer ones discard it.
 * - Hysteresis: a frame is voiced at `startThreshold` or above to start or resume speech; once speaking, speech
 *   holds until a frame falls below `stopThreshold`.
 * - A turn ends after `silenceMs` without a resuming frame (settable per flow state), or after `maxTurnMs`.
 */
import { SwitchboardError } from '../errors.ts';
import { FRAME_MS } from './frames.ts';

export interface TurnDetectorOptions {
  /** Probability at or above which a frame starts (or resumes) speech. 0.5 unless given. */
  startThreshold?: number;
  /** Once speaking, a frame below this begins the trailing silence. startThreshold - 0.15 unless given. */
  stopThreshold?: number;
  /**
   * Voiced time needed before a turn starts. 200 ms unless given: longer than a cough (about 150 ms), short
   * enough that a caller talking over a prompt stops it within 300 ms.
   */
  minSpeechMs?: number;
  /** Unvoiced time that discards a not-yet-started turn. 100 ms unless given. */
  maxCandidateGapMs?: number;
  /** Trailing silence that ends a turn. 700 ms unless given; change it per state with setSilenceMs. */
  silenceMs?: number;
  /** A turn longer than this ends anyway (a line that never goes quiet). 30 000 ms unless given. */
  maxTurnMs?: number;
  /** Duration of a frame when push is not told. FRAME_MS (20 ms) unless given. */
  frameMs?: number;
}

export type TurnPhase = 'silence' | 'candidate' | 'speech' | 'trailing';

export interface SpeechStart {
  readonly type: 'speech-start';
  /** Audio time the first voiced frame of the turn began. */
  readonly onsetMs: number;
  /** Audio time at which the start was decided (end of the frame that met minSpeechMs). */
  readonly atMs: number;
}

export interface SpeechEnd {
  readonly type: 'speech-end';
  readonly reason: 'silence' | 'max-turn' | 'flush';
  /** Audio time the turn's first voiced frame began. */
  readonly onsetMs: number;
  /** Audio time the turn's last voiced frame ended. */
  readonly endMs: number;
  /** Audio time at which the end was decided: endMs + silenceMs for a silence end. */
  readonly atMs: number;
}

export type TurnEvent = SpeechStart | SpeechEnd;

function option(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max)
    throw new SwitchboardError('VAD_CONFIG_INVALID', `${name} must be a number in [${min}, ${max}]`, {
      field: name,
      value,
    });
  return value;
}

export class TurnDetector {
  readonly #start: number;
  readonly #stop: number;
  readonly #minSpeechMs: number;
  readonly #maxGapMs: number;
  readonly #maxTurnMs: number;
  readonly #frameMs: number;
  #silenceMs: number;

  #phase: TurnPhase = 'silence';
  #onsetMs = 0;
  /** Voiced time of the candidate run. */
  #voicedMs = 0;
  /** End of the latest voiced frame. */
  #lastVoicedEndMs = 0;
  /** End of the latest frame pushed; frames must not go back before it. */
  #clockMs = -Infinity;

  constructor(options: TurnDetectorOptions = {}) {
    this.#start = option('startThreshold', options.startThreshold ?? 0.5, 0, 1);
    this.#stop = option(
      'stopThreshold',
      options.stopThreshold ?? Math.max(0, this.#start - 0.15),
      0,
      this.#start,
    );
    this.#minSpeechMs = option('minSpeechMs', options.minSpeechMs ?? 200, 0, 10_000);
    this.#maxGapMs = option('maxCandidateGapMs', options.maxCandidateGapMs ?? 100, 0, 10_000);
    this.#silenceMs = option('silenceMs', options.silenceMs ?? 700, 0, 60_000);
    this.#maxTurnMs = option('maxTurnMs', options.maxTurnMs ?? 30_000, 1, 3_600_000);
    this.#frameMs = option('frameMs', options.frameMs ?? FRAME_MS, 1, 1000);
  }

  get phase(): TurnPhase {
    return this.#phase;
  }

  /** True from speech-start until speech-end. */
  get speaking(): boolean {
    return this.#phase === 'speech' || this.#phase === 'trailing';
  }

  get silenceMs(): number {
    return this.#silenceMs;
  }

  /** The trailing silence that ends a turn, from now on (a flow state expecting digits may want longer). */
  setSilenceMs(ms: number): void {
    this.#silenceMs = option('silenceMs', ms, 0, 60_000);
  }

  /**
   * Feeds one frame: its speech probability (a boolean decision counts as 1 or 0; a non-finite value as 0),
   * the audio time it began and its length. Returns the event it triggers, if any. A frame that begins before
   * the previous one ended is a caller bug (frames must be ordered by timestamp): VAD_INPUT_INVALID.
   */
  push(probability: number | boolean, atMs: number, durationMs = this.#frameMs): TurnEvent | undefined {
    if (!(atMs >= this.#clockMs - 1e-6) || !Number.isFinite(atMs) || !(durationMs > 0))
      throw new SwitchboardError('VAD_INPUT_INVALID', 'frames must be in time order with a positive length', {
        atMs,
        durationMs,
        previousEndMs: this.#clockMs,
      });
    const p = typeof probability === 'boolean' ? (probability ? 1 : 0) : probability;
    const endMs = atMs + durationMs;
    this.#clockMs = endMs;
    // NaN compares false everywhere: it is never voiced, as the doc promises.
    const voicedToStart = p >= this.#start;

    switch (this.#phase) {
      case 'silence':
        if (!voicedToStart) return undefined;
        this.#phase = 'candidate';
        this.#onsetMs = atMs;
        this.#voicedMs = 0;
        return this.#candidate(true, endMs, durationMs);
      case 'candidate':
        return this.#candidate(voicedToStart, endMs, durationMs);
      case 'speech':
        if (p >= this.#stop) {
          this.#lastVoicedEndMs = endMs;
          return this.#maxTurn(endMs);
        }
        this.#phase = 'trailing';
        return this.#trailing(endMs);
      case 'trailing':
        if (voicedToStart) {
          this.#phase = 'speech';
          this.#lastVoicedEndMs = endMs;
          return this.#maxTurn(endMs);
        }
        return this.#trailing(endMs);
    }
  }

  /** Ends a turn in progress now (the stream closed, or the caller barged in on a prompt that was cut). */
  flush(): SpeechEnd | undefined {
    const speaking = this.speaking;
    this.#phase = 'silence';
    this.#voicedMs = 0;
    if (!speaking) return undefined;
    return this.#end('flush', this.#clockMs);
  }

  /** Back to silence without an event, keeping the clock (frames must still move forward). */
  reset(): void {
    this.#phase = 'silence';
    this.#voicedMs = 0;
  }

  #candidate(voiced: boolean, endMs: number, durationMs: number): TurnEvent | undefined {
    if (voiced) {
      this.#voicedMs += durationMs;
      this.#lastVoicedEndMs = endMs;
    } else if (endMs - this.#lastVoicedEndMs > this.#maxGapMs) {
      this.#phase = 'silence';
      return undefined;
    }
    if (this.#voicedMs < this.#minSpeechMs) return undefined;
    this.#phase = 'speech';
    return { type: 'speech-start', onsetMs: this.#onsetMs, atMs: endMs };
  }

  #trailing(endMs: number): SpeechEnd | undefined {
    if (endMs - this.#lastVoicedEndMs >= this.#silenceMs) {
      this.#phase = 'silence';
      return this.#end('silence', endMs);
    }
    return this.#maxTurn(endMs);
  }

  #maxTurn(endMs: number): SpeechEnd | undefined {
    if (endMs - this.#onsetMs < this.#maxTurnMs) return undefined;
    this.#phase = 'silence';
    return this.#end('max-turn', endMs);
  }

  #end(reason: SpeechEnd['reason'], atMs: number): SpeechEnd {
    return { type: 'speech-end', reason, onsetMs: this.#onsetMs, endMs: this.#lastVoicedEndMs, atMs };
  }
}
