import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGrammar } from '../../../src/speech/stt/grammar.ts';
import { buildLanguageModel } from '../../../src/speech/stt/language-model.ts';
import { searchSource, searchSpec } from '../../../src/speech/stt/search.ts';
import { NUMBER_WORDS, phraseWords, spokenNumber } from '../../../src/speech/stt/words.ts';

const DICT = new Set([
  'yes',
  'no',
  'large',
  'pizza',
  'talk',
  'to',
  'a',
  'person',
  "don't",
  'and',
  ...NUMBER_WORDS,
]);
const known = (w: string): boolean => DICT.has(w);

test('phraseWords lower-cases, keeps inner apostrophes and spells numerals', () => {
  assert.deepEqual(phraseWords('Yes, PLEASE!'), ['yes', 'please']);
  assert.deepEqual(phraseWords('I don’t know'), ['i', "don't", 'know']);
  assert.deepEqual(phraseWords('2 large pizzas'), ['two', 'large', 'pizzas']);
  assert.deepEqual(phraseWords('salt & pepper'), ['salt', 'and', 'pepper']);
  assert.deepEqual(phraseWords('room b12'), ['room', 'b', 'twelve']);
  assert.deepEqual(phraseWords('...'), []);
});

test('spokenNumber says quantities as words and long or zero-led strings digit by digit', () => {
  assert.deepEqual(spokenNumber('0'), ['zero']);
  assert.deepEqual(spokenNumber('42'), ['forty', 'two']);
  assert.deepEqual(spokenNumber('1905'), ['one', 'thousand', 'nine', 'hundred', 'five']);
  assert.deepEqual(spokenNumber('07'), ['zero', 'seven']);
  assert.deepEqual(spokenNumber('123456'), ['one', 'two', 'three', 'four', 'five', 'six']);
});

