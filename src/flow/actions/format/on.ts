/** The `on` action's part of the flow format (the action itself: ../on.ts). */
import type { Target } from './target.ts';

export interface OnFields {
  /**
   * Transitions by input: a key (`"dtmf:1"`), an intent of the flow, or a built-in intent (`yes`, `no`,
   * `repeat`, `cancel`). Each leads to a state, or to the first choice whose condition holds.
   * @propertyNames {"type": "string", "pattern": "^(dtmf:[0-9*#A-D]|[A-Za-z][A-Za-z0-9_]{0,63})$"}
   * @examples [{"dtmf:1": "hours", "talk_to_human": "operator"}]
   */
  on?: Record<string, Target>;
}
