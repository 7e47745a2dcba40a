import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MONTH_ABBREVIATIONS, MONTH_NAMES, WEEKDAY_NAMES } from '../../../src/common/calendar.ts';
import { DTMF_KEYS, isDtmfKey } from '../../../src/common/dtmf.ts';
import { isE164 } from '../../../src/common/e164.ts';
import { escapeXml, unescapeXml } from '../../../src/common/xml.ts';

test('calendar names follow Date: months from January at 0, weekdays from Sunday at 0', () => {
  assert.equal(MONTH_NAMES.length, 12);
  assert.equal(WEEKDAY_NAMES.length, 7);
  const day = new Date(Date.UTC(2026, 11, 7));
  assert.equal(MONTH_NAMES[day.getUTCMonth()], 'December');
  assert.equal(WEEKDAY_NAMES[day.getUTCDay()], 'Monday');
  for (const [word, month] of MONTH_ABBREVIATIONS) {
    assert.ok(MONTH_NAMES[month]!.toLowerCase().startsWith(word), word);
  }
});

test('DTMF keys: the sixteen keypad keys, one at a time', () => {
  assert.equal(DTMF_KEYS.length, 16);
  for (const key of DTMF_KEYS) assert.equal(isDtmfKey(key), true, key);
  for (const other of ['', '12', 'E', 'a', ' ', '+']) assert.equal(isDtmfKey(other), false, other);
});

test('E.164: + and 7 to 15 digits, no leading zero', () => {
  assert.equal(isE164('+15555550100'), true);
  assert.equal(isE164('15555550100'), false);
  assert.equal(isE164('+05555550100'), false);
});

test('unescapeXml undoes escapeXml, and reads named and numeric references', () => {
  const nasty = `a & b < c > d " e ' f\tg\nh\ri é ✓`;
  assert.equal(unescapeXml(escapeXml(nasty)), nasty);
  assert.equal(unescapeXml('&#x41;&#66;&amp;&unknown;'), 'AB&&unknown;');
});
