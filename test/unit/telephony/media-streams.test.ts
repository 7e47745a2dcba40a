import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSwitchboardError } from '../../../src/errors.ts';
import type { ErrorCode } from '../../../src/errors.ts';
import {
  InboundEncoder,
  MAX_MESSAGE_BYTES,
  OutboundEncoder,
  decodePayloadInto,
  isBase64,
  parseInbound,
  parseOutbound,
} from '../../../src/telephony/media-streams.ts';
import type { InboundMessage } from '../../../src/telephony/media-streams.ts';

const STREAM_SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const CALL_SID = 'CA0123456789abcdef0123456789abcdef';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

// Shaped like the samples in Twilio's Media Streams docs: counters are strings, mediaFormat numbers are numbers.
const FIXTURES = {
  connected: { event: 'connected', protocol: 'Call', version: '1.0.0' },
  start: {
    event: 'start',
    sequenceNumber: '1',
    start: {
      accountSid: ACCOUNT_SID,
      streamSid: STREAM_SID,
      callSid: CALL_SID,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { callId: 'c-42', flow: 'dentist' },
    },
    streamSid: STREAM_SID,
  },
  media: {
    event: 'media',
    sequenceNumber: '3',
    media: { track: 'inbound', chunk: '1', timestamp: '5', payload: '/////35+fn5+' },
    streamSid: STREAM_SID,
  },
  dtmf: {
    event: 'dtmf',
    streamSid: STREAM_SID,
    sequenceNumber: '5',
    dtmf: { track: 'inbound_track', digit: '1' },
  },
  mark: { event: 'mark', sequenceNumber: '4', streamSid: STREAM_SID, mark: { name: 'prompt-1' } },
  stop: {
    event: 'stop',
    sequenceNumber: '5',
    streamSid: STREAM_SID,
    stop: { accountSid: ACCOUNT_SID, callSid: CALL_SID },
  },
} as const;

type Fixture = keyof typeof FIXTURES;

/** A deep copy of a fixture with `path` deleted or set to `value`. */
function variant(name: Fixture, path: string, value?: unknown): string {
  const copy = JSON.parse(JSON.stringify(FIXTURES[name])) as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return JSON.stringify(copy);
}

function throwsCode(fn: () => unknown, code: ErrorCode, detail?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isSwitchboardError(err, code), `expected ${code}, got ${String(err)}`);
    if (detail !== undefined) {
      assert.equal(err.data.field, detail);
      assert.ok(err.message.endsWith(`: ${detail}`), err.message);
    }
    return true;
  });
}

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

test('non-base64 payloads -> MEDIA_BAD_PAYLOAD', () => {
  const bad = [
    'abc', // length not a multiple of 4
    'abcde',
    'ab=c', // padding in the middle
    'a===', // too much padding
    'ab c',
    'ab-_', // base64url alphabet
    'ab\u00e9d',
    '////"===',
  ];
  for (const payload of bad) {
    assert.equal(isBase64(payload), false, payload);
    throwsCode(
      () => parseInbound(variant('media', 'media.payload', payload)),
      'MEDIA_BAD_PAYLOAD',
      'media.payload',
    );
    throwsCode(
      () => parseOutbound(JSON.stringify({ event: 'media', streamSid: STREAM_SID, media: { payload } })),
      'MEDIA_BAD_PAYLOAD',
      'media.payload',
    );
  }
  for (const payload of ['', 'AAAA', 'AA==', 'AAA=', Buffer.alloc(160, 0xff).toString('base64')]) {
    assert.equal(isBase64(payload), true, payload);
  }
});

test('decodePayloadInto writes the decoded bytes and rejects overflow', () => {
  const audio = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff));
  const dst = Buffer.alloc(160);
  assert.equal(decodePayloadInto(audio.toString('base64'), dst), 160);
  assert.deepEqual(dst, audio);

  // Padded lengths: 1 and 2 trailing bytes.
  const small = Buffer.alloc(4, 0xaa);
  assert.equal(decodePayloadInto(Buffer.from([1, 2, 3, 4]).toString('base64'), small), 4);
  assert.deepEqual([...small], [1, 2, 3, 4]);
  assert.equal(decodePayloadInto(Buffer.from([9, 8]).toString('base64'), small), 2);
  assert.deepEqual([...small], [9, 8, 3, 4]);

  const tooSmall = Buffer.alloc(159, 0x55);
  throwsCode(() => decodePayloadInto(audio.toString('base64'), tooSmall), 'MEDIA_BAD_PAYLOAD');
  assert.ok(
    tooSmall.every((b) => b === 0x55),
    'nothing written on overflow',
  );
  assert.equal(decodePayloadInto('', tooSmall), 0);
});

