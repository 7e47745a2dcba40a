/**
 * A test double for a speech engine: it hears nothing; each stream records the frames and context it was given
 * and, when its turn ends, answers with the next scripted transcript (immediately, or when the test releases it),
 * or fails the turn as a cloud engine whose service is down would.
 */
import { SwitchboardError } from '../../src/errors.ts';
import type {
  ListenContext,
  RecognitionRequest,
  RecognitionStream,
  SttEngine,
} from '../../src/speech/stt/engine.ts';

export interface ScriptedStream {
  context: ListenContext;
  /** Samples written, in order (copied, as an engine must). */
  samples: number[];
  ended: boolean;
  closed: boolean;
  /** Sends the final transcript now (with `hold`, the test decides when). */
  answer(text: string): void;
}

export class ScriptedStt implements SttEngine {
  readonly name = 'scripted (test double)';
  readonly streams: ScriptedStream[] = [];
  readonly #script: string[];
  readonly #hold: boolean;
  /** Turns still to fail, before the script is answered from. */
  failTurns: number;

  /**
   * `script`: the transcript of each turn in order; `hold`: wait for answer() instead of answering at once;
   * `failTurns`: the first turns fail with a retryable STT_FAILED instead.
   */
  constructor(script: string[] = [], options: { hold?: boolean; failTurns?: number } = {}) {
    this.#script = [...script];
    this.#hold = options.hold ?? false;
    this.failTurns = options.failTurns ?? 0;
  }

  stream(req: RecognitionRequest): RecognitionStream {
    const record: ScriptedStream = {
      context: req.context,
      samples: [],
      ended: false,
      closed: false,
      answer: (text) =>
        req.onTranscript({
          text,
          final: true,
          confidence: 0.9,
          startMs: 0,
          endMs: record.samples.length / 8,
        }),
    };
    this.streams.push(record);
    return {
      write: (pcm) => {
        if (!record.closed && !record.ended) record.samples.push(...pcm);
      },
      endUtterance: () => {
        record.ended = true;
        if (this.failTurns > 0) {
          this.failTurns--;
          const err = new SwitchboardError('STT_FAILED', 'scripted failure', {}, { retryable: true });
          queueMicrotask(() => req.onError(err));
        } else if (!this.#hold) record.answer(this.#script.shift() ?? '');
      },
      close: () => {
        record.closed = true;
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
