/**
 * The bidirectional Twilio Media Streams protocol: parsing what Twilio sends, encoding what we send back, and the
 * mirror image of both for the simulated caller. Inbound media arrives every 20 ms per call, so parsing is one
 * JSON.parse plus hand-written field checks, and outbound encoding is string concatenation on precomputed parts.
 */
import { SwitchboardError } from '../errors.ts';

/** A websocket maxPayload for the media socket: real messages are a few hundred bytes. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export type MediaTrack = 'inbound' | 'outbound';

/** The only audio format we accept (and the only one bidirectional streams use). */
export interface MediaFormat {
  encoding: 'audio/x-mulaw';
  sampleRate: 8000;
  channels: 1;
}

export interface ConnectedMessage {
  event: 'connected';
  protocol: string;
  version: string;
}

export interface StartMessage {
  event: 'start';
  sequenceNumber: number;
  streamSid: string;
  start: {
    streamSid: string;
    accountSid: string;
    callSid: string;
    tracks: string[];
    customParameters: Record<string, string>;
    mediaFormat: MediaFormat;
  };
}

export interface MediaMessage {
  event: 'media';
  sequenceNumber: number;
  streamSid: string;
  media: { track: MediaTrack; chunk: number; timestamp: number; payload: string };
}

export interface DtmfMessage {
  event: 'dtmf';
  sequenceNumber: number;
  streamSid: string;
  dtmf: { track: string; digit: string };
}

export interface MarkMessage {
  event: 'mark';
  sequenceNumber: number;
  streamSid: string;
  mark: { name: string };
}

export interface StopMessage {
  event: 'stop';
  sequenceNumber: number;
  streamSid: string;
  stop: { accountSid: string; callSid: string };
}

/** Everything Twilio sends on a media stream, discriminated on `event`. */
export type InboundMessage =
  ConnectedMessage | StartMessage | MediaMessage | DtmfMessage | MarkMessage | StopMessage;

/** Everything we send to Twilio on a media stream. */
export type OutboundMessage =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// Field checks. Each throws MEDIA_BAD_MESSAGE naming the field path; values go to `data`, never to the message.

function badMessage(path: string, event: string, extra: Record<string, unknown> = {}): SwitchboardError {
  return new SwitchboardError('MEDIA_BAD_MESSAGE', path, { field: path, event, ...extra });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectField(o: Json, key: string, path: string, event: string): Json {
  const v = o[key];
  if (!isObject(v)) throw badMessage(path, event);
  return v;
}

function stringField(o: Json, key: string, path: string, event: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw badMessage(path, event);
  return v;
}

/** A non-empty string: ids and names that mean nothing when empty. */
function idField(o: Json, key: string, path: string, event: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw badMessage(path, event);
  return v;
}

/**
 * Twilio sends counters as strings of digits ("42"); accept real numbers too. Digits are summed by hand: cheaper
 * than a regex test plus Number(), and it rejects "", "-1", "1e3", " 1" and "0x1" on the way.
 */
function uintField(o: Json, key: string, path: string, event: string): number {
  const v = o[key];
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    throw badMessage(path, event);
  }
  // 15 digits always fit in a safe integer.
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) throw badMessage(path, event);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw badMessage(path, event);
    n = n * 10 + d;
  }
  return n;
}

// Base64 alphabet lookup: 1 for A-Z a-z 0-9 + /, 0 otherwise.
const BASE64_CHARS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_CHARS[c.charCodeAt(0)] = 1;
const EQUALS = 61;

/** True when `s` is padded standard base64 (RFC 4648 section 4), the form Twilio sends and expects. */
export function isBase64(s: string): boolean {
  const len = s.length;
  if (len % 4 !== 0) return false;
  // Up to two '=' only at the very end.
  let end = len;
  if (end > 0 && s.charCodeAt(end - 1) === EQUALS) end--;
  if (end > 0 && s.charCodeAt(end - 1) === EQUALS) end--;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || BASE64_CHARS[c] !== 1) return false;
  }
  return true;
}

