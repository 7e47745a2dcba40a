/**
 * What a live call asks of Twilio's REST API on its flow's behalf: hand the caller over (transfer), and record
 * the call (start, pause, resume). Without account credentials each is refused with CALL_CONTROL_INVALID,
 * which the flow takes as the action failing. A transfer Twilio accepted ends the stream with a `stop` that is
 * the hand-over, not the caller leaving: `transferring` says so.
 */
import { SwitchboardError } from '../../errors.ts';
import type { CallControl } from '../../telephony/call-control.ts';

export interface LiveControlOptions {
  control: CallControl | null;
  callSid: string;
  /** Where the call's recording status callbacks go; null: recordings cannot be made. */
  recordingCallbackUrl: string | null;
}

export class LiveControl {
  readonly #opts: LiveControlOptions;
  #transferring = false;

  constructor(opts: LiveControlOptions) {
    this.#opts = opts;
  }

  /** A transfer was accepted by Twilio: the coming stop is the hand-over, not a hang-up. */
  get transferring(): boolean {
    return this.#transferring;
  }

  /** Hand the caller over to `to`; Twilio then stops this stream, which ends the session as transferred. */
  async transfer(to: string): Promise<void> {
    const control = this.#control('transfers');
    this.#transferring = true;
    try {
      await control.transfer(this.#opts.callSid, to);
    } catch (err) {
      // The caller stays with the flow (`transfer.failed`), still heard: nothing is released here.
      this.#transferring = false;
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