test('buildGrammar lists the phrases, deduplicated, as alternatives', () => {
  const g = buildGrammar({ phrases: [['yes'], ['no'], ['yes'], ['large', 'pizza']], numbers: false }, known);
  assert.ok(g);
  assert.deepEqual(g.phrases, ['yes', 'no', 'large pizza']);
  assert.match(g.jsgf, /^#JSGF V1\.0;\ngrammar switchboard;\n/);
  assert.match(g.jsgf, /^<answer> = yes \| no \| large pizza;$/m);
  assert.deepEqual(g.unknownWords, []);
});

test('buildGrammar lets an answer come with words around it, less likely than the answer alone', () => {
  const g = buildGrammar({ phrases: [['large'], ['small']], numbers: false }, () => true);
  assert.ok(g);
  assert.match(
    g.jsgf,
    /^public <utterance> = \/20\/ <answer> \| \/1\/ <before> <answer> \| \/1\/ <answer> <after> \| \/1\/ <before> <answer> <after>;$/m,
  );
  assert.match(g.jsgf, /^<before> = .*\bi would like a\b.*;$/m);
  assert.match(g.jsgf, /^<after> = please \| .*;$/m);
  for (const word of ['please', 'would', 'thanks']) assert.ok(g.words.includes(word), word);
  // A carrier with a word the dictionary lacks is left out rather than breaking the grammar.
  const few = buildGrammar({ phrases: [['large']], numbers: false }, (w) => w !== 'please');
  assert.ok(few);
  assert.doesNotMatch(few.jsgf, /please/);
  const none = buildGrammar({ phrases: [['large']], numbers: false }, (w) => w === 'large');
  assert.ok(none);
  assert.match(none.jsgf, /^public <utterance> = \/20\/ <answer>;$/m);
});

test('buildGrammar drops words missing from the dictionary and skips phrases left empty', () => {
  const g = buildGrammar({ phrases: [['talk', 'to', 'zorblax'], ['qwxz'], ['yes']], numbers: false }, known);
  assert.ok(g);
  assert.deepEqual(g.phrases, ['talk to', 'yes']);
  assert.deepEqual(g.unknownWords.sort(), ['qwxz', 'zorblax']);
  assert.equal(buildGrammar({ phrases: [['qwxz']], numbers: false }, known), null);
});

test('buildGrammar adds any run of number words when numbers may be spoken', () => {
  const g = buildGrammar({ phrases: [['yes']], numbers: true }, known);
  assert.ok(g);
  assert.match(g.jsgf, /^<answer> = yes;$/m);
  // A run of numbers is an alternative of its own; where numbers are expected, nothing is carried.
  assert.match(g.jsgf, /^public <utterance> = \/20\/ <answer> \| \/20\/ <numbers>;$/m);
  assert.match(g.jsgf, /^<numbers> = <number>\+;$/m);
  assert.doesNotMatch(g.jsgf, /<before>|<after>/);
  assert.match(g.jsgf, /<number> = zero \| one \| two .*\| nine \| oh .*;/);
  assert.ok(g.words.includes('four'));
  const onlyNumbers = buildGrammar({ phrases: [], numbers: true }, known);
  assert.ok(onlyNumbers);
  assert.match(onlyNumbers.jsgf, /^public <utterance> = \/20\/ <numbers>;$/m);
  assert.doesNotMatch(onlyNumbers.jsgf, /<answer>|<before>|<after>/);
});

test('buildGrammar, for a digit string, hears digits only: "oh", "double five", never "ten" or "hundred"', () => {
  const g = buildGrammar({ phrases: [['say', 'that', 'again']], numbers: 'digits' }, known);
  assert.ok(g);
  assert.match(g.jsgf, /^<numbers> = <number>\+;$/m);
  assert.match(g.jsgf, /^<number> = <digit> \| \(double \| triple\) <digit>;$/m);
  assert.match(
    g.jsgf,
    /^<digit> = zero \| one \| two \| three \| four \| five \| six \| seven \| eight \| nine \| oh;$/m,
  );
  for (const word of ['ten', 'hundred', 'twenty', 'and', 'point']) assert.ok(!g.words.includes(word), word);
  assert.doesNotMatch(g.jsgf, /<before>|<after>/);
});

test('searchSource gives a digit state digit words in its domain model too', () => {
  const spec = searchSpec({ kind: 'open', phrases: [], numbers: 'digits', domain: ['large pizza'] });
  const source = searchSource(spec, known);
  assert.equal(source.type, 'arpa');
  assert.ok(source.type === 'arpa' && source.words.includes('oh') && !source.words.includes('hundred'));
  assert.notEqual(
    spec.key,
    searchSpec({ kind: 'open', phrases: [], numbers: true, domain: ['large pizza'] }).key,
  );
});

test('buildGrammar never writes a JSGF special character as a word', () => {
  const g = buildGrammar({ phrases: [['a;b', 'yes'], ['<x>']], numbers: false }, () => true);
  assert.ok(g);
  assert.deepEqual(g.phrases, ['yes']);
});

test('buildLanguageModel writes a consistent ARPA bigram model', () => {
  const arpa = buildLanguageModel([['yes'], ['no'], ['large', 'pizza']]);
  assert.ok(arpa);
  assert.match(arpa, /^\\data\\\nngram 1=6\nngram 2=7\n/);
  assert.match(arpa, /^-99 <s> /m);
  assert.match(arpa, /^-0\.301030 large pizza$/m);
  assert.ok(arpa.trimEnd().endsWith('\\end\\'));
  // Unigram probabilities of the predicted words sum to one.
  const uni = [...arpa.matchAll(/^(-\d+\.\d+) (\S+)/gm)].filter((m) => m[2] !== '<s>');
  const total = uni.slice(0, 5).reduce((sum, m) => sum + 10 ** Number(m[1]), 0);
  assert.ok(Math.abs(total - 1) < 1e-4, `unigrams sum to ${total}`);
  assert.equal(buildLanguageModel([[]]), null);
});

test('searchSpec names searches by content and picks grammar, domain model or generic model', () => {
  const a = searchSpec({ kind: 'closed', phrases: ['Yes', 'no'], numbers: false, domain: ['x'] });
  const b = searchSpec({ kind: 'closed', phrases: ['no', 'yes!'], numbers: false, domain: ['y'] });
  assert.equal(a.key, b.key);
  assert.equal(a.kind, 'grammar');
  assert.notEqual(
    a.key,
    searchSpec({ kind: 'closed', phrases: ['yes', 'no'], numbers: true, domain: [] }).key,
  );
  assert.equal(
    searchSpec({ kind: 'closed', phrases: [], numbers: false, domain: ['large pizza'] }).kind,
    'lm',
  );
  assert.equal(searchSpec({ kind: 'open', phrases: [], numbers: false, domain: ['large pizza'] }).kind, 'lm');
  assert.equal(searchSpec({ kind: 'open', phrases: [], numbers: false, domain: [] }).kind, 'generic');
});

test('searchSource falls back to the generic model when no word is known', () => {
  const spec = searchSpec({ kind: 'closed', phrases: ['qwxz'], numbers: false, domain: [] });
  assert.deepEqual(searchSource(spec, known), { type: 'generic' });
  const lm = searchSource(
    searchSpec({ kind: 'open', phrases: [], numbers: true, domain: ['large pizza'] }),
    known,
  );
  assert.equal(lm.type, 'arpa');
  assert.ok(lm.type === 'arpa' && lm.words.includes('pizza') && lm.words.includes('seven'));
});
