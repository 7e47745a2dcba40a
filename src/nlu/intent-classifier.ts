/**
 * What a call needs from an intent model, whichever kind it is: the model trained from a flow's examples
 * (model-dir.ts) or a text classifier trained elsewhere (transformer/). Calls, the model cache and the CLI
 * hold this, so a new kind of model is one more implementation, not a change to them.
 */
export interface IntentClassifier {
  /** The intents it can answer. */
  readonly labels: readonly string[];
  /** The lowest confidence it answers with an intent rather than null. */
  readonly threshold: number;
  /** The top intent, or null when nothing clears the threshold; blank text is null with confidence 0. */
  classify(text: string): Promise<{ intent: string | null; confidence: number }>;
  /** Frees the native session; later classify calls reject with NLU_INFERENCE_FAILED. */
  release(): Promise<void>;
}