function payloadField(o: Json, path: string, event: string): string {
  const payload = stringField(o, 'payload', path, event);
  if (!isBase64(payload)) {
    throw new SwitchboardError('MEDIA_BAD_PAYLOAD', path, { field: path, event, length: payload.length });
  }
  return payload;
}

const DTMF_DIGITS = '0123456789*#ABCD';

/** True for a digit Twilio reports in a `dtmf` event: 0-9, *, # and A-D. */
export function isDtmfDigit(s: string): boolean {
  return s.length === 1 && DTMF_DIGITS.includes(s);
}

function toText(raw: string | Buffer): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  // A string's length never exceeds its UTF-8 byte count, so this never rejects a message within the limit.
  if (text.length > MAX_MESSAGE_BYTES) {
    throw new SwitchboardError('MEDIA_TOO_LARGE', undefined, {
      length: text.length,
      limit: MAX_MESSAGE_BYTES,
    });
  }
  return text;
}

function parseObject(raw: string | Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(toText(raw));
  } catch (err) {
    if (err instanceof SwitchboardError) throw err;
    throw new SwitchboardError('MEDIA_BAD_JSON', 'not JSON', {}, { cause: err });
  }
  if (!isObject(value)) throw new SwitchboardError('MEDIA_BAD_JSON', 'not a JSON object');
  return value;
}

function unknownEvent(event: unknown): SwitchboardError {
  // The event name is untrusted input: keep it out of the message and bound its size in data.
  const shown =
    typeof event === 'string' ? event.slice(0, 64) : event === undefined ? undefined : typeof event;
  return new SwitchboardError('MEDIA_UNKNOWN_EVENT', undefined, { event: shown });
}

// ---------------------------------------------------------------------------------------------------------------
// Inbound parsing (Twilio -> us)

/** Parses and validates one message Twilio sent on a media stream; throws a MEDIA_* SwitchboardError. */
export function parseInbound(raw: string | Buffer): InboundMessage {
  const o = parseObject(raw);
  const event = o.event;
  // Media first: it is ~50 messages a second, everything else a handful per call.
  switch (event) {
    case 'media':
      return parseMedia(o);
    case 'mark': {
      const mark = objectField(o, 'mark', 'mark', event);
      return {
        event,
        sequenceNumber: uintField(o, 'sequenceNumber', 'sequenceNumber', event),
        streamSid: idField(o, 'streamSid', 'streamSid', event),
        mark: { name: stringField(mark, 'name', 'mark.name', event) },
      };
    }
    case 'dtmf':
      return parseDtmf(o);
    case 'start':
      return parseStart(o);
    case 'connected':
      return {
        event,
        protocol: stringField(o, 'protocol', 'protocol', event),
        version: stringField(o, 'version', 'version', event),
      };
    case 'stop': {
      const stop = objectField(o, 'stop', 'stop', event);
      return {
        event,
        sequenceNumber: uintField(o, 'sequenceNumber', 'sequenceNumber', event),
        streamSid: idField(o, 'streamSid', 'streamSid', event),
        stop: {
          accountSid: idField(stop, 'accountSid', 'stop.accountSid', event),
          callSid: idField(stop, 'callSid', 'stop.callSid', event),
        },
      };
    }
    default:
      throw unknownEvent(event);
  }
}

function parseMedia(o: Json): MediaMessage {
  const event = 'media';
  const media = objectField(o, 'media', 'media', event);
  const track = media.track;
  if (track !== 'inbound' && track !== 'outbound') throw badMessage('media.track', event);
  return {
    event,
    sequenceNumber: uintField(o, 'sequenceNumber', 'sequenceNumber', event),
    streamSid: idField(o, 'streamSid', 'streamSid', event),
    media: {
      track,
      chunk: uintField(media, 'chunk', 'media.chunk', event),
      timestamp: uintField(media, 'timestamp', 'media.timestamp', event),
      payload: payloadField(media, 'media.payload', event),
    },
  };
}

