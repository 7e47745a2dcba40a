/**
 * Parsing what Twilio sends on a media stream. Inbound media arrives every 20 ms per call, so parsing is one
 * JSON.parse plus hand-written field checks.
 */
import { SAMPLE_RATE } from '../../audio/frames.ts';
import { isDtmfKey } from '../../common/dtmf.ts';
import {
  badMessage,
  idField,
  isObject,
  objectField,
  parseObject,
  payloadField,
  stringField,
  uintField,
  unknownEvent,
} from './fields.ts';
import type { DtmfMessage, InboundMessage, Json, MediaMessage, StartMessage } from './messages.ts';

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
  if (!isDtmfKey(digit)) throw badMessage('dtmf.digit', event);
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
  if (sampleRate !== SAMPLE_RATE)
    throw badMessage('start.mediaFormat.sampleRate', event, { value: sampleRate });
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
