/**
 * Fuzz target: what Twilio sends on a media stream. An input is one stream, a message per line. Each line is
 * parsed (parseInbound, and parseOutbound as the simulated caller would), put through the stream's order
 * (StreamProtocol) and its payload decoded into a buffer the size the call's hearing uses, until the first
 * refused message ends the stream as it ends a call. Only MEDIA_* errors may come out, and every message that
 * parses must come back the same when written again, by JSON and by the encoders of both directions.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { StreamProtocol } from '../../../src/call/media/stream-protocol.ts';
import { DTMF_KEYS } from '../../../src/common/dtmf.ts';
import {
  InboundEncoder,
  MAX_MESSAGE_BYTES,
  OutboundEncoder,
  decodePayloadInto,
  parseInbound,
  parseOutbound,
  type InboundMessage,
} from '../../../src/telephony/media-streams.ts';
import { check, codesOf, typed, type FuzzTarget } from '../target.ts';

const MEDIA = codesOf('MEDIA', 'DTMF');
/** As big as CallHearing's: a payload that parsed must always fit it. */
const HEARING_BUFFER = Buffer.alloc(Math.ceil((MAX_MESSAGE_BYTES * 3) / 4));

const sid = (prefix: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(`${prefix}0123456789abcdef0123456789abcdef`),
    fc.stringMatching(new RegExp(`^${prefix}[0-9a-f]{1,32}$`)),
    fc.string({ maxLength: 8 }),
  );

type Step =
  | { kind: 'connected' | 'stop' }
  | { kind: 'start'; params: Record<string, string>; tracks: string[] }
  | { kind: 'media'; payload: string; timestamp: number; track: 'inbound' | 'outbound' }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'mark'; name: string }
  | { kind: 'raw'; text: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'connected' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      params: fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 24 }), { maxKeys: 4 }),
      tracks: fc.array(fc.constantFrom('inbound', 'outbound', ''), { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('media' as const),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 480 }).map((b) => Buffer.from(b).toString('base64')),
        fc.string({ maxLength: 12 }),
      ),
      timestamp: fc.oneof(fc.nat({ max: 5000 }), fc.maxSafeNat()),
      track: fc.constantFrom('inbound' as const, 'outbound' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('dtmf' as const), digit: fc.constantFrom(...DTMF_KEYS) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('mark' as const), name: fc.string({ maxLength: 16 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'stop' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), text: fc.json({ maxDepth: 3 }) }) },
);

/** A stream as the simulated caller writes it: mostly in order, sometimes not. */
const stream: fc.Arbitrary<Buffer> = fc
  .record({
    ids: fc.record({ streamSid: sid('MZ'), callSid: sid('CA'), accountSid: sid('AC') }),
    steps: fc.array(step, { maxLength: 24 }),
    ordered: fc.boolean(),
  })
  .map(({ ids, steps, ordered }) => {
    const enc = new InboundEncoder(ids);
    const all: Step[] = ordered
      ? [{ kind: 'connected' }, { kind: 'start', params: {}, tracks: ['inbound'] }, ...steps]
      : steps;
    const lines = all.map((s): string => {
      switch (s.kind) {
        case 'connected':
          return enc.connected();
        case 'start':
          return enc.start(s.params, s.tracks);
        case 'media':
          return enc.media(s.payload, s.timestamp, s.track);
        case 'dtmf':
          return enc.dtmf(s.digit);
        case 'mark':
          return enc.mark(s.name);
        case 'stop':
          return enc.stop();
        case 'raw':
          return s.text;
      }
    });
    return Buffer.from(lines.join('\n'));
  });

