/** The `next` action's part of the flow format (the action itself: ../next.ts). */
import type { Target } from './target.ts';

export interface NextFields {
  /**
   * Where to go when the prompt has played (states without input) or when `collect` completes; a state
   * with neither a prompt nor input goes at once (a decision state).
   */
  next?: Target;
  /** Where to go when `http` or `transfer` fails; the policy's fallback when absent. */
  onError?: Target;
}
