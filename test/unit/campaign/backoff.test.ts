import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DURATION_MS, parseDuration, retryDelayMs } from '../../../src/campaign/backoff.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

test('retry delays double from the base for each attempt', () => {
  const fiveMinutes = 300_000;
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, fiveMinutes, 24 * 3_600_000)),
    [300_000, 600_000, 1_200_000, 2_400_000],
  );
});

test('retry delays stop growing at the cap, an hour unless given', () => {
  assert.equal(retryDelayMs(4, 600_000), 3_600_000, '80 minutes is capped at 60');
  assert.equal(retryDelayMs(3, 600_000), 2_400_000);
  assert.equal(retryDelayMs(5, 1000, 10_000), 10_000);
  assert.equal(retryDelayMs(2000, 1000), 3_600_000, 'a huge power of two is capped too');
});

test('attempts count from 1', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => retryDelayMs(bad, 1000), RangeError, String(bad));
  }
});

test('durations are a number and a unit: ms, s, m or h', () => {
  const cases: [string, number][] = [
    ['250ms', 250],
    ['300s', 300_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    [' 10 s ', 10_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('anything else is CAMPAIGN_INVALID naming the option', () => {
  for (const bad of ['', '5', 'm', '5 minutes', '5M', '-5s', '1d', '5m30s', 'soon']) {
    assert.throws(
      () => parseDuration(bad, '--retry-delay'),
      (err) => {
        assert.ok(isSwitchboardError(err, 'CAMPAIGN_INVALID'), bad);
        assert.match(err.message, /--retry-delay is a number and a unit \(ms, s, m or h\)/);
        return true;
      },
    );
  }
});

test('a duration of zero, under a millisecond, or past what a timer can wait is refused', () => {
  assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
  for (const bad of ['0s', '0ms', '0.4ms', '597h', `${MAX_DURATION_MS + 1}ms`]) {
    assert.throws(() => parseDuration(bad), /must be at least 1ms and at most 24 days/, bad);
  }
});
