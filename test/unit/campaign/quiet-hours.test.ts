import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQuiet, nextAllowed, parseQuietHours } from '../../../src/campaign/quiet-hours.ts';
import { isTimeZone, parseTimeZone, utcOffsetMinutes, wallClock } from '../../../src/campaign/time-zone.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

const NIGHT = parseQuietHours('21:00-08:00')!;
const at = (iso: string): Date => new Date(iso);

function throwsInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(isSwitchboardError(err, 'CAMPAIGN_INVALID'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('quiet hours are HH:MM-HH:MM, may wrap midnight, and off is none', () => {
  assert.deepEqual(NIGHT, { start: 21 * 60, end: 8 * 60 });
  assert.deepEqual(parseQuietHours(' 9:30 - 17:05 '), { start: 9 * 60 + 30, end: 17 * 60 + 5 });
  assert.deepEqual(parseQuietHours('00:00-23:59'), { start: 0, end: 23 * 60 + 59 });
  assert.equal(parseQuietHours('off'), null);
  assert.equal(parseQuietHours('OFF'), null);
  for (const bad of [
    '',
    '21-08',
    '21:00',
    '24:00-08:00',
    '21:60-08:00',
    '21:00-08:00-09:00',
    '9pm-8am',
    'on',
  ]) {
    throwsInvalid(() => parseQuietHours(bad), /quiet hours are HH:MM-HH:MM/);
  }
  throwsInvalid(() => parseQuietHours('08:00-08:00'), /start and end at the same minute; for none, say off/);
});

test('across midnight: quiet from the start minute to just before the end minute, on local clocks', () => {
  // New York in January is UTC-5.
  const zone = 'America/New_York';
  assert.equal(isQuiet(NIGHT, at('2024-01-15T01:59:59Z'), zone), false, '20:59:59');
  assert.equal(isQuiet(NIGHT, at('2024-01-15T02:00:00Z'), zone), true, '21:00');
  assert.equal(isQuiet(NIGHT, at('2024-01-15T05:00:00Z'), zone), true, '00:00');
  assert.equal(isQuiet(NIGHT, at('2024-01-15T12:59:00Z'), zone), true, '07:59');
  assert.equal(isQuiet(NIGHT, at('2024-01-15T13:00:00Z'), zone), false, '08:00');
  assert.equal(isQuiet(null, at('2024-01-15T05:00:00Z'), zone), false, 'no quiet hours');
  // The same instant is quiet in one zone and not in another.
  assert.equal(isQuiet(NIGHT, at('2024-01-15T05:00:00Z'), 'Asia/Tokyo'), false, '14:00 in Tokyo');
  const day = parseQuietHours('12:00-13:00');
  assert.equal(isQuiet(day, at('2024-01-15T12:30:00Z'), 'UTC'), true);
  assert.equal(isQuiet(day, at('2024-01-15T13:00:00Z'), 'UTC'), false);
});

test('nextAllowed is the instant itself outside quiet hours, else the first minute after them', () => {
  const zone = 'America/New_York';
  const noon = at('2024-01-15T17:00:00.500Z');
  assert.equal(nextAllowed(NIGHT, noon, zone), noon);
  assert.equal(nextAllowed(null, at('2024-01-15T05:00:00Z'), zone).toISOString(), '2024-01-15T05:00:00.000Z');
  assert.equal(
    nextAllowed(NIGHT, at('2024-01-15T02:00:00Z'), zone).toISOString(),
    '2024-01-15T13:00:00.000Z',
  );
  assert.equal(
    nextAllowed(NIGHT, at('2024-01-15T12:59:30Z'), zone).toISOString(),
    '2024-01-15T13:00:00.000Z',
  );
  assert.equal(
    nextAllowed(NIGHT, at('2024-01-15T05:00:00Z'), 'Asia/Tokyo').toISOString(),
    '2024-01-15T05:00:00.000Z',
  );
  assert.equal(
    nextAllowed(NIGHT, at('2024-01-15T13:00:00Z'), 'Asia/Tokyo').toISOString(),
    '2024-01-15T23:00:00.000Z',
    '22:00 in Tokyo: allowed at 08:00 the next day (UTC+9)',
  );
});

test('spring forward: quiet hours keep to the wall clock in New York and in London', () => {
  // New York: 2024-03-10 02:00 EST becomes 03:00 EDT (UTC-5 to UTC-4).
  const ny = 'America/New_York';
  assert.equal(isQuiet(NIGHT, at('2024-03-10T11:59:00Z'), ny), true, '07:59 EDT');
  assert.equal(isQuiet(NIGHT, at('2024-03-10T12:00:00Z'), ny), false, '08:00 EDT (would be 07:00 in EST)');
  assert.equal(nextAllowed(NIGHT, at('2024-03-10T03:00:00Z'), ny).toISOString(), '2024-03-10T12:00:00.000Z');
  assert.equal(isQuiet(NIGHT, at('2024-03-11T00:59:00Z'), ny), false, '20:59 EDT');
  assert.equal(isQuiet(NIGHT, at('2024-03-11T01:00:00Z'), ny), true, '21:00 EDT');
  // London: 2024-03-31 01:00 GMT becomes 02:00 BST (UTC+0 to UTC+1).
  const london = 'Europe/London';
  assert.equal(isQuiet(NIGHT, at('2024-03-31T06:59:00Z'), london), true, '07:59 BST');
  assert.equal(isQuiet(NIGHT, at('2024-03-31T07:00:00Z'), london), false, '08:00 BST');
  assert.equal(
    nextAllowed(NIGHT, at('2024-03-30T22:30:00Z'), london).toISOString(),
    '2024-03-31T07:00:00.000Z',
  );
  // Quiet hours ending at a time the clock skips end when it jumps past it.
  const skipped = parseQuietHours('21:00-02:30');
  assert.equal(
    nextAllowed(skipped, at('2024-03-10T04:00:00Z'), ny).toISOString(),
    '2024-03-10T07:00:00.000Z',
  );
});

test('fall back: the repeated hour is read off the wall clock, and may end quiet hours early', () => {
  // New York: 2024-11-03 02:00 EDT becomes 01:00 EST (UTC-4 to UTC-5).
  const ny = 'America/New_York';
  assert.equal(isQuiet(NIGHT, at('2024-11-03T12:59:00Z'), ny), true, '07:59 EST');
  assert.equal(isQuiet(NIGHT, at('2024-11-03T13:00:00Z'), ny), false, '08:00 EST (would be 09:00 in EDT)');
  assert.equal(nextAllowed(NIGHT, at('2024-11-03T01:00:00Z'), ny).toISOString(), '2024-11-03T13:00:00.000Z');
  // 01:30-08:00: at 01:45 EDT quiet, but the clock falls back to 01:00 EST, before the start.
  const late = parseQuietHours('01:30-08:00');
  assert.equal(isQuiet(late, at('2024-11-03T05:45:00Z'), ny), true, '01:45 EDT');
  assert.equal(nextAllowed(late, at('2024-11-03T05:45:00Z'), ny).toISOString(), '2024-11-03T06:00:00.000Z');
  assert.equal(isQuiet(late, at('2024-11-03T06:30:00Z'), ny), true, '01:30 EST: quiet again');
});

test('time zones: names Intl knows, offsets from UTC, wall clocks on the h23 cycle', () => {
  assert.equal(isTimeZone('America/New_York'), true);
  assert.equal(isTimeZone('utc'), true);
  assert.equal(isTimeZone(''), false);
  assert.equal(isTimeZone('Mars/Olympus'), false);
  assert.equal(parseTimeZone(' Europe/Paris '), 'Europe/Paris');
  throwsInvalid(() => parseTimeZone('Eastern'), /"Eastern" is not a time zone: use an IANA name/);
  throwsInvalid(() => isQuiet(NIGHT, new Date(), 'Mars/Olympus'), /"Mars\/Olympus" is not a time zone/);
  assert.deepEqual(wallClock(at('2024-01-15T05:00:00Z'), 'America/New_York'), {
    year: 2024,
    month: 1,
    day: 15,
    hour: 0,
    minute: 0,
  });
  assert.equal(utcOffsetMinutes(at('2024-01-15T05:00:00Z'), 'America/New_York'), -300);
  assert.equal(utcOffsetMinutes(at('2024-07-15T05:00:00Z'), 'America/New_York'), -240);
  assert.equal(utcOffsetMinutes(at('2024-07-15T05:00:00Z'), 'Asia/Kolkata'), 330);
});

test('nextAllowed agrees with a minute-by-minute walk around clock changes in four zones', () => {
  const days = [
    ['America/New_York', '2024-03-09T12:00:00Z', '2024-11-02T12:00:00Z'],
    ['Europe/London', '2024-03-30T12:00:00Z', '2024-10-26T12:00:00Z'],
    // Lord Howe Island moves its clocks by half an hour.
    ['Australia/Lord_Howe', '2024-04-06T00:00:00Z', '2024-10-05T00:00:00Z'],
    ['Asia/Kolkata', '2024-03-09T12:00:00Z'],
  ] as const;
  const windows = ['21:00-08:00', '01:30-02:45', '00:15-23:45', '02:00-03:00'].map((w) =>
    parseQuietHours(w)!,
  );
  let checked = 0;
  for (const [zone, ...starts] of days) {
    for (const start of starts) {
      for (let t = Date.parse(start); t < Date.parse(start) + 36 * 3_600_000; t += 47 * 60_000 + 13_000) {
        for (const quiet of windows) {
          const got = nextAllowed(quiet, new Date(t), zone).getTime();
          let walk = t;
          if (isQuiet(quiet, new Date(walk), zone)) {
            walk = Math.floor(walk / 60_000) * 60_000;
            while (isQuiet(quiet, new Date(walk), zone)) walk += 60_000;
          }
          assert.equal(
            new Date(got).toISOString(),
            new Date(walk).toISOString(),
            `${zone} ${new Date(t).toISOString()}`,
          );
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 500, String(checked));
});