function parseDtmf(o: Json): DtmfMessage {
  const event = 'dtmf';
  const dtmf = objectField(o, 'dtmf', 'dtmf', event);
  const digit = stringField(dtmf, 'digit', 'dtmf.digit', event);
  // The digit is caller input: never echo it, not even in data.
  if (!isDtmfDigit(digit)) throw badMessage('dtmf.digit', event);
  return {
    event,
    sequenceNumber: uintField(o, 'sequenceNumber', 'sequenceNumber', event),
    streamSid: idField(o, 'streamSid', 'streamSid', event),
    // Twilio names it "inbound_track" here, unlike media's "inbound": keep whatever it says.
    dtmf: { track: stringField(dtmf, 'track', 'dtmf.track', event), digit },
  };
}

function parseStart(o: Json): StartMessage {
  const event = 'start';
  const start = objectField(o, 'start', 'start', event);

  const tracks = start.tracks;
  if (!Array.isArray(tracks) || tracks.length === 0) throw badMessage('start.tracks', event);
  for (const t of tracks as unknown[]) if (typeof t !== 'string') throw badMessage('start.tracks', event);

  // Reuse JSON.parse's object: copying keys by assignment would let a "__proto__" key set the prototype.
  let customParameters: Record<string, string>;
  const params = start.customParameters;
  if (params === undefined) {
    customParameters = {};
  } else {
    if (!isObject(params)) throw badMessage('start.customParameters', event);
    for (const key of Object.keys(params)) {
      if (typeof params[key] !== 'string') throw badMessage('start.customParameters', event, { key });
    }
    customParameters = params as Record<string, string>;
  }

  const format = objectField(start, 'mediaFormat', 'start.mediaFormat', event);
  const encoding = stringField(format, 'encoding', 'start.mediaFormat.encoding', event);
  if (encoding !== 'audio/x-mulaw')
    throw badMessage('start.mediaFormat.encoding', event, { value: encoding });
  const sampleRate = uintField(format, 'sampleRate', 'start.mediaFormat.sampleRate', event);
  if (sampleRate !== 8000) throw badMessage('start.mediaFormat.sampleRate', event, { value: sampleRate });
  const channels = uintField(format, 'channels', 'start.mediaFormat.channels', event);
  if (channels !== 1) throw badMessage('start.mediaFormat.channels', event, { value: channels });

  return {
    event,
    sequenceNumber: uintField(o, 'sequenceNumber', 'sequenceNumber', event),
    streamSid: idField(o, 'streamSid', 'streamSid', event),
    start: {
      streamSid: idField(start, 'streamSid', 'start.streamSid', event),
      accountSid: idField(start, 'accountSid', 'start.accountSid', event),
      callSid: idField(start, 'callSid', 'start.callSid', event),
      tracks: tracks as string[],
      customParameters,
      mediaFormat: { encoding, sampleRate, channels },
    },
  };
}

/**
 * Decodes a base64 payload into `dst` without allocating and returns the number of bytes written; throws
 * MEDIA_BAD_PAYLOAD when the decoded audio would not fit (Buffer#write would silently truncate it).
 */
export function decodePayloadInto(payload: string, dst: Buffer): number {
  const len = payload.length;
  let padding = 0;
  if (len > 0 && payload.charCodeAt(len - 1) === EQUALS) padding++;
  if (len > 1 && payload.charCodeAt(len - 2) === EQUALS) padding++;
  const needed = Math.floor((len * 3) / 4) - padding;
  if (needed > dst.length) {
    throw new SwitchboardError('MEDIA_BAD_PAYLOAD', 'decoded payload does not fit the buffer', {
      needed,
      capacity: dst.length,
    });
  }
  return dst.write(payload, 0, needed, 'base64');
}

// ---------------------------------------------------------------------------------------------------------------
// Outbound encoding (us -> Twilio)

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

// ---------------------------------------------------------------------------------------------------------------
// Inbound encoding (the simulated caller speaks exactly Twilio's protocol, counters as strings)

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
      `"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},${this.#sid}}`
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
    if (!isDtmfDigit(digit))
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
