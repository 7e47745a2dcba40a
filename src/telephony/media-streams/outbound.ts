/**
 * What we send to Twilio on a media stream: encoding (string concatenation on precomputed parts, since media goes
 * out every 20 ms per call), and parsing it back for the simulated caller and tests.
 */
import { SwitchboardError } from '../../errors.ts';
import { idField, objectField, parseObject, payloadField, stringField, unknownEvent } from './fields.ts';
import type { OutboundMessage } from './messages.ts';

// Twilio's stream SIDs are "MZ" + 32 hex digits; anything alphanumeric is safe to splice into JSON unescaped.
const SAFE_SID = /^[A-Za-z0-9]+$/;

function checkSid(sid: string, path: string): void {
  if (typeof sid !== 'string' || !SAFE_SID.test(sid)) {
    throw new SwitchboardError('MEDIA_BAD_MESSAGE', path, { field: path });
  }
}

/** Builds the JSON text of the messages we send to Twilio on one stream. */
export class OutboundEncoder {
  readonly streamSid: string;
  readonly #mediaPrefix: string;
  readonly #markPrefix: string;
  readonly #clear: string;

  /** Precomputes the per-stream JSON so media() is a single concatenation. */
  constructor(streamSid: string) {
    checkSid(streamSid, 'streamSid');
    this.streamSid = streamSid;
    this.#mediaPrefix = `{"event":"media","streamSid":"${streamSid}","media":{"payload":"`;
    this.#markPrefix = `{"event":"mark","streamSid":"${streamSid}","mark":{"name":`;
    this.#clear = `{"event":"clear","streamSid":"${streamSid}"}`;
  }

  /** A media message; `base64Payload` must be standard base64 (e.g. Buffer#toString('base64')), not checked here. */
  media(base64Payload: string): string {
    return this.#mediaPrefix + base64Payload + '"}}';
  }

  /** A mark message: Twilio echoes it back once the audio sent before it has played (or was cleared). */
  mark(name: string): string {
    return this.#markPrefix + JSON.stringify(name) + '}}';
  }

  /** A clear message: drops Twilio's queued audio, for barge-in. */
  clear(): string {
    return this.#clear;
  }
}

/** Parses one message we sent to Twilio (for the simulated caller and tests); throws a MEDIA_* SwitchboardError. */
export function parseOutbound(raw: string | Buffer): OutboundMessage {
  const o = parseObject(raw);
  const event = o.event;
  switch (event) {
    case 'media': {
      const media = objectField(o, 'media', 'media', event);
      return {
        event,
        streamSid: idField(o, 'streamSid', 'streamSid', event),
        media: { payload: payloadField(media, 'media.payload', event) },
      };
    }
    case 'mark': {
      const mark = objectField(o, 'mark', 'mark', event);
      return {
        event,
        streamSid: idField(o, 'streamSid', 'streamSid', event),
        mark: { name: stringField(mark, 'name', 'mark.name', event) },
      };
    }
    case 'clear':
      return { event, streamSid: idField(o, 'streamSid', 'streamSid', event) };
    default:
      throw unknownEvent(event);
  }
}
