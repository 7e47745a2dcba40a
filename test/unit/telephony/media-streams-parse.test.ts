/** Parsing inbound Media Streams messages: each event, and what is refused, with the field named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSwitchboardError } from '../../../src/errors.ts';
import { MAX_MESSAGE_BYTES, parseInbound, parseOutbound } from '../../../src/telephony/media-streams.ts';
import type { InboundMessage } from '../../../src/telephony/media-streams.ts';
import {
  ACCOUNT_SID,
  CALL_SID,
  FIXTURES,
  STREAM_SID,
  throwsCode,
  variant,
  type Fixture,
} from './media-streams-fixture.ts';

test('connected parses', () => {
  assert.deepEqual(parseInbound(JSON.stringify(FIXTURES.connected)), {
    event: 'connected',
    protocol: 'Call',
    version: '1.0.0',
  });
});

test('start parses, with numeric strings turned into numbers', () => {
  const msg = parseInbound(JSON.stringify(FIXTURES.start));
  assert.deepEqual(msg, {
    event: 'start',
    sequenceNumber: 1,
    streamSid: STREAM_SID,
    start: {
      streamSid: STREAM_SID,
      accountSid: ACCOUNT_SID,
      callSid: CALL_SID,
      tracks: ['inbound'],
      customParameters: { callId: 'c-42', flow: 'dentist' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
  });
});

test('start without customParameters gets an empty object', () => {
  const msg = parseInbound(variant('start', 'start.customParameters'));
  assert.equal(msg.event, 'start');
  if (msg.event === 'start') assert.deepEqual(msg.start.customParameters, {});
});

test('a "__proto__" custom parameter stays a plain key and does not change the prototype', () => {
  const raw = variant('start', 'start.customParameters', {}).replace(
    '"customParameters":{}',
    '"customParameters":{"__proto__":"x"}',
  );
  const msg = parseInbound(raw);
  assert.equal(msg.event, 'start');
  if (msg.event !== 'start') return;
  assert.equal(Object.getPrototypeOf(msg.start.customParameters), Object.prototype);
  assert.deepEqual(Object.keys(msg.start.customParameters), ['__proto__']);
});

test('media parses from a string and from a Buffer, counters as numbers', () => {
  const expected: InboundMessage = {
    event: 'media',
    sequenceNumber: 3,
    streamSid: STREAM_SID,
    media: { track: 'inbound', chunk: 1, timestamp: 5, payload: '/////35+fn5+' },
  };
  assert.deepEqual(parseInbound(JSON.stringify(FIXTURES.media)), expected);
  assert.deepEqual(parseInbound(Buffer.from(JSON.stringify(FIXTURES.media))), expected);
});

test('counters given as real numbers are accepted too', () => {
  const raw = JSON.stringify({
    ...FIXTURES.media,
    sequenceNumber: 7,
    media: { ...FIXTURES.media.media, chunk: 2, timestamp: 123456 },
  });
  const msg = parseInbound(raw);
  assert.equal(msg.event, 'media');
  if (msg.event !== 'media') return;
  assert.equal(msg.sequenceNumber, 7);
  assert.equal(msg.media.chunk, 2);
  assert.equal(msg.media.timestamp, 123456);
});

test('large numeric strings within 15 digits parse exactly', () => {
  const msg = parseInbound(variant('media', 'media.timestamp', '999999999999999'));
  assert.equal(msg.event === 'media' && msg.media.timestamp, 999999999999999);
});

test('dtmf, mark and stop parse', () => {
  assert.deepEqual(parseInbound(JSON.stringify(FIXTURES.dtmf)), {
    event: 'dtmf',
    sequenceNumber: 5,
    streamSid: STREAM_SID,
    dtmf: { track: 'inbound_track', digit: '1' },
  });
  assert.deepEqual(parseInbound(JSON.stringify(FIXTURES.mark)), {
    event: 'mark',
    sequenceNumber: 4,
    streamSid: STREAM_SID,
    mark: { name: 'prompt-1' },
  });
  assert.deepEqual(parseInbound(JSON.stringify(FIXTURES.stop)), {
    event: 'stop',
    sequenceNumber: 5,
    streamSid: STREAM_SID,
    stop: { accountSid: ACCOUNT_SID, callSid: CALL_SID },
  });
});

test('every DTMF key parses; anything else is rejected without echoing it', () => {
  for (const digit of '0123456789*#ABCD') {
    const msg = parseInbound(variant('dtmf', 'dtmf.digit', digit));
    assert.equal(msg.event === 'dtmf' && msg.dtmf.digit, digit);
  }
  for (const digit of ['w', 'a', 'E', '', '12', ' ']) {
    assert.throws(
      () => parseInbound(variant('dtmf', 'dtmf.digit', digit)),
      (err: unknown) => {
        assert.ok(isSwitchboardError(err, 'MEDIA_BAD_MESSAGE'));
        assert.equal(err.data.field, 'dtmf.digit');
        assert.ok(!JSON.stringify(err.data).includes(`"${digit}"`) || digit === '');
        return true;
      },
    );
  }
});

test('malformed JSON and non-objects -> MEDIA_BAD_JSON', () => {
  for (const raw of [
    '',
    '{',
    '{"event":"media",}',
    'null',
    '[]',
    '42',
    '"media"',
    Buffer.from([0xff, 0x7b]),
  ]) {
    throwsCode(() => parseInbound(raw), 'MEDIA_BAD_JSON');
    throwsCode(() => parseOutbound(raw), 'MEDIA_BAD_JSON');
  }
});

test('missing or unknown event -> MEDIA_UNKNOWN_EVENT with the event in data', () => {
  throwsCode(() => parseInbound('{"streamSid":"MZ1"}'), 'MEDIA_UNKNOWN_EVENT');
  assert.throws(
    () => parseInbound('{"event":"clear","streamSid":"MZ1"}'),
    (err: unknown) => isSwitchboardError(err, 'MEDIA_UNKNOWN_EVENT') && err.data.event === 'clear',
  );
  assert.throws(
    () => parseInbound('{"event":7}'),
    (err: unknown) => isSwitchboardError(err, 'MEDIA_UNKNOWN_EVENT') && err.data.event === 'number',
  );
  // Outbound events are not inbound ones and vice versa.
  throwsCode(() => parseOutbound(JSON.stringify(FIXTURES.stop)), 'MEDIA_UNKNOWN_EVENT');
});

test('an oversized message -> MEDIA_TOO_LARGE before parsing', () => {
  const raw = variant('media', 'media.payload', 'A'.repeat(MAX_MESSAGE_BYTES));
  throwsCode(() => parseInbound(raw), 'MEDIA_TOO_LARGE');
});

// Each required field, deleted and then given the wrong type, must be reported by its path.
const REQUIRED: Array<[Fixture, string, unknown]> = [
  ['connected', 'protocol', 1],
  ['connected', 'version', null],
  ['start', 'sequenceNumber', 'one'],
  ['start', 'streamSid', 5],
  ['start', 'start', 'x'],
  ['start', 'start.streamSid', ''],
  ['start', 'start.accountSid', 1],
  ['start', 'start.callSid', {}],
  ['start', 'start.tracks', [1]],
  ['start', 'start.mediaFormat', []],
  ['start', 'start.mediaFormat.encoding', 1],
  ['start', 'start.mediaFormat.sampleRate', '8k'],
  ['start', 'start.mediaFormat.channels', -1],
  ['media', 'sequenceNumber', '-3'],
  ['media', 'streamSid', ''],
  ['media', 'media', null],
  ['media', 'media.track', 'both'],
  ['media', 'media.chunk', '1.5'],
  ['media', 'media.timestamp', '1e3'],
  ['media', 'media.payload', 42],
  ['dtmf', 'sequenceNumber', 1.5],
  ['dtmf', 'streamSid', null],
  ['dtmf', 'dtmf', 'x'],
  ['dtmf', 'dtmf.track', 1],
  ['dtmf', 'dtmf.digit', 1],
  ['mark', 'sequenceNumber', ' 4'],
  ['mark', 'streamSid', []],
  ['mark', 'mark', true],
  ['mark', 'mark.name', 1],
  ['stop', 'sequenceNumber', '0x5'],
  ['stop', 'streamSid', 1],
  ['stop', 'stop', 1],
  ['stop', 'stop.accountSid', ''],
  ['stop', 'stop.callSid', 1],
];

for (const [name, path, wrong] of REQUIRED) {
  void test(`${name}: missing or wrong ${path} -> MEDIA_BAD_MESSAGE naming it`, () => {
    throwsCode(() => parseInbound(variant(name, path)), 'MEDIA_BAD_MESSAGE', path);
    throwsCode(() => parseInbound(variant(name, path, wrong)), 'MEDIA_BAD_MESSAGE', path);
  });
}

test('custom parameters must all be strings', () => {
  throwsCode(
    () => parseInbound(variant('start', 'start.customParameters', { a: 'ok', b: 2 })),
    'MEDIA_BAD_MESSAGE',
    'start.customParameters',
  );
  throwsCode(
    () => parseInbound(variant('start', 'start.customParameters', ['x'])),
    'MEDIA_BAD_MESSAGE',
    'start.customParameters',
  );
});

test('a media format other than mu-law 8 kHz mono is rejected', () => {
  const cases: Array<[string, unknown]> = [
    ['start.mediaFormat.encoding', 'audio/l16'],
    ['start.mediaFormat.sampleRate', 16000],
    ['start.mediaFormat.channels', 2],
  ];
  for (const [path, value] of cases) {
    throwsCode(() => parseInbound(variant('start', path, value)), 'MEDIA_BAD_MESSAGE', path);
  }
  throwsCode(() => parseInbound(variant('start', 'start.tracks', [])), 'MEDIA_BAD_MESSAGE', 'start.tracks');
});
