/**
 * The order of a Twilio Media Streams websocket: `connected`, then one `start`, then `media`, `dtmf` and `mark`
 * on that stream, then `stop`. A message out of that order, or for another stream, throws MEDIA_OUT_OF_ORDER or
 * MEDIA_BAD_MESSAGE (the session then ends the call). Inbound media frames are counted here, and a frame that
 * arrives after later ones (out of order after a network gap) is dropped: the listener needs audio in order, and
 * one overtaken by later frames is too late to matter. Keys past the caller's key rate (key-rate.ts) are dropped
 * and counted too.
 */
import { SwitchboardError } from '../../errors.ts';
import { KeyRate } from './key-rate.ts';
import type { InboundMessage, StartMessage } from '../../telephony/media-streams.ts';

export type SessionPhase = 'new' | 'live' | 'ended';

/**
 * A frame at most this far (ms) behind the last one is late, and dropped; one further behind is a clock that
 * jumped. Hearing fills a timestamp gap with at most this much silence, for the same reason.
 */
export const MAX_GAP_FILL_MS = 1000;

/** What a well-ordered message asks the session to do. */
export interface StreamHandlers {
  start(message: StartMessage): void;
  stop(): void;
  /** An inbound frame in order; `timestamp` is ms of the stream. */
  media(payload: string, timestamp: number): void;
  dtmf(digit: string): void;
  /** A key past the key rate was dropped; `dropped` so far. */
  keyDropped(dropped: number): void;
  mark(name: string): void;
  /** Every inbound frame, in order or not, as it arrives. */
  frameIn(): void;
}

export class StreamProtocol {
  #phase: SessionPhase = 'new';
  #connectedSeen = false;
  #streamSid = '';
  #lastTimestamp = -1;
  #framesIn = 0;
  #outOfOrder = 0;
  readonly #handlers: StreamHandlers;
  readonly #monotonic: () => number;
  readonly #keys = new KeyRate();

  /** `monotonic`: the clock keys are timed by (ms). */
  constructor(monotonic: () => number, handlers: StreamHandlers) {
    this.#monotonic = monotonic;
    this.#handlers = handlers;
  }

  /** Keys dropped past the key rate. */
  get keysDropped(): number {
    return this.#keys.dropped;
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  get framesIn(): number {
    return this.#framesIn;
  }

  /** Inbound frames dropped for arriving after later ones. */
  get outOfOrder(): number {
    return this.#outOfOrder;
  }

  /** The stream is live from here (its start was accepted). */
  live(streamSid: string): void {
    this.#streamSid = streamSid;
    this.#phase = 'live';
  }

  /** The stream is over; returns whether it was live. */
  end(): boolean {
    const wasLive = this.#phase === 'live';
    this.#phase = 'ended';
    return wasLive;
  }

  /** Check `message` against the stream's order and hand it on. Throws on a message out of order. */
  dispatch(message: InboundMessage): void {
    switch (message.event) {
      case 'connected':
        if (this.#connectedSeen || this.#phase !== 'new') throw outOfOrder('connected', 'a second connected');
        this.#connectedSeen = true;
        return;
      case 'start':
        if (this.#phase !== 'new') throw outOfOrder('start', 'a second start on one stream');
        this.#handlers.start(message);
        return;
      case 'stop':
        this.#requireLive(message.event, message.streamSid);
        this.#handlers.stop();
        return;
    }
    this.#requireLive(message.event, message.streamSid);
    switch (message.event) {
      case 'media': {
        if (message.media.track !== 'inbound') return;
        this.#framesIn += 1;
        this.#handlers.frameIn();
        const timestamp = message.media.timestamp;
        // Late frames are dropped, not reordered. One far behind is not late but a clock that jumped (a bogus
        // timestamp before it): taken, so audio goes on.
        if (timestamp < this.#lastTimestamp && this.#lastTimestamp - timestamp <= MAX_GAP_FILL_MS) {
          this.#outOfOrder += 1;
          return;
        }
        this.#lastTimestamp = timestamp;
        this.#handlers.media(message.media.payload, timestamp);
        return;
      }
      case 'dtmf':
        if (this.#keys.take(this.#monotonic())) this.#handlers.dtmf(message.dtmf.digit);
        else this.#handlers.keyDropped(this.#keys.dropped);
        return;
      case 'mark':
        this.#handlers.mark(message.mark.name);
        return;
    }
  }

  #requireLive(event: string, streamSid: string): void {
    if (this.#phase !== 'live') throw outOfOrder(event, `${event} before start`);
    if (streamSid !== this.#streamSid) {
      throw new SwitchboardError('MEDIA_BAD_MESSAGE', 'streamSid does not match the stream', {
        event,
        streamSid,
      });
    }
  }
}

function outOfOrder(event: string, detail: string): SwitchboardError {
  return new SwitchboardError('MEDIA_OUT_OF_ORDER', detail, { event });
}
