/**
 * An intent model shared by the calls that started with it. When a flow's model is replaced, calls under way
 * keep the one they started with; its native session is released once it is retired and the last of those
 * calls has let go. It may carry a shadow: a candidate version run beside it on the same turns (NLU_SHADOW),
 * held and released with it.
 */
import type { IntentClassifier } from './intent-classifier.ts';

export class SharedIntentModel {
  readonly model: IntentClassifier;
  /** The cache version ({@link modelVersion}): what a call records to say which model understood it. */
  readonly version: string;
  /** The candidate run beside this model on every turn, off the caller's path; null when none. */
  readonly shadow: SharedIntentModel | null;
  /** Resolves once the native session has been freed (and the shadow's). */
  readonly released: Promise<void>;
  #holders = 0;
  #retired = false;
  #isReleased = false;
  #release!: () => void;

  constructor(model: IntentClassifier, version: string, shadow: SharedIntentModel | null = null) {
    this.model = model;
    this.version = version;
    this.shadow = shadow;
    this.released = new Promise((resolve) => (this.#release = resolve));
  }

  /** Holds the model for one user; the returned function lets go (calling it again does nothing). */
  retain(): () => void {
    if (this.#isReleased) throw new Error('the model was already released');
    this.#holders++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#holders--;
      this.#maybeRelease();
    };
  }

  /** No new user will take it: release it once the current ones have let go. */
  retire(): void {
    this.#retired = true;
    this.#maybeRelease();
  }

  get holders(): number {
    return this.#holders;
  }

  /** True once retired and let go by every holder: the session is freed or being freed. */
  get isReleased(): boolean {
    return this.#isReleased;
  }

  #maybeRelease(): void {
    if (!this.#retired || this.#holders > 0 || this.#isReleased) return;
    this.#isReleased = true;
    // Freeing cannot fail in a way a caller could act on; the promise only says when it is done.
    this.shadow?.retire();
    const shadowReleased = this.shadow?.released ?? Promise.resolve();
    void this.model
      .release()
      .catch(() => {})
      .then(() => shadowReleased)
      .finally(this.#release);
  }
}
