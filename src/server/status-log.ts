/**
 * The latest call status Twilio reported for each recent call. Callbacks arrive in no guaranteed order, so a
 * callback older (by SequenceNumber) than the one recorded is kept out. Bounded: the oldest calls are forgotten.
 */
export interface CallStatusEntry {
  callSid: string;
  status: string;
  sequenceNumber: number;
}

export class StatusLog {
  readonly #entries = new Map<string, CallStatusEntry>();

  constructor(readonly capacity: number) {}

  /** Record a status callback's parameters; returns the entry now held for that call. */
  record(params: Record<string, string>): CallStatusEntry {
    const callSid = params.CallSid ?? '';
    const incoming: CallStatusEntry = {
      callSid,
      status: params.CallStatus ?? 'unknown',
      sequenceNumber: Number(params.SequenceNumber ?? 0) || 0,
    };
    const known = this.#entries.get(callSid);
    if (known && known.sequenceNumber > incoming.sequenceNumber) return known;
    this.#entries.delete(callSid);
    this.#entries.set(callSid, incoming);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return incoming;
  }

  get(callSid: string): CallStatusEntry | undefined {
    return this.#entries.get(callSid);
  }
}
