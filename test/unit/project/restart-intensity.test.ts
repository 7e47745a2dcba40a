import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartIntensity } from '../../../src/restart-intensity.ts';

test('exhausted once max events fall within the window; events older than it are forgotten', () => {
  let now = 0;
  const intensity = new RestartIntensity({ max: 2, withinMs: 1000, now: () => now });
  assert.equal(intensity.exhausted(), false);
  intensity.record();
  now = 400;
  intensity.record();
  assert.equal(intensity.recent(), 2);
  assert.equal(intensity.exhausted(), true);
  now = 1000;
  // The first is exactly a window old: it no longer counts.
  assert.equal(intensity.recent(), 1);
  assert.equal(intensity.exhausted(), false);
  now = 1400;
  assert.equal(intensity.recent(), 0);
});

test('max 0 is exhausted from the start', () => {
  const intensity = new RestartIntensity({ max: 0, withinMs: 1000, now: () => 0 });
  assert.equal(intensity.exhausted(), true);
});

test('counted does not move the window', () => {
  let now = 0;
  const intensity = new RestartIntensity({ max: 5, withinMs: 100, now: () => now });
  intensity.record();
  now = 500;
  assert.equal(intensity.counted, 1, 'until something looks at the window');
  assert.equal(intensity.recent(), 0);
  assert.equal(intensity.counted, 0);
});
