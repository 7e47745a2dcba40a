/** What a call's listener asks of any VAD (src/call/listener.ts takes any function of this shape). */

/** One call's stream: frames of 8 kHz PCM in, speech probabilities out through the opener's callback. */
export interface VadStream {
  /** One frame of 8 kHz PCM; the VAD copies what it keeps. */
  pushPcm(frame: Int16Array): void;
  close(): void;
}

/** Opens one call's stream; probabilities may arrive later than their frames, in order. */
export type VadOpener = (
  onProbability: (probability: number, startMs: number, durationMs: number) => void,
) => VadStream;
