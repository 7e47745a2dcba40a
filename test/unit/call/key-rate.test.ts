import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KEY_BURST, KEYS_PER_SECOND, KeyRate } from '../../../src/call/media/key-rate.ts';

test('a burst of keys is taken, a flood past it is dropped and counted, and the rate comes back with time', () => {
  const rate = new KeyRate();
  const taken = Array.from({ length: KEY_BURST + 30 }, () => rate.take(1000)).filter(Boolean).length;
  assert.equal(taken, KEY_BURST);
  assert.equal(rate.dropped, 30);
  // 100 ms later, one key's worth has come back (10 a second), and no more.
  assert.equal(rate.take(1000 + 1000 / KEYS_PER_SECOND), true);
  assert.equal(rate.take(1000 + 1000 / KEYS_PER_SECOND), false);
  // A person's pace (a key every 150 ms) is never limited, however long it goes on.
  const steady = new KeyRate();
  for (let i = 0; i < 500; i++) assert.equal(steady.take(i * 150), true, `key ${i}`);
  assert.equal(steady.dropped, 0);
});
