/** Media Streams payloads and encoders: base64, decoding into a buffer, both encoders, parseOutbound. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InboundEncoder,
  OutboundEncoder,
  decodePayloadInto,
  isBase64,
  parseInbound,
  parseOutbound,
} from '../../../src/telephony/media-streams.ts';
import type { InboundMessage } from '../../../src/telephony/media-streams.ts';
import { ACCOUNT_SID, CALL_SID, STREAM_SID, throwsCode, variant } from './media-streams-fixture.ts';

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