test('InboundEncoder speaks Twilio: string counters, sequence from 1 at start, chunks per track', () => {
  const enc = new InboundEncoder({ streamSid: STREAM_SID, callSid: CALL_SID, accountSid: ACCOUNT_SID });
  const connected = JSON.parse(enc.connected()) as Record<string, unknown>;
  assert.equal(connected.sequenceNumber, undefined);
  const start = JSON.parse(enc.start({ a: 'b' })) as Record<string, unknown>;
  assert.equal(start.sequenceNumber, '1');
  const media = JSON.parse(enc.media('AAAA', 20)) as {
    sequenceNumber: unknown;
    media: Record<string, unknown>;
  };
  assert.equal(media.sequenceNumber, '2');
  assert.deepEqual(media.media, { track: 'inbound', chunk: '1', timestamp: '20', payload: 'AAAA' });
  const second = JSON.parse(enc.media('AAAA', 40)) as { media: Record<string, unknown> };
  assert.equal(second.media.chunk, '2');
  const dtmf = JSON.parse(enc.dtmf('#')) as { dtmf: Record<string, unknown> };
  assert.deepEqual(dtmf.dtmf, { track: 'inbound_track', digit: '#' });
  throwsCode(() => enc.dtmf('x'), 'MEDIA_BAD_MESSAGE', 'dtmf.digit');
  throwsCode(() => enc.media('AAAA', -1), 'MEDIA_BAD_MESSAGE', 'media.timestamp');
  throwsCode(() => enc.media('AAAA', 1.5), 'MEDIA_BAD_MESSAGE', 'media.timestamp');
});

test('InboundEncoder output parses back to the same values', () => {
  const enc = new InboundEncoder({ streamSid: STREAM_SID, callSid: CALL_SID, accountSid: ACCOUNT_SID });
  const payload = Buffer.alloc(160, 0x7f).toString('base64');
  const params = { callId: 'c-1', note: 'quote " and \\ backslash, <xml> & ünïcödé' };
  const got = [
    enc.connected(),
    enc.start(params, ['inbound']),
    enc.media(payload, 0),
    enc.media(payload, 20),
    enc.dtmf('7'),
    enc.mark('say:1 "quoted"'),
    enc.stop(),
  ].map((raw) => parseInbound(raw));
  const expected: InboundMessage[] = [
    { event: 'connected', protocol: 'Call', version: '1.0.0' },
    {
      event: 'start',
      sequenceNumber: 1,
      streamSid: STREAM_SID,
      start: {
        streamSid: STREAM_SID,
        accountSid: ACCOUNT_SID,
        callSid: CALL_SID,
        tracks: ['inbound'],
        customParameters: params,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    },
    {
      event: 'media',
      sequenceNumber: 2,
      streamSid: STREAM_SID,
      media: { track: 'inbound', chunk: 1, timestamp: 0, payload },
    },
    {
      event: 'media',
      sequenceNumber: 3,
      streamSid: STREAM_SID,
      media: { track: 'inbound', chunk: 2, timestamp: 20, payload },
    },
    { event: 'dtmf', sequenceNumber: 4, streamSid: STREAM_SID, dtmf: { track: 'inbound_track', digit: '7' } },
    { event: 'mark', sequenceNumber: 5, streamSid: STREAM_SID, mark: { name: 'say:1 "quoted"' } },
    {
      event: 'stop',
      sequenceNumber: 6,
      streamSid: STREAM_SID,
      stop: { accountSid: ACCOUNT_SID, callSid: CALL_SID },
    },
  ];
  assert.deepEqual(got, expected);
});

test('OutboundEncoder output parses with parseOutbound', () => {
  const enc = new OutboundEncoder(STREAM_SID);
  const payload = Buffer.from([0, 1, 2, 250, 255]).toString('base64');
  assert.deepEqual(parseOutbound(enc.media(payload)), {
    event: 'media',
    streamSid: STREAM_SID,
    media: { payload },
  });
  assert.deepEqual(JSON.parse(enc.media(payload)), {
    event: 'media',
    streamSid: STREAM_SID,
    media: { payload },
  });
  const name = 'turn-3 "end" \\ \n';
  assert.deepEqual(parseOutbound(enc.mark(name)), { event: 'mark', streamSid: STREAM_SID, mark: { name } });
  assert.deepEqual(parseOutbound(Buffer.from(enc.clear())), { event: 'clear', streamSid: STREAM_SID });
});

test('OutboundEncoder refuses a stream SID it could not splice into JSON safely', () => {
  for (const sid of ['', 'MZ"1', 'MZ 1', 'MZ\\1', 'MZ-1']) {
    throwsCode(() => new OutboundEncoder(sid), 'MEDIA_BAD_MESSAGE', 'streamSid');
  }
});

test('parseOutbound reports missing fields by path', () => {
  throwsCode(() => parseOutbound('{"event":"clear"}'), 'MEDIA_BAD_MESSAGE', 'streamSid');
  throwsCode(() => parseOutbound('{"event":"media","streamSid":"MZ1"}'), 'MEDIA_BAD_MESSAGE', 'media');
  throwsCode(
    () => parseOutbound('{"event":"media","streamSid":"MZ1","media":{}}'),
    'MEDIA_BAD_MESSAGE',
    'media.payload',
  );
  throwsCode(
    () => parseOutbound('{"event":"mark","streamSid":"MZ1","mark":{}}'),
    'MEDIA_BAD_MESSAGE',
    'mark.name',
  );
});
