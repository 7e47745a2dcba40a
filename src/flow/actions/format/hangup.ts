/** The `hangup` action's part of the flow format and its effects (the action itself: ../hangup.ts). */

export interface HangupFields {
  /**
   * End the call once the prompt has played.
   * @default false
   */
  hangup?: boolean;
}

/** End the call once everything already said has been heard. */
export type HangupEffect = { type: 'hangup' };
