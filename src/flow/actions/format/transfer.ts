/** The `transfer` action's part of the flow format and its effects (the action itself: ../transfer.ts). */

export interface TransferFields {
  /**
   * Transfer the call to this number (E.164, e.g. `+15555550100`, or a template such as `{{env.SUPPORT_LINE}}`)
   * once the prompt has played: the caller is connected to it and leaves the flow. On failure, `onError`.
   * @minLength 1
   */
  transfer?: string;
}

/** Once everything already said has been heard, connect the caller to `to`; the call leaves the flow. */
export type TransferEffect = { type: 'transfer'; id: string; to: string };

/** A transfer could not be made. */
export type TransferOutcome = { type: 'transfer.failed'; at: number; id: string; reason: string };
