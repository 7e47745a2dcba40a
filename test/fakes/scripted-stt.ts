/**
 * A test double for a speech engine: it hears nothing; each stream records the frames and context it was given
 * and, when its turn ends, answers with the next scripted transcript (immediately, or when the test releases it).
 */
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

  /** `script`: the transcript of each turn in order; `hold`: wait for answer() instead of answering at once. */
  constructor(script: string[] = [], options: { hold?: boolean } = {}) {
    this.#script = [...script];
    this.#hold = options.hold ?? false;
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
        if (!this.#hold) record.answer(this.#script.shift() ?? '');
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
