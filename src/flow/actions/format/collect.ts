/** The `collect` action's part of the flow format (the action itself: ../collect.ts). */

export interface CollectFields {
  /** Collect a slot from the keypad or from speech. */
  collect?: CollectDef;
}

/**
 * A slot collected from the keypad (`digits`), from speech (`entity`), or both, optionally checked and read back
 * for confirmation; later prompts read it with `{{slot}}`.
 */
export interface CollectDef {
  /**
   * Name of the slot the value is stored in.
   * @pattern ^[A-Za-z_][A-Za-z0-9_]*$
   */
  slot: string;
  /** Keypad entry: when it is complete. */
  digits?: DigitsDef;
  /**
   * What to listen for in speech: a built-in entity (`yes`, `no`, `number`, `digits`, `date`, `time`,
   * `phone_number`) or one of the flow's `entities`.
   * @pattern ^[A-Za-z][A-Za-z0-9_]{0,63}$
   */
  entity?: string;
  /**
   * Condition the value must meet, with the slot already holding it, e.g. `count >= 1 && count <= 10`. A value
   * that fails is a no-match, announced by `invalidSay` when given.
   * @minLength 1
   */
  validate?: string;
  /**
   * Said when a value fails `validate`, before the prompt is repeated.
   * @minLength 1
   * @pattern \S
   */
  invalidSay?: string;
  /**
   * Read the value back and ask for a yes or no (spoken, or 1 / 2 on the keypad) before going on, e.g.
   * `"That was {{size}}, right?"`. A no asks for the value again.
   * @minLength 1
   * @pattern \S
   */
  confirm?: string;
}

/** When a digit entry is complete. */
export interface DigitsDef {
  /**
   * Complete as soon as this many digits are entered.
   * @asType integer
   * @minimum 1
   * @maximum 64
   */
  max?: number;
  /**
   * Fewer digits than this is a no-match. Default 1.
   * @asType integer
   * @minimum 1
   * @maximum 64
   * @default 1
   */
  min?: number;
  /**
   * Key that ends the entry, usually `#`. Not stored in the slot.
   * @pattern ^[*#]$
   * @examples ["#"]
   */
  terminator?: string;
}
