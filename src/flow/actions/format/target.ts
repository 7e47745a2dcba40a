/** Targets and retry prompts: the parts of the flow format several actions share. */

/**
 * Where to go: a state name, or a list of choices tried in order, the first whose condition holds (a choice
 * without `if` always does). When none holds, input counts as a no-match; a state that moves on by itself goes to
 * the policy's fallback.
 */
export type Target = string | TargetChoice[];

/** One choice of a conditional target. */
export interface TargetChoice {
  /**
   * Condition on slots, e.g. `size == "large" && count >= 2`; see docs/flows.md for the syntax.
   * @minLength 1
   */
  if?: string;
  /**
   * The state to go to; `"$return"` inside a sub-flow.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  goto: string;
}

/**
 * Said instead of the default on a no-input or no-match; a list escalates: its first entry on the first retry,
 * the second on the second, and the last one from then on.
 */
export type RetryPrompt = string | string[];
