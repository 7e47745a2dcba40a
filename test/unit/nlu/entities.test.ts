import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BUILTIN_ENTITIES,
  entityFromDtmf,
  extractBuiltin,
  extractCustom,
  type BuiltinEntity,
} from '../../../src/nlu/index.ts';

// A Wednesday late in the year, so month-day dates roll over into 2027.
const ctx = { today: '2026-11-25' };

function check(entity: BuiltinEntity, table: [string, string | null][]): void {
  for (const [said, expected] of table) {
    assert.equal(extractBuiltin(entity, said, ctx), expected, `${entity}: ${JSON.stringify(said)}`);
  }
}

test('number: digits and English words to a canonical decimal string', () => {
  check('number', [
    ['42', '42'],
    ['I want 3 pizzas', '3'],
    ['forty two', '42'],
    ['forty-two', '42'],
    ['one hundred and five', '105'],
    ['one thousand two hundred thirty four', '1234'],
    ['twenty five hundred', '2500'],
    ['a hundred', '100'],
    ['a dozen', '12'],
    ['two dozen', '24'],
    ['five thousand', '5000'],
    ['two point five', '2.5'],
    ['point five', '0.5'],
    ['three and a half', '3.5'],
    ['3.50', '3.5'],
    ['007', '7'],
    ['-7', '-7'],
    ['minus seven', '-7'],
    ['1,000 dollars', '1000'],
    ['zero', '0'],
    ['twelve', '12'],
    ['', null],
    ['no idea', null],
    // Single digits said one by one are one number; other numbers run together are a year or a price.
    ['five five five', '555'],
    ['twenty twenty', null],
    ['555-1234', null],
  ]);
});

test('digits: spoken or typed digits, "oh" as zero, "double"', () => {
  check('digits', [
    ['5551234', '5551234'],
    ['555-1234', '5551234'],
    ['five five five one two three four', '5551234'],
    ['Five, five, five. One two three four.', '5551234'],
    ['oh one two', '012'],
    ['zero zero seven', '007'],
    ['double five one', '551'],
    ['triple oh', '000'],
    ['twenty three forty five', '2345'],
    ['eight hundred five five five', '800555'],
    ['five five uh five', '555'],
    ['my pin is 4 3 2 1', '4321'],
    // "oh" starts a run only when digits follow.
    ["oh, it's nine one one", '911'],
    ['hello', null],
    ['', null],
    ['double trouble', null],
  ]);
});

test('phone_number: spoken or typed, with a leading plus kept, 3 to 15 digits', () => {
  check('phone_number', [
    ['+1 (555) 555-0100', '+15555550100'],
    ['(555) 555-0100', '5555550100'],
    ['555.555.0100', '5555550100'],
    ['555 555 0100', '5555550100'],
    ['five five five five five five oh one hundred', '5555550100'],
    ['plus one five five five five five five zero one zero zero', '+15555550100'],
    ['plus forty four twenty seven nine four six oh', '+44279460'],
    ['call me on 911', '911'],
    ['eight hundred five five five one two one two', '8005551212'],
    ['my number is 415 555 2671 thanks', '4155552671'],
    ['12', null],
    ['1234567890123456', null],
    ['no phone', null],
    ['', null],
  ]);
});

test('phone_number skips a run too short to be a number and takes the next one', () => {
  check('phone_number', [['I have 2 numbers, the first is 555 0100', '5550100']]);
});

test('date: relative days, weekdays, month names, US slashes and ISO, year inferred forward', () => {
  check('date', [
    ['today', '2026-11-25'],
    ['tomorrow', '2026-11-26'],
    ['the day after tomorrow', '2026-11-27'],
    ['yesterday', '2026-11-24'],
    ['monday', '2026-11-30'],
    ['next Monday', '2026-11-30'],
    ['on friday please', '2026-11-27'],
    // The weekday of today means the next one, a week on.
    ['wednesday', '2026-12-02'],
    ['March 3rd', '2027-03-03'],
    ['march third', '2027-03-03'],
    ['march the third', '2027-03-03'],
    ['3rd of March', '2027-03-03'],
    ['the third of march', '2027-03-03'],
    ['march twenty first', '2027-03-21'],
    ['Dec 25', '2026-12-25'],
    ['november 25th', '2026-11-25'],
    ['november 24th', '2027-11-24'],
    ['january 5th', '2027-01-05'],
    ['december 25 2027', '2027-12-25'],
    ['3/14', '2027-03-14'],
    ['12/31', '2026-12-31'],
    ['3/14/28', '2028-03-14'],
    ['2026-03-14', '2026-03-14'],
    ['the third', '2026-12-03'],
    ['on the 30th', '2026-11-30'],
    ['the thirty first', '2026-12-31'],
    ['february 29th', '2028-02-29'],
    ['february 30th', null],
    ['2026-02-30', null],
    ['14/3', null],
    ['3 people', null],
    ['may I speak to someone', null],
    ['a week from today', null],
    ['last monday', null],
    ['', null],
  ]);
});

test('date: a malformed context date yields no date instead of throwing', () => {
  assert.equal(extractBuiltin('date', 'tomorrow', { today: 'soon' }), null);
  assert.equal(extractBuiltin('date', 'tomorrow', { today: '2026-02-30' }), null);
});

