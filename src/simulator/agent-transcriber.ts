/**
 * What the simulated caller heard, back in words: each stretch of the agent's audio decoded by pocketsphinx
 * with its generic English model, so `switchboard call` prints a readable conversation without knowing the
 * flow or trusting the server's own account of what it said.
 */
import { FRAME_SAMPLES } from '../audio/frames.ts';
import { mulawToPcm } from '../audio/mulaw.ts';
import { isSwitchboardError } from '../errors.ts';
import type { ListenContext, RecognitionStream } from '../speech/stt/engine.ts';
import { PocketsphinxStt } from '../speech/stt/pocketsphinx.ts';
import { warmUpAudio } from '../speech/stt/warm-up.ts';
import { FliteTts } from '../speech/tts/flite.ts';

/** An open question with no domain: the engine decodes it with the generic model and the whole dictionary. */
const ANYTHING: ListenContext = { kind: 'open', phrases: [], numbers: false, domain: [] };
const MAX_PROMPT_MS = 120_000;

export class AgentTranscriber {
  readonly #engine: PocketsphinxStt;

  private constructor(engine: PocketsphinxStt) {
    this.#engine = engine;
  }

  /**
   * Starts a decoder and loads the generic model (a few seconds); `{ unavailable }`, saying why, when
   * pocketsphinx is not installed.
   */
  static async open(voice = 'rms'): Promise<AgentTranscriber | { unavailable: string }> {
    // Said in the agent's default voice: it settles the decoder's cepstral mean before the first prompt.
    const tts = new FliteTts({ voice });
    let warmUp: Int16Array;
    try {
      warmUp = await warmUpAudio(tts);
    } finally {
      await tts.close();
    }
    let engine: PocketsphinxStt;
    try {
      // A prompt is decoded whole once it has played, however long it is.
      engine = await PocketsphinxStt.open({
        decoders: 1,
        warmUpAudio: warmUp,
        maxBufferedMs: MAX_PROMPT_MS,
        maxUtteranceMs: MAX_PROMPT_MS,
      });
    } catch (err) {
      if (isSwitchboardError(err, 'STT_UNAVAILABLE')) return { unavailable: err.message };
      throw err;
    }
    const transcriber = new AgentTranscriber(engine);
    // The generic decoder is built on its first use; built now, the first prompt need not wait for it.
    await transcriber.transcribe(warmUp);
    return transcriber;
  }

  /** The words in `audio` (8 kHz mu-law, or PCM already decoded); '' when none were recognized. */
  transcribe(audio: Uint8Array | Int16Array): Promise<string> {
    const pcm = audio instanceof Int16Array ? audio : mulawToPcm(audio);
    return new Promise((resolve, reject) => {
      const stream: RecognitionStream = this.#engine.stream({
        context: ANYTHING,
        onTranscript: (t) => {
          if (!t.final) return;
          stream.close();
          resolve(t.text);
        },
        onError: reject,
      });
      for (let at = 0; at < pcm.length; at += FRAME_SAMPLES) {
        stream.write(pcm.subarray(at, at + FRAME_SAMPLES));
      }
      stream.endUtterance();
    });
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}
