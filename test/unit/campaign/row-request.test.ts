import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  dialColumns,
  normalizeNumber,
  rowToDial,
  varName,
  type RowDial,
} from '../../../src/campaign/row-request.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { MAX_VAR_CHARS, MAX_VARS } from '../../../src/outbound/dial-request.ts';

function dialOf(dial: RowDial): Exclude<RowDial, { error: string }> {
  assert.ok(!('error' in dial), JSON.stringify(dial));
  return dial;
}

function errorOf(dial: RowDial): string {
  assert.ok('error' in dial, JSON.stringify(dial));
  return dial.error;
}

function throwsInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(isSwitchboardError(err, 'CAMPAIGN_INVALID'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('a row becomes the number, the time zone and the other columns as variables', () => {
  const dial = rowToDial({
    number: '+15551234567',
    timezone: 'America/Chicago',
    'first name': ' Ada ',
    'Appointment Date': 'May 3',
  });
  assert.deepEqual(dial, {
    to: '+15551234567',
    timezone: 'America/Chicago',
    vars: { first_name: 'Ada', Appointment_Date: 'May 3' },
  });
});

test('the punctuation people write in numbers is taken out', () => {
  for (const written of ['+1 (555) 123-4567', '+1.555.123.4567', ' +1 555 123 4567 ', '+1-555-123-4567']) {
    assert.equal(normalizeNumber(written), '+15551234567', written);
  }
  assert.equal(normalizeNumber('+44 20 7946 0958'), '+442079460958');
  assert.equal(normalizeNumber('+1\u00a0555\u00a0123\u00a04567'), '+15551234567', 'no-break spaces too');
});

test('a number that is not E.164 is an error naming the column, never the number', () => {
  for (const bad of [
    '(555) 987-6543',
    '5559876543',
    '+0 555 987 6543',
    '+1 555 CALL NOW',
    '',
    '+123',
    '00155512345',
  ]) {
    const error = errorOf(rowToDial({ phone: bad, name: 'x' }));
    assert.match(error, /column "phone" is not a phone number in E\.164 form/, bad);
    if (bad.trim() !== '') assert.ok(!error.includes(bad.trim()), error);
  }
});

test('the number column is number, to or phone in that order, in any case, unless one is named', () => {
  assert.equal(dialOf(rowToDial({ Phone: '+15551234567' })).to, '+15551234567');
  assert.deepEqual(rowToDial({ to: '+15551234567', phone: '+15550000000' }), {
    to: '+15551234567',
    timezone: null,
    vars: { phone: '+15550000000' },
  });
  assert.deepEqual(rowToDial({ number: '+15551234567', Mobile: '+15550000000' }, { number: 'Mobile' }), {
    to: '+15550000000',
    timezone: null,
    vars: { number: '+15551234567' },
  });
});

test('the time zone column is timezone or tz; empty means none; a name Intl does not know is an error', () => {
  assert.equal(dialOf(rowToDial({ to: '+15551234567', TZ: 'Europe/Paris' })).timezone, 'Europe/Paris');
  assert.equal(dialOf(rowToDial({ to: '+15551234567', tz: '' })).timezone, null);
  assert.equal(
    dialOf(rowToDial({ to: '+15551234567', zone: 'Asia/Tokyo' }, { timezone: 'zone' })).timezone,
    'Asia/Tokyo',
  );
  for (const bad of ['Mars/Olympus', 'New York', '+05:00', 'America/New_York x']) {
    const error = errorOf(rowToDial({ to: '+15551234567', timezone: bad }));
    assert.equal(error, 'column "timezone" is not a time zone (an IANA name such as America/New_York)');
  }
});

test('column names become variable names: letters, digits and _, never a leading digit', () => {
  assert.equal(varName('first name'), 'first_name');
  assert.equal(varName('  e-mail address '), 'e_mail_address');
  assert.equal(varName('Amount ($)'), 'Amount');
  assert.equal(varName('2nd contact'), '_2nd_contact');
  assert.equal(varName('_id'), '_id');
  assert.equal(varName('Prénom'), 'Prenom');
  assert.equal(varName('名前'), '');
});

test('empty values are left out of the variables; a value over the dial limit is an error row', () => {
  assert.deepEqual(dialOf(rowToDial({ to: '+15551234567', a: '', b: '  ', c: 'x' })).vars, { c: 'x' });
  const long = 'y'.repeat(MAX_VAR_CHARS + 1);
  assert.equal(
    errorOf(rowToDial({ to: '+15551234567', notes: long })),
    `column "notes" is over ${MAX_VAR_CHARS} characters`,
  );
});

test('dialColumns works out the header once, and rowToDial takes what it worked out', () => {
  const columns = dialColumns(['Phone', 'tz', 'first name']);
  assert.deepEqual(columns, {
    number: 'Phone',
    timezone: 'tz',
    vars: new Map([['first name', 'first_name']]),
  });
  assert.deepEqual(rowToDial({ Phone: '+15551234567', tz: 'UTC', 'first name': 'Ada' }, columns), {
    to: '+15551234567',
    timezone: 'UTC',
    vars: { first_name: 'Ada' },
  });
});

test('a header unfit to dial from is CAMPAIGN_INVALID from dialColumns, and the same error on each row', () => {
  throwsInvalid(() => dialColumns(['name', 'mobile']), /no column holds the numbers to call/);
  throwsInvalid(() => dialColumns(['name', 'number'], { number: 'mobile' }), /no column "mobile"/);
  throwsInvalid(() => dialColumns(['number'], { timezone: 'zone' }), /no column "zone"/);
  throwsInvalid(
    () => dialColumns(['number', 'first name', 'first_name']),
    /columns "first name" and "first_name" would both be variable first_name/,
  );
  throwsInvalid(() => dialColumns(['number', '名前']), /column "名前" has no letters or digits/);
  const many = ['number', ...Array.from({ length: MAX_VARS + 1 }, (_, i) => `v${i}`)];
  throwsInvalid(() => dialColumns(many), new RegExp(`a call takes at most ${MAX_VARS}`));
  assert.match(errorOf(rowToDial({ name: 'Ada', mobile: '+15551234567' })), /no column holds the numbers/);
});
