import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayedText } from '../../../src/call/played-text.ts';

test('a prompt cut in its second sentence: the first whole, the share of the second that played', () => {
  const played = new PlayedText();
  // Frames 0-49 and 50-149 of the pacer's output: 1 s and 2 s.
  played.queued('Welcome to the shop.', 0, 50, null);
  played.queued('What size would you like: small, medium or large?', 50, 100, 'ask.1');
  assert.deepEqual(played.cut(100), {
    text: 'Welcome to the shop. What size would you…',
    playedMs: 2000,
    promptMs: 3000,
  });
  assert.equal(played.cut(100), null, 'a cut forgets what it reported');
});

test('a cut before a sentence has played a word, and one before anything played', () => {
  const played = new PlayedText();
  played.queued('One two three four.', 10, 100, 'a.1');
  assert.deepEqual(played.cut(12), { text: '…', playedMs: 40, promptMs: 2000 });
  played.queued('One two.', 200, 50, 'a.2');
  assert.deepEqual(played.cut(150), { text: '', playedMs: 0, promptMs: 1000 });
});

test('prompts heard to their mark are forgotten; a later cut speaks only of the prompt playing', () => {
  const played = new PlayedText();
  played.queued('First prompt.', 0, 50, 'p.1');
  played.queued('Second prompt, longer.', 50, 100, 'p.2');
  played.played('p.1');
  assert.deepEqual(played.cut(150), { text: 'Second prompt, longer.', playedMs: 2000, promptMs: 2000 });
  played.played('never-sent');
  assert.equal(played.cut(0), null);
});

test('the list of sentences is bounded', () => {
  const played = new PlayedText();
  for (let i = 0; i < 1000; i++) played.queued(`s${i}`, i * 10, 10, null);
  const heard = played.cut(1_000_000);
  assert.ok(heard);
  assert.equal(heard.text.split(' ').length, 64);
  assert.ok(heard.text.startsWith('s936 '));
});
