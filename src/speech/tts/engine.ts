/**
 * The contract every text-to-speech engine meets (offline flite, Google Cloud Text-to-Speech; the list is
 * ../registry.ts), so prompts, the cache and calls never depend on which engine produced the audio. Audio always
 * comes back as the wire format Twilio plays: 8 kHz mono G.711 mu-law with no header.
 */

export interface SynthesisRequest {
  /** What to say. It may contain personal data: never log it outside a `pii` field. */
  text: string;
  /** The same words as an SSML document; engines that read SSML speak it instead of `text`, others ignore it. */
  ssml?: string;
  /** Engine-specific voice name; the engine's `defaultVoice` when absent. */
  voice?: string;
  /** BCP-47 language of the words; the engine's own default when absent. Engines with one language ignore it. */
  language?: string;
  /** Aborting rejects this request's promise; the engine may still finish the work and drop the result. */
  signal?: AbortSignal;
}

export interface SynthesizedAudio {
  /** 8 kHz mono G.711 mu-law, no header. */
  mulaw: Uint8Array;
  durationMs: number;
}

/** Syntheses an engine refused because it was behind, since it started. */
export interface TtsShed {
  /** Its queue (or its requests in flight) was at its bound. */
  queueFull: number;
  /** The request waited past the engine's bound for it (queued, or for the service's answer). */
  waitedTooLong: number;
}

export interface TtsEngine {
  readonly name: string;
  /**
   * What it refused because it was behind; absent for an engine that never is. A refused synthesis rejects with
   * TTS_FAILED like any other failure: the call skips that sentence and goes on.
   */
  readonly shed?: TtsShed;
  readonly defaultVoice: string;
  /** Whether `req.ssml` is spoken when given (else the engine always speaks `req.text`). */
  readonly readsSsml: boolean;
  /**
   * Speak `req.text` (or `req.ssml`, see readsSsml); rejects with SwitchboardError TTS_FAILED, or with the
   * signal's reason when aborted.
   */
  synthesize(req: SynthesisRequest): Promise<SynthesizedAudio>;
  /** Release the engine's resources; later requests reject. */
  close(): Promise<void>;
}