/** The same message, written again by JSON and by the simulated caller's encoder, parses the same. */
function roundTrip(m: InboundMessage): void {
  const again = parseInbound(JSON.stringify(m));
  check(isDeepStrictEqual(again, m), `${m.event}: parsing its own JSON gave another message`);
  if (m.event === 'connected') return;
  const ids =
    m.event === 'start'
      ? { streamSid: m.start.streamSid, callSid: m.start.callSid, accountSid: m.start.accountSid }
      : m.event === 'stop'
        ? { streamSid: m.streamSid, callSid: m.stop.callSid, accountSid: m.stop.accountSid }
        : { streamSid: m.streamSid, callSid: 'CA1', accountSid: 'AC1' };
  const enc = new InboundEncoder(ids);
  const back = (text: string): InboundMessage => parseInbound(text);
  switch (m.event) {
    case 'start': {
      const b = back(enc.start(m.start.customParameters, m.start.tracks));
      check(b.event === 'start' && isDeepStrictEqual(b.start, m.start), 'start: encoder round trip');
      return;
    }
    case 'media': {
      const b = back(enc.media(m.media.payload, m.media.timestamp, m.media.track));
      check(
        b.event === 'media' && isDeepStrictEqual({ ...b.media, chunk: 0 }, { ...m.media, chunk: 0 }),
        'media: encoder round trip',
      );
      return;
    }
    case 'dtmf': {
      const b = back(enc.dtmf(m.dtmf.digit));
      check(b.event === 'dtmf' && b.dtmf.digit === m.dtmf.digit, 'dtmf: encoder round trip');
      return;
    }
    case 'mark': {
      const b = back(enc.mark(m.mark.name));
      check(b.event === 'mark' && b.mark.name === m.mark.name, 'mark: encoder round trip');
      return;
    }
    case 'stop': {
      const b = back(enc.stop());
      check(b.event === 'stop' && isDeepStrictEqual(b.stop, m.stop), 'stop: encoder round trip');
      return;
    }
  }
}

/** What we send, read back by the simulated caller, and written again by our encoder. */
function outbound(line: string): void {
  const m = typed(MEDIA, () => parseOutbound(line));
  if (!m || !/^[A-Za-z0-9]+$/.test(m.streamSid)) return;
  const enc = new OutboundEncoder(m.streamSid);
  const text =
    m.event === 'media'
      ? enc.media(m.media.payload)
      : m.event === 'mark'
        ? enc.mark(m.mark.name)
        : enc.clear();
  check(isDeepStrictEqual(parseOutbound(text), m), `outbound ${m.event}: encoder round trip`);
}

function run(input: Buffer): void {
  let now = 0;
  const protocol = new StreamProtocol(() => now, {
    start: (m) => protocol.live(m.start.streamSid),
    stop: () => {},
    media: (payload) => {
      const written = decodePayloadInto(payload, HEARING_BUFFER);
      check(written === Buffer.byteLength(payload, 'base64'), 'payload decoded to the wrong length');
    },
    dtmf: () => {},
    keyDropped: () => {},
    mark: () => {},
    frameIn: () => {},
  });
  const lines = input.toString('utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    now += 7;
    outbound(line);
    // Both forms the websocket hands over.
    const message = typed(MEDIA, () => parseInbound(i % 2 === 0 ? line : Buffer.from(line)));
    if (!message) return;
    roundTrip(message);
    // A message out of order ends the stream, as it ends the call.
    const taken = typed(MEDIA, () => {
      protocol.dispatch(message);
      return true;
    });
    if (!taken) return;
  }
}

export const mediaStreams: FuzzTarget = {
  name: 'media-streams',
  format: 'jsonl',
  arbitrary: stream,
  dictionary: [
    ...['event', 'media', 'start', 'stop', 'dtmf', 'mark', 'connected', 'clear'].map((w) => `"${w}"`),
    ...['sequenceNumber', 'streamSid', 'payload', 'track', 'chunk', 'timestamp', 'tracks'].map(
      (w) => `"${w}"`,
    ),
    ...['customParameters', 'mediaFormat', 'encoding', 'sampleRate', 'channels', 'digit', 'name'].map(
      (w) => `"${w}"`,
    ),
    '"audio/x-mulaw"',
    '8000',
    '"inbound"',
    '"outbound"',
    '"inbound_track"',
    '"1"',
    '==',
    '"AAAA"',
    '"callSid"',
    '"accountSid"',
  ],
  maxBytes: 8192,
  run,
};
