/** The `say` action's part of the flow format and its effects (the action itself: ../say.ts). */

export interface SayFields {
  /**
   * Prompt, with `{{slot}}` templates (`{{slot|digits}}` reads digits one by one).
   * @minLength 1
   * @pattern \S
   */
  say?: string;
  /**
   * The same prompt as SSML (`<speak>...</speak>`, templates allowed; slot values are escaped), for engines that
   * read SSML; the others speak `say`, which is required alongside it.
   * @minLength 1
   * @pattern ^\s*<speak[\s>][\s\S]*</speak>\s*$
   */
  ssml?: string;
  /**
   * Whether the caller can interrupt this state's prompt: `true` (the default) by speaking or with a key,
   * `"dtmf"` with a key only (speech during the prompt is ignored), `false` not at all (the prompt plays out;
   * input counts once it has).
   */
  bargeIn?: boolean | 'dtmf';
}

export interface ResumeFields {
  /**
   * Said instead of the prompt when the call resumes in this state after its logic was restarted.
   * @minLength 1
   * @pattern \S
   */
  resumeSay?: string;
}

export type SayEffect =
  /**
   * Speak `text`, then send `mark` so we learn when the caller has heard it. `ssml`, when the state has one, is
   * the same prompt for engines that read SSML.
   */
  | { type: 'say'; text: string; mark: string; voice?: string; ssml?: string }
  /** Stop whatever audio is still playing (barge-in). */
  | { type: 'clear' };
