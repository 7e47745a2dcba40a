import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_PER_SECOND, StartPacer, parseRate } from '../../../src/campaign/rate.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

/** A clock that moves only when told. */
class FakeClock {
  t = 1000;
  readonly now = (): number => this.t;
}

function throwsInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(isSwitchboardError(err, 'CAMPAIGN_INVALID'), String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('a rate is calls per second, minute or hour', () => {
  const cases: [string, number][] = [
    ['10/s', 10],
    ['1/s', 1],
    ['0.5/s', 0.5],
    ['.5/s', 0.5],
    ['30/m', 0.5],
    ['100/min', 100 / 60],
    ['3600/h', 1],
    ['2 / sec', 2],
    ['120/minute', 2],
    ['7200/hour', 2],
    ['100/s', 100],
  ];
  for (const [text, perSecond] of cases) assert.deepEqual(parseRate(text), { perSecond }, text);
});

test('anything else, zero, or over the limit is CAMPAIGN_INVALID', () => {
  for (const bad of ['', '10', 's', '10/d', '10/ms', '-1/s', '1e3/s', 'ten/s', '10/s/s', '10 per second']) {
    throwsInvalid(() => parseRate(bad), /a rate is calls per second, minute or hour/);
  }
  for (const bad of ['0/s', '0.0/m', '101/s', '6001/m', '360001/h']) {
    throwsInvalid(() => parseRate(bad), new RegExp(`must be above zero and at most ${MAX_PER_SECOND}/s`));
  }
});

test('the first start is allowed at once; each start after waits one interval', () => {
  const clock = new FakeClock();
  const pacer = new StartPacer(4, clock.now);
  assert.equal(pacer.delayMs(), 0);
  pacer.take();
  assert.equal(pacer.delayMs(), 250);
  clock.t += 100;
  assert.equal(pacer.delayMs(), 150);
  clock.t += 150;
  assert.equal(pacer.delayMs(), 0);
  pacer.take();
  assert.equal(pacer.delayMs(), 250);
});

test('starts taken as soon as allowed come evenly spaced', () => {
  const clock = new FakeClock();
  const pacer = new StartPacer(parseRate('30/m').perSecond, clock.now);
  const starts: number[] = [];
  while (starts.length < 5) {
    clock.t += pacer.delayMs();
    starts.push(clock.t);
    pacer.take();
  }
  assert.deepEqual(starts, [1000, 3000, 5000, 7000, 9000]);
});

test('an idle spell saves up no burst: the bucket holds one start', () => {
  const clock = new FakeClock();
  const pacer = new StartPacer(10, clock.now);
  pacer.take();
  clock.t += 60_000;
  assert.equal(pacer.delayMs(), 0);
  pacer.take();
  assert.equal(pacer.delayMs(), 100, 'the second start after the pause still waits its interval');
});

test('a start taken early still counts, so starts never run ahead of the rate', () => {
  const clock = new FakeClock();
  const pacer = new StartPacer(1, clock.now);
  pacer.take();
  pacer.take();
  pacer.take();
  assert.equal(pacer.delayMs(), 3000);
  clock.t += 2500;
  assert.equal(pacer.delayMs(), 500);
});

test('over a long run, starts keep to the rate whatever the waits', () => {
  const clock = new FakeClock();
  const pacer = new StartPacer(7, clock.now);
  const start = clock.t;
  for (let i = 0; i < 700; i++) {
    // Waits overshoot a little, as timers do; the overshoot is not made up with a burst.
    clock.t += pacer.delayMs() + (i % 3);
    pacer.take();
  }
  const seconds = (clock.t - start) / 1000;
  assert.ok(seconds >= 99.85 && seconds < 101, `700 starts at 7/s took ${seconds}s`);
});

test('a rate of zero, below or not a number is refused', () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsInvalid(() => new StartPacer(bad), /a start rate must be above zero/);
  }
});

test('without a clock given, the pacer runs on performance.now', () => {
  const pacer = new StartPacer(1);
  pacer.take();
  const delay = pacer.delayMs();
  assert.ok(delay > 900 && delay <= 1000, String(delay));
});
