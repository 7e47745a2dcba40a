/** The `set` action's part of the flow format (the action itself: ../set.ts). */

export interface SetFields {
  /**
   * Slots set on entering the state, before its prompt; values are templates (`"{{size}} pizza"`).
   * @propertyNames {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
   */
  set?: Record<string, string>;
}
