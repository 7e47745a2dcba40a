import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSentences } from '../../../src/speech/tts/sentences.ts';

test('a prompt splits at sentence ends followed by a capital or a digit', () => {
  assert.deepEqual(
    splitSentences('Thanks for calling. For our opening hours, press 1. To leave a number, press 2.'),
    ['Thanks for calling.', 'For our opening hours, press 1.', 'To leave a number, press 2.'],
  );
  assert.deepEqual(splitSentences('Ready? 3 options follow!  Listen.'), [
    'Ready?',
    '3 options follow!',
    'Listen.',
  ]);
});

test('text without a boundary comes back whole, trimmed; empty text gives no sentences', () => {
  assert.deepEqual(splitSentences('  Press 1 for hours  '), ['Press 1 for hours']);
  assert.deepEqual(splitSentences('version 2.5 is out. then more'), ['version 2.5 is out. then more']);
  assert.deepEqual(splitSentences('   '), []);
});

test('abbreviations and initials do not end a sentence', () => {
  assert.deepEqual(splitSentences('Ask for Dr. Smith or J. Jones. They know.'), [
    'Ask for Dr. Smith or J. Jones.',
    'They know.',
  ]);
  assert.deepEqual(splitSentences('Bring an ID, e.g. A passport. Thanks.'), [
    'Bring an ID, e.g. A passport.',
    'Thanks.',
  ]);
});

test('closing quotes and brackets stay with their sentence', () => {
  assert.deepEqual(splitSentences('Say "yes." Then wait (briefly.) Done.'), [
    'Say "yes."',
    'Then wait (briefly.)',
    'Done.',
  ]);
});

test('joined with spaces, the sentences give back the text', () => {
  const text = 'You entered 5, 5, 5, 1. If that is right, press 1. To enter it again, press 2.';
  assert.equal(splitSentences(text).join(' '), text);
});