test('date: tomorrow crosses month and year ends', () => {
  assert.equal(extractBuiltin('date', 'tomorrow', { today: '2026-12-31' }), '2027-01-01');
  assert.equal(extractBuiltin('date', 'tomorrow', { today: '2028-02-28' }), '2028-02-29');
});

test('time: written and spoken times to 24-hour HH:MM', () => {
  check('time', [
    ['3 pm', '15:00'],
    ['3pm', '15:00'],
    ['9 a.m.', '09:00'],
    ['3:30 pm', '15:30'],
    ['3:30', '03:30'],
    ['15:30', '15:30'],
    ['12 am', '00:00'],
    ['12 pm', '12:00'],
    ['half past two', '02:30'],
    ['half past two pm', '14:30'],
    ['quarter to five', '04:45'],
    ['a quarter past six in the evening', '18:15'],
    ['quarter to one', '12:45'],
    ['ten past three in the afternoon', '15:10'],
    ['twenty to four', '03:40'],
    ['noon', '12:00'],
    ['twelve noon', '12:00'],
    ['midnight', '00:00'],
    ["three o'clock", '03:00'],
    ['three o clock', '03:00'],
    ['three thirty', '03:30'],
    ['seven oh five pm', '19:05'],
    ['nine in the morning', '09:00'],
    ['twelve at night', '00:00'],
    ['at three', '03:00'],
    ['three', null],
    ['3 people', null],
    ['25:00', null],
    ['15 am', null],
    ['', null],
  ]);
});

test('yes and no: "true" when the utterance says it and not the other', () => {
  const table: [string, 'yes' | 'no' | null][] = [
    ['yeah sure', 'yes'],
    ['Yes, please.', 'yes'],
    ["that's right", 'yes'],
    ['no problem', 'yes'],
    ['of course', 'yes'],
    ['nope', 'no'],
    ['no thank you', 'no'],
    ["that's not right", 'no'],
    ["it isn't correct", 'no'],
    ["I don't think so", 'no'],
    ["I'm not sure", null],
    ['yes no', null],
    ['pizza', null],
    ['', null],
  ];
  for (const [said, answer] of table) {
    assert.equal(extractBuiltin('yes', said, ctx), answer === 'yes' ? 'true' : null, `yes: ${said}`);
    assert.equal(extractBuiltin('no', said, ctx), answer === 'no' ? 'true' : null, `no: ${said}`);
  }
});

const sizes = { small: [], medium: ['regular'], large: ['big', 'family size'], 'extra large': ['huge'] };

test('custom entities: canonical name or synonym as whole words, longest match wins', () => {
  const table: [string, string | null][] = [
    ['a small one', 'small'],
    ['Regular, please', 'medium'],
    ['make it BIG', 'large'],
    ['the family size', 'large'],
    ['extra large', 'extra large'],
    ['huge', 'extra large'],
    // "family size" (two words) outweighs "small" (one).
    ['family size not small', 'large'],
    // Whole words only: "smaller" is not "small", "bigger" not "big".
    ['smaller', null],
    ['bigger please', null],
    // Two different values tie: no guess.
    ['small or big', null],
    ['pepperoni', null],
    ['', null],
  ];
  for (const [said, expected] of table) assert.equal(extractCustom(sizes, said), expected, said);
});

test('custom entities: synonyms are normalized like utterances and empty ones are ignored', () => {
  const values = { 'new york': ['NYC', 'the big apple'], la: ['Los Angeles', '...'] };
  assert.equal(extractCustom(values, 'flying to nyc'), 'new york');
  assert.equal(extractCustom(values, 'The Big-Apple!'), 'new york');
  assert.equal(extractCustom(values, 'los angeles'), 'la');
  assert.equal(extractCustom(values, 'anything'), null);
  assert.equal(extractCustom({}, 'anything'), null);
});

test('keypad entries: yes is 1, no is 2, numbers lose leading zeros, dates and times need a full form', () => {
  const table: [BuiltinEntity, string, string | null][] = [
    ['yes', '1', 'true'],
    ['yes', '2', null],
    ['no', '2', 'true'],
    ['no', '1', null],
    ['number', '42', '42'],
    ['number', '007', '7'],
    ['number', '000', '0'],
    ['digits', '007', '007'],
    ['digits', '12*3', null],
    ['phone_number', '5555550100', '5555550100'],
    ['phone_number', '12', null],
    ['phone_number', '1234567890123456', null],
    ['date', '20270314', '2027-03-14'],
    ['date', '20270230', null],
    ['date', '0314', null],
    ['time', '0930', '09:30'],
    ['time', '2359', '23:59'],
    ['time', '2400', null],
    ['time', '930', null],
    ['number', '', null],
    ['number', '#', null],
  ];
  for (const [entity, digits, expected] of table) {
    assert.equal(entityFromDtmf(entity, digits), expected, `${entity}: ${digits}`);
  }
});

test('BUILTIN_ENTITIES lists every built-in entity once', () => {
  assert.deepEqual([...BUILTIN_ENTITIES].sort(), [
    'date',
    'digits',
    'no',
    'number',
    'phone_number',
    'time',
    'yes',
  ]);
});
