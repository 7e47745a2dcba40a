/** One utterance through a recognition stream: all its audio written at once, then its final transcript. */
import { FRAME_SAMPLES } from '../src/audio/frames.ts';
import type { ListenContext, SttEngine, Transcript } from '../src/speech/stt/engine.ts';

/** The final transcript of `pcm` (8 kHz, 16-bit) heard with `context`. */
export function recognize(engine: SttEngine, context: ListenContext, pcm: Int16Array): Promise<Transcript> {
  return new Promise((resolve, reject) => {
    const stream = engine.stream({
      context,
      onTranscript: (t) => {
        stream.close();
        resolve(t);
      },
      onError: reject,
    });
    for (let i = 0; i < pcm.length; i += FRAME_SAMPLES) stream.write(pcm.subarray(i, i + FRAME_SAMPLES));
    stream.endUtterance();
  });
}
