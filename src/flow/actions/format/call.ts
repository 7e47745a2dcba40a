/** The `call` action's part of the flow format (the action itself: ../call.ts). */

export interface CallFields {
  /**
   * Run this sub-flow, then go to `next` when it reaches `"$return"`. A calling state may also `set` slots,
   * and does nothing else.
   * @pattern ^[A-Za-z][A-Za-z0-9_-]{0,63}$
   */
  call?: string;
}
