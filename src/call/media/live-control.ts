/**
 * What a live call asks of Twilio's REST API on its flow's behalf: hand the caller over (transfer, cold or
 * warm), and record the call (start, pause, resume). Without account credentials each is refused with
 * CALL_CONTROL_INVALID, which the flow takes as the action failing. A transfer Twilio accepted ends the stream
 * with a `stop` that is not the caller leaving: `stopReason` says what it is (the hand-over, or a hold the call
 * comes back from).
 */
import { SwitchboardError } from '../../errors.ts';
import type { CallInfo, WarmTransferRequest } from '../../flow/index.ts';
import type { CallControl } from '../../telephony/call-control.ts';
import type { WarmTransfers } from '../../transfer/warm-transfers.ts';
import type { EndReason } from '../end-reasons.ts';

export interface LiveControlOptions {
  control: CallControl | null;
  callSid: string;
  /** Where the call's recording status callbacks go; null: recordings cannot be made. */
  recordingCallbackUrl: string | null;
  /** Warm transfers; null when the server cannot make them (no account credentials). */
  warm: WarmTransfers | null;
  /** The call's flow, and its own Twilio number (called, or called from), as the conversation knows them. */
  flow: string;
  ownNumber: () => string | null;
}

export class LiveControl {
  readonly #opts: LiveControlOptions;
  #stopReason: EndReason | null = null;

  constructor(opts: LiveControlOptions) {
    this.#opts = opts;
  }

  /** What the coming stop means, once Twilio took a transfer: not a hang-up. Null: the caller left. */
  get stopReason(): EndReason | null {
    return this.#stopReason;
  }

  /** Hand the caller over to `to`; Twilio then stops this stream, which ends the session as transferred. */
  async transfer(to: string): Promise<void> {
    const control = this.#control('transfers');
    await this.#stoppingFor('transferred', () => control.transfer(this.#opts.callSid, to));
  }

  /**
   * Put the caller on hold while `to` is called and briefed; Twilio then stops this stream, and the call stays
   * open in its journal to be resumed, on any instance, when it comes back. Rejects when the caller could not be
   * put on hold, or when this transfer came back already (CALL_TRANSFER_NOT_TAKEN).
   */
  async warmTransfer(to: string, request: WarmTransferRequest): Promise<void> {
    this.#control('transfers');
    const warm = this.#opts.warm;
    if (warm === null) {
      throw new SwitchboardError('CALL_CONTROL_INVALID', 'warm transfers need the public URL of this server');
    }
    const { callSid, flow } = this.#opts;
    await this.#stoppingFor('on hold', () =>
      warm.start({ callSid, flow, to, ownNumber: this.#opts.ownNumber(), request }),
    );
  }

  /** Run `work`, during which a stop means `reason`. */
  async #stoppingFor(reason: EndReason, work: () => Promise<void>): Promise<void> {
    this.#stopReason = reason;
    try {
      await work();
    } catch (err) {
      // The caller stays with the flow (`transfer.failed`), still heard: nothing is released here.
      this.#stopReason = null;
      throw err;
    }
  }

  /** Start, pause or resume the call's recording; a start resolves with the recording's SID. */
  async record(action: 'start' | 'pause' | 'resume'): Promise<{ sid: string } | null> {
    const control = this.#control('recordings');
    const { callSid, recordingCallbackUrl } = this.#opts;
    if (action !== 'start') {
      await control.setRecording(callSid, action === 'pause' ? 'paused' : 'in-progress');
      return null;
    }
    if (recordingCallbackUrl === null) {
      throw new SwitchboardError('CALL_CONTROL_INVALID', 'recordings need the public URL of this server');
    }
    return control.startRecording(callSid, { url: recordingCallbackUrl });
  }

  #control(what: string): CallControl {
    if (this.#opts.control) return this.#opts.control;
    throw new SwitchboardError(
      'CALL_CONTROL_INVALID',
      `${what} need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to be set`,
    );
  }
}

/** The call's own Twilio number: the one called (inbound), or the one it was placed from (outbound). */
export function ownNumberOf(call: CallInfo | undefined): string | null {
  if (call === undefined) return null;
  return (call.direction === 'outbound' ? call.from : call.to) ?? null;
}
