/** The `policies` action's part of the flow format and its effects (the action itself: ../policies.ts). */
import type { RetryPrompt } from './target.ts';

export interface PolicyFields {
  /**
   * Silence that ends the caller's turn in this state, in ms (default 700): longer for answers people pause in,
   * such as an address; shorter for yes or no.
   * @minimum 200
   * @maximum 5000
   */
  endOfTurnMs?: number;
  /** Said instead of the default when the caller gives no input in time; a list escalates. */
  noInputSay?: RetryPrompt;
  /** Said instead of the default when the caller's input matches nothing; a list escalates. */
  noMatchSay?: RetryPrompt;
}

export type TimerEffect =
  { type: 'timer.start'; id: string; ms: number } | { type: 'timer.cancel'; id: string };
