/** The simulated caller's side: the JSON text Twilio would send, speaking exactly its protocol (counters as strings). */
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { isDtmfKey } from '../../common/dtmf.ts';
import { SwitchboardError } from '../../errors.ts';
import type { MediaTrack } from './messages.ts';

/** Builds the JSON text Twilio would send on one stream, keeping sequence and chunk counters like Twilio does. */
export class InboundEncoder {
  readonly #sid: string; // `"streamSid":"MZ..."`, escaped once
  readonly #accountSid: string;
  readonly #callSid: string;
  readonly #streamSidJson: string;
  #sequence = 0;
  readonly #chunks: Record<MediaTrack, number> = { inbound: 0, outbound: 0 };

  /** Ids are JSON-escaped once here, so any string is safe (tests may send odd ones on purpose). */
  constructor(ids: { streamSid: string; callSid: string; accountSid: string }) {
    this.#streamSidJson = JSON.stringify(ids.streamSid);
    this.#sid = `"streamSid":${this.#streamSidJson}`;
    this.#accountSid = JSON.stringify(ids.accountSid);
    this.#callSid = JSON.stringify(ids.callSid);
  }

  // Twilio numbers every message after `connected`, starting with "1" for `start`.
  #next(): string {
    this.#sequence++;
    return `"sequenceNumber":"${this.#sequence}"`;
  }

  /** The first message on a stream; it carries no sequence number. */
  connected(): string {
    return '{"event":"connected","protocol":"Call","version":"1.0.0"}';
  }

  /** The start message, with the `<Parameter>`s of the TwiML as customParameters. */
  start(customParameters: Record<string, string>, tracks: string[] = ['inbound']): string {
    return (
      `{"event":"start",${this.#next()},"start":{"accountSid":${this.#accountSid},` +
      `"streamSid":${this.#streamSidJson},"callSid":${this.#callSid},"tracks":${JSON.stringify(tracks)},` +
      `"customParameters":${JSON.stringify(customParameters)},` +
      `"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":${SAMPLE_RATE},"channels":1}},${this.#sid}}`
    );
  }

  /** A media message; `timestampMs` is milliseconds since the stream started. */
  media(base64Payload: string, timestampMs: number, track: MediaTrack = 'inbound'): string {
    if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
      throw new SwitchboardError('MEDIA_BAD_MESSAGE', 'media.timestamp', { field: 'media.timestamp' });
    }
    const chunk = ++this.#chunks[track];
    return (
      `{"event":"media",${this.#next()},"media":{"track":"${track}","chunk":"${chunk}",` +
      `"timestamp":"${timestampMs}","payload":${JSON.stringify(base64Payload)}},${this.#sid}}`
    );
  }

  /** A dtmf message for one key press (0-9, *, #, A-D). */
  dtmf(digit: string): string {
    if (!isDtmfKey(digit))
      throw new SwitchboardError('MEDIA_BAD_MESSAGE', 'dtmf.digit', { field: 'dtmf.digit' });
    return `{"event":"dtmf",${this.#sid},${this.#next()},"dtmf":{"track":"inbound_track","digit":"${digit}"}}`;
  }

  /** A mark echo: what Twilio sends when the audio before our mark has played. */
  mark(name: string): string {
    return `{"event":"mark",${this.#next()},${this.#sid},"mark":{"name":${JSON.stringify(name)}}}`;
  }

  /** The last message on a stream. */
  stop(): string {
    return (
      `{"event":"stop",${this.#next()},${this.#sid},` +
      `"stop":{"accountSid":${this.#accountSid},"callSid":${this.#callSid}}}`
    );
  }
}
