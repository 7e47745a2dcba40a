import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LoadUsageError,
  parseAllowHost,
  parseDuration,
  parseSteps,
  parseTargetUrl,
} from '../../../src/load/options.ts';
import { streamAllowed } from '../../../src/load/target.ts';

test('durations take ms, s and m, and bare numbers in the given unit', () => {
  assert.equal(parseDuration('6s', '--every'), 6000);
  assert.equal(parseDuration('500ms', '--every'), 500);
  assert.equal(parseDuration('2m', '--hold'), 120_000);
  assert.equal(parseDuration('1.5', '--hold'), 1500);
  assert.equal(parseDuration('250', '--x', 'ms'), 250);
  assert.throws(() => parseDuration('soon', '--every'), /--every takes a duration/);
  assert.throws(() => parseDuration('0s', '--every'), LoadUsageError);
});

test('steps are whole numbers that increase', () => {
  assert.deepEqual(parseSteps('50, 100,150'), [50, 100, 150]);
  assert.throws(() => parseSteps('100,50'), /must increase/);
  assert.throws(() => parseSteps('10,x'), /whole numbers/);
  assert.throws(() => parseSteps('0'), /whole numbers/);
});

test('--url is required and must be a plain http(s) base address', () => {
  assert.equal(parseTargetUrl('http://127.0.0.1:8099/'), 'http://127.0.0.1:8099');
  assert.throws(() => parseTargetUrl(undefined), /--url is required/);
  assert.throws(() => parseTargetUrl('ws://127.0.0.1:8099'), /http\(s\) address/);
  assert.throws(() => parseTargetUrl('http://h/?a=1'), /without \? or #/);
  assert.throws(() => parseAllowHost('http://h/x'), /host or host:port/);
});

test('the stream may be on the --url host and port only, unless a host is allowed by name', () => {
  const url = 'http://127.0.0.1:8099';
  assert.equal(streamAllowed('ws://127.0.0.1:8099/twilio/media', url, []), true);
  assert.equal(streamAllowed('wss://127.0.0.1:8099/twilio/media', url, []), true);
  assert.equal(streamAllowed('ws://127.0.0.1:8100/twilio/media', url, []), false, 'another port');
  assert.equal(streamAllowed('ws://localhost:8099/twilio/media', url, []), false, 'another name');
  assert.equal(streamAllowed('https://127.0.0.1:8099/twilio/media', url, []), false, 'not a websocket');
  assert.equal(streamAllowed('wss://example.com/twilio/media', 'https://example.com', []), true);
  assert.equal(
    streamAllowed('ws://example.com/twilio/media', 'https://example.com', []),
    false,
    'port 80 vs 443',
  );
  const allowed = [parseAllowHost('Agent.example.com'), parseAllowHost('10.0.0.5:9000')];
  assert.equal(streamAllowed('wss://agent.example.com/twilio/media', url, allowed), true);
  assert.equal(streamAllowed('ws://10.0.0.5:9000/twilio/media', url, allowed), true);
  assert.equal(streamAllowed('ws://10.0.0.5:9001/twilio/media', url, allowed), false);
});
