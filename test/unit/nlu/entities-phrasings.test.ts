/**
 * Built-in entities against realistic caller phrasings, as a speech engine writes them: number words run
 * together, "for" and "too" for digits, "oh" for zero, "a m" for "a.m.", pauses written as commas. Each table
 * has the phrasings that must be read and the ones that must not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { extractBuiltin, type BuiltinEntity } from '../../../src/nlu/index.ts';

// A Wednesday late in the year, so month-day dates roll over into 2027.
const ctx = { today: '2026-11-25' };

function check(entity: BuiltinEntity, table: readonly [string, string | null][]): void {
  for (const [said, expected] of table) {
    assert.equal(extractBuiltin(entity, said, ctx), expected, `${entity}: ${JSON.stringify(said)}`);
  }
}

test('number: single digits said one by one are one number', () => {
  check('number', [
    ['four five six', '456'],
    ['4 5 6', '456'],
    ['4-5-6', '456'],
    ['one oh one', '101'],
    ['zero zero seven', '7'],
    ['double five', '55'],
    ['it is two three', '23'],
    // "for" and "too" between spoken digits are the digits misheard.
    ['five for six', '546'],
    ['one too three', '123'],
    // At the edge of a run they are the words: not 24, 45 or 42.
    ['two for me', '2'],
    ['oh for five people', '5'],
    ['a table for two', '2'],
    // A pause written between numbers ends the run, and numbers run together are null.
    ['two, three pizzas', null],
    ['four, five, six', null],
    ['four five, six', null],
    ['four five hundred', null],
    ['one two point five', null],
    ['one two twenty', null],
  ]);
});

test('number: spoken quantities in every common form', () => {
  check('number', [
    ['3', '3'],
    ['1,200', '1200'],
    ['twenty five', '25'],
    ['twenty-five', '25'],
    ['a hundred and twenty', '120'],
    ['one hundred twenty', '120'],
    ['one thousand two hundred and five', '1205'],
    ['two thousand', '2000'],
    ['a thousand', '1000'],
    ['twelve hundred', '1200'],
    ['eleven hundred and fifty', '1150'],
    ['ten thousand five hundred', '10500'],
    ['one million two hundred thousand', '1200000'],
    ['a dozen', '12'],
    ['half a dozen eggs', '6'],
    ['two point five', '2.5'],
    ['um, like, four', '4'],
    ['about 20 or so', '20'],
    ['two or three', '2'],
    ['$25', '25'],
    ['for four people', '4'],
  ]);
});

test('number: an ordinal after "the" is its value; numbers that are years or prices are null', () => {
  check('number', [
    ['the third', '3'],
    ['the second one', '2'],
    ['the twenty first', '21'],
    ['the forth', '4'],
    // Without "the" an ordinal is not a number: "just a second", "first of all".
    ['just a second', null],
    ['first of all', null],
    ['nineteen ninety nine', null],
    ['five twenty', null],
    ['twenty twenty', null],
    ['someone', null],
    ['none', null],
    ['often', null],
    ['for', null],
    ['too', null],
    ['hundred', null],
  ]);
});

test('digits: spoken digit strings with the usual recognition quirks', () => {
  check('digits', [
    ['four five six', '456'],
    ['4-5-6', '456'],
    ['oh oh seven', '007'],
    ['double oh seven', '007'],
    ['the code is oh four', '04'],
    ['triple five two', '5552'],
    ['one, two, three', '123'],
    ['nine one one', '911'],
    ['ninety nine', '99'],
    ['zero', '0'],
    ['my account number is 1234 5678', '12345678'],
    ['five for six', '546'],
    ['one too three', '123'],
    ['five five five dash one two three four', '5551234'],
    ['five five five hyphen one two', '55512'],
    // A homophone at the edge of a run is the word it is spelt as.
    ['a table for five', '5'],
    ['oh for five people', '5'],
    // "to" is left as a word: "two to three" is a range.
    ['two to three', '2'],
    ['it is for me', null],
    ['too many', null],
    ['oh dear', null],
    ['for', null],
  ]);
});

test('phone_number: numbers read aloud in groups, with dashes, fillers and homophones', () => {
  check('phone_number', [
    ['area code four one five, five five five, two six seven one', '4155552671'],
    ['one eight hundred five five five one two one two', '18005551212'],
    ['my number is 415-555-2671', '4155552671'],
    ['four one five dash five five five dash two six seven one', '4155552671'],
    ['four one five five five five twenty six seventy one', '4155552671'],
    ['four one five, five five five, twenty-six seventy-one', '4155552671'],
    ['four one five uh five five five um two six seven one', '4155552671'],
    ['four one five five five five two for six seven', '4155552467'],
    ['five five five too one two one', '5552121'],
    ['+44 20 7946 0958', '+442079460958'],
    ['plus four four two oh seven nine four six oh nine five eight', '+442079460958'],
    ['it is 555 0100', '5550100'],
    ['oh it is five five five oh one hundred', '5550100'],
    ['twelve', null],
    ['I have two kids', null],
    ['my number is', null],
    ['1234567890123456', null],
  ]);
});

test('date: weekdays with a date, spoken years, ordinals misspelt', () => {
  check('date', [
    // The date said after a weekday decides, even when they disagree (Dec 31 2026 is a Thursday).
    ['friday the 4th', '2026-12-04'],
    ['monday the 30th', '2026-11-30'],
    ['friday december 4th', '2026-12-04'],
    ['friday the 31st', '2026-12-31'],
    ['next friday', '2026-11-27'],
    ['this friday', '2026-11-27'],
    ['on the 5th of december', '2026-12-05'],
    ['december fifth', '2026-12-05'],
    ['dec. 5', '2026-12-05'],
    ['12/5', '2026-12-05'],
    ['december 5th, 2027', '2027-12-05'],
    ['december 5 twenty twenty seven', '2027-12-05'],
    ['march third two thousand and twenty eight', '2028-03-03'],
    ['january first twenty oh eight', '2008-01-01'],
    // A number after the day that is no year is left alone.
    ['december 5th twenty people', '2026-12-05'],
    ['tomorrow morning', '2026-11-26'],
    ['the twenty second', '2026-12-22'],
    ['july fourth', '2027-07-04'],
    ['the forth of july', '2027-07-04'],
    ['on the 1st', '2026-12-01'],
    ['first of december', '2026-12-01'],
    ['december the first', '2026-12-01'],
    ['december twenty fifth', '2026-12-25'],
    ['in two days', null],
    ['next week', null],
    ['thurs', null],
    ['christmas', null],
    ['back and forth', null],
    ['friday february 30th', null],
  ]);
});

test('time: spoken and written times as engines transcribe them', () => {
  check('time', [
    ['at 3', '03:00'],
    ['around 3', '03:00'],
    ['by five', '05:00'],
    ['3 o clock', '03:00'],
    ['at three thirty', '03:30'],
    ['at five fifteen', '05:15'],
    ['6 in the evening', '18:00'],
    ['at 6 in the morning', '06:00'],
    ['at 7 tonight', '19:00'],
    ['quarter after four', '04:15'],
    ['quarter past 10', '10:15'],
    ['half past 2', '02:30'],
    ['10:00 a.m.', '10:00'],
    ['ten a m', '10:00'],
    ['six p m', '18:00'],
    ['6 P.M.', '18:00'],
    ['eight a.m.', '08:00'],
    ['nine thirty am', '09:30'],
    ['eleven forty five pm', '23:45'],
    ['at noon', '12:00'],
    ['I am free at 3', '03:00'],
    // "at for" and "at too" are "at four" and "at two" misheard.
    ['at for', '04:00'],
    ['at for thirty', '04:30'],
    ['at too', '02:00'],
    // "half three" is British for 3:30; a US caller means something else, so no guess.
    ['half three', null],
    ['about three', null],
    ['two people', null],
    ['a mile away', null],
    ['at to', null],
    ['1530', null],
  ]);
});

test('yes and no: the ways callers agree and refuse', () => {
  const table: [string, 'yes' | 'no' | null][] = [
    ['yes', 'yes'],
    ['yeah', 'yes'],
    ['yes please', 'yes'],
    ['yep that is right', 'yes'],
    ['sure thing', 'yes'],
    ['you got it', 'yes'],
    ['you bet', 'yes'],
    ['uh huh', 'yes'],
    ['mhm', 'yes'],
    ['mm-hmm', 'yes'],
    ['I think so', 'yes'],
    ['that works', 'yes'],
    ['perfect', 'yes'],
    ['sounds right', 'yes'],
    ['yeah no problem', 'yes'],
    ['okay', 'yes'],
    ['no', 'no'],
    ['nope', 'no'],
    ['no thanks', 'no'],
    ['not really', 'no'],
    ['not quite', 'no'],
    ['nuh uh', 'no'],
    ['negatory', 'no'],
    ['that is wrong', 'no'],
    ['no, that is not right', 'no'],
    ['that does not work', null],
    ["that doesn't work", null],
    ['not perfect', 'no'],
    ["I don't think so", 'no'],
    ['not at all', 'no'],
    ['wrong number', 'no'],
    // Both, neither, or unsure: no value.
    ['yes, no wait', null],
    ["I don't know", null],
    ['maybe', null],
    ['please', null],
    ['I know', null],
    ['what', null],
  ];
  for (const [said, answer] of table) {
    assert.equal(extractBuiltin('yes', said, ctx), answer === 'yes' ? 'true' : null, `yes: ${said}`);
    assert.equal(extractBuiltin('no', said, ctx), answer === 'no' ? 'true' : null, `no: ${said}`);
  }
});
