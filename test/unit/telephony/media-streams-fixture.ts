/** Shared by the media-streams-*.test.ts files: Twilio-shaped messages, their variants, error checks. */
import assert from 'node:assert/strict';
import { isSwitchboardError } from '../../../src/errors.ts';
import type { ErrorCode } from '../../../src/errors.ts';

export const STREAM_SID = 'MZ18ad3ab5a668481ce02b83e7395059f0';
export const CALL_SID = 'CA0123456789abcdef0123456789abcdef';
export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

// Shaped like the samples in Twilio's Media Streams docs: counters are strings, mediaFormat numbers are numbers.
export const FIXTURES = {
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

export type Fixture = keyof typeof FIXTURES;

/** A deep copy of a fixture with `path` deleted or set to `value`. */
export function variant(name: Fixture, path: string, value?: unknown): string {
  const copy = JSON.parse(JSON.stringify(FIXTURES[name])) as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return JSON.stringify(copy);
}

export function throwsCode(fn: () => unknown, code: ErrorCode, detail?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isSwitchboardError(err, code), `expected ${code}, got ${String(err)}`);
    if (detail !== undefined) {
      assert.equal(err.data.field, detail);
      assert.ok(err.message.endsWith(`: ${detail}`), err.message);
    }
    return true;
  });
}
