/** The `transfer` action's part of the flow format and its effects (the action itself: ../transfer.ts). */

export interface TransferFields {
  /**
   * Transfer the call once the prompt has played. A number (E.164, e.g. `+15555550100`, or a template such as
   * `{{env.SUPPORT_LINE}}`) is a cold transfer: the caller is connected to it and leaves the flow. An object with
   * `"mode": "warm"` is a warm transfer: the caller waits on hold while the person is called and briefed. On
   * failure, `onError`.
   */
  transfer?: string | TransferDef;
}

/** A transfer spelled out: where to, and how. */
export interface TransferDef {
  /**
   * The number to transfer to (E.164, or a template such as `{{env.FRONT_DESK}}`).
   * @minLength 1
   */
  to: string;
  /**
   * `cold` connects the caller straight away. `warm` puts the caller on hold in a conference, calls `to`, says
   * the `whisper` to whoever answers and lets them take the call (key 1) or send it back (key 2); when they do
   * not take it within `timeout`, the caller comes back to the flow at `onError`.
   * @default "cold"
   */
  mode?: 'cold' | 'warm';
  /**
   * Warm only: what the person hears before taking the call, a template over the call's slots, e.g. `"{{name}}
   * is calling about {{reason}}."`.
   * @minLength 1
   */
  whisper?: string;
  /**
   * Warm only: seconds the person's phone rings before the caller comes back to the flow.
   * @minimum 5
   * @maximum 120
   * @default 30
   */
  timeout?: number;
  /**
   * Warm only: what the caller hears on hold, a URL of an audio file or of TwiML (Twilio's `waitUrl`);
   * Twilio's own hold music when absent.
   */
  hold?: string;
}

/** How a warm transfer is carried out, as the flow set it, its whisper worked out for this call. */
export interface WarmTransfer {
  whisper: string;
  timeoutSeconds: number;
  hold: string | null;
}

/**
 * Once everything already said has been heard, connect the caller to `to`; the call leaves the flow. With
 * `warm`, the caller waits on hold and comes back (a `transfer.failed`) when the person does not take the call.
 */
export type TransferEffect = { type: 'transfer'; id: string; to: string; warm?: WarmTransfer };

/**
 * A transfer could not be made, or, warm, the person did not take the call: `reason` says why (`busy`, `no
 * answer`, `declined`, or the error).
 */
export type TransferOutcome = { type: 'transfer.failed'; at: number; id: string; reason: string };
