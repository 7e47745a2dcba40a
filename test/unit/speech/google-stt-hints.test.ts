/**
 * Google Speech-to-Text without a server: the phrase hints a listen context becomes, and the re-send ring that
 * keeps a stream's audio until a final result covers it (what is dropped and what is evicted).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import type { ListenContext } from '../../../src/speech/stt/engine.ts';
import { GOOGLE_STT_MAX_PHRASES, ResendRing, speechContexts } from '../../../src/speech/stt/google.ts';

const FRAME = FRAME_SAMPLES;
const CLOSED: ListenContext = {
  kind: 'closed',
  phrases: ['pizza', 'pasta', 'salad'],
  numbers: false,
  domain: ['pizza', 'pasta', 'salad', 'delivery'],
};

test('the re-send ring counts drops of unsent frames and evictions of sent ones', () => {
  const ring = new ResendRing(3 * FRAME);
  const f = (at: number) => ({ at: at * FRAME, mulaw: new Uint8Array(FRAME) });
  for (let i = 0; i < 3; i++) ring.push(f(i));
  ring.sent = 2;
  ring.push(f(3));
  ring.push(f(4));
  assert.equal(ring.length, 3);
  assert.equal(ring.evicted, 2);
  assert.equal(ring.dropped, 0);
  assert.equal(ring.sent, 0);
  ring.push(f(5));
  assert.equal(ring.dropped, 1);
  assert.equal(ring.at(0).at, 3 * FRAME);
  ring.sent = 1;
  ring.trimUntil(4 * FRAME);
  assert.equal(ring.length, 2);
  assert.equal(ring.sent, 0);
  // Read through a function: the assertions above narrowed the counters' types to literals.
  const given = (r: ResendRing): number => r.dropped + r.evicted;
  assert.equal(given(ring), 3, 'a final result trimming the ring is not a drop');
});

test('phrase hints: open questions use the domain unboosted, within Google limits', () => {
  const open = speechContexts({ ...CLOSED, kind: 'open' });
  assert.deepEqual(open, [{ phrases: ['pizza', 'pasta', 'salad', 'delivery'] }]);
  const many = Array.from({ length: 6000 }, (_, i) => `phrase ${i}`);
  const long = 'x'.repeat(101);
  const capped = speechContexts({ ...CLOSED, phrases: [long, ...many] });
  assert.equal(capped[0]!.phrases.length, GOOGLE_STT_MAX_PHRASES);
  assert.ok(!capped[0]!.phrases.includes(long));
  assert.deepEqual(speechContexts({ ...CLOSED, phrases: [] }), []);
});

test("phrase hints: a digit string's state asks for Google's digit-sequence class", () => {
  const digits = speechContexts({ ...CLOSED, phrases: ['repeat'], numbers: 'digits' });
  assert.deepEqual(digits, [{ phrases: ['$OOV_CLASS_DIGIT_SEQUENCE', 'repeat'], boost: 10 }]);
  assert.ok(!speechContexts({ ...CLOSED, numbers: true })[0]!.phrases.includes('$OOV_CLASS_DIGIT_SEQUENCE'));
});
