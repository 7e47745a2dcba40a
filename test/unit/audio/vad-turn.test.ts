/** The end-of-turn state machine, fed hand-made probability sequences (no audio): timings are exact. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnDetector } from '../../../src/audio/turn-detector.ts';
import type { TurnDetectorOptions, TurnEvent } from '../../../src/audio/turn-detector.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

/** Feeds [probability, frames] runs of 20 ms frames from t=0; returns every event. */
function run(runs: [number, number][], options: TurnDetectorOptions = {}, frameMs = 20): TurnEvent[] {
  const turns = new TurnDetector({ frameMs, ...options });
  const events: TurnEvent[] = [];
  let t = 0;
  for (const [p, frames] of runs) {
    for (let i = 0; i < frames; i++) {
      const e = turns.push(p, t);
      if (e) events.push(e);
      t += frameMs;
    }
  }
  return events;
}

test('a 150 ms burst (a cough) does not start a turn with the default 200 ms minimum', () => {
  const burst = (ms: number): TurnEvent[] =>
    run(
      [
        [0, 10],
        [1, ms / 10],
        [0, 100],
      ],
      {},
      10,
    );
  assert.deepEqual(burst(150), []);
  assert.deepEqual(burst(190), []);
  assert.deepEqual(
    burst(210).map((e) => e.type),
    ['speech-start', 'speech-end'],
  );
});

test('speech lasting the minimum starts a turn, reporting the onset and when it was decided', () => {
  const events = run([
    [0, 10],
    [0.9, 13],
    [0, 5],
  ]);
  assert.deepEqual(events, [{ type: 'speech-start', onsetMs: 200, atMs: 400 }]);
});

test('the turn ends after the silence window, measured from the end of the last voiced frame', () => {
  const events = run([
    [0, 10],
    [1, 50],
    [0, 40],
  ]);
  assert.deepEqual(events, [
    { type: 'speech-start', onsetMs: 200, atMs: 400 },
    { type: 'speech-end', reason: 'silence', onsetMs: 200, endMs: 1200, atMs: 1900 },
  ]);
});

test('pauses shorter than the silence window stay inside one turn', () => {
  const events = run([
    [1, 20],
    [0, 30],
    [1, 20],
    [0, 40],
  ]);
  assert.deepEqual(
    events.map((e) => e.type),
    ['speech-start', 'speech-end'],
  );
  assert.equal(events[1]?.type === 'speech-end' && events[1].endMs, 1400);
});

test('hysteresis: between the thresholds speech holds, but does not resume a trailing silence', () => {
  // 0.4 lies between stop (0.35) and start (0.5).
  const holds = run([
    [1, 20],
    [0.4, 50],
    [0, 40],
  ]);
  assert.equal(holds[1]?.type === 'speech-end' && holds[1].endMs, 1400, 'the 0.4 frames were speech');

  const trailing = run([
    [1, 20],
    [0.2, 10],
    [0.4, 30],
    [0, 20],
  ]);
  assert.deepEqual(trailing[1], {
    type: 'speech-end',
    reason: 'silence',
    onsetMs: 0,
    endMs: 400,
    atMs: 1100,
  });
});

test('a gap longer than maxCandidateGapMs discards a turn that has not started; a short one does not', () => {
  assert.deepEqual(
    run([
      [1, 7],
      [0, 6],
      [1, 7],
      [0, 50],
    ]),
    [],
  );
  const bridged = run([
    [1, 7],
    [0, 4],
    [1, 7],
    [0, 50],
  ]);
  assert.deepEqual(bridged[0], { type: 'speech-start', onsetMs: 0, atMs: 280 });
});

test('the silence window can change per flow state', () => {
  const turns = new TurnDetector();
  turns.setSilenceMs(2000);
  assert.equal(turns.silenceMs, 2000);
  const events: TurnEvent[] = [];
  for (let t = 0; t < 5000; t += 20) {
    const e = turns.push(t < 1000 ? 1 : 0, t);
    if (e) events.push(e);
  }
  assert.deepEqual(events[1], { type: 'speech-end', reason: 'silence', onsetMs: 0, endMs: 1000, atMs: 3000 });
  assert.throws(
    () => turns.setSilenceMs(-1),
    (err) => isSwitchboardError(err, 'VAD_CONFIG_INVALID'),
  );
});

test('a line that never goes quiet ends its turn at maxTurnMs', () => {
  const events = run([[1, 200]], { maxTurnMs: 2000 });
  assert.deepEqual(
    events.map((e) => [e.type, e.type === 'speech-end' ? e.reason : '', e.atMs]),
    [
      ['speech-start', '', 200],
      ['speech-end', 'max-turn', 2000],
      ['speech-start', '', 2200],
      ['speech-end', 'max-turn', 4000],
    ],
  );
});

test('flush ends a turn in progress, and does nothing in silence', () => {
  const turns = new TurnDetector();
  assert.equal(turns.flush(), undefined);
  for (let t = 0; t < 400; t += 20) turns.push(true, t);
  assert.equal(turns.speaking, true);
  assert.deepEqual(turns.flush(), { type: 'speech-end', reason: 'flush', onsetMs: 0, endMs: 400, atMs: 400 });
  assert.equal(turns.phase, 'silence');
});

test('32 ms Silero chunks and booleans work as well as 20 ms probabilities', () => {
  const turns = new TurnDetector();
  const events: TurnEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const e = turns.push(i >= 5 && i < 20, i * 32, 32);
    if (e) events.push(e);
  }
  assert.deepEqual(events, [
    { type: 'speech-start', onsetMs: 160, atMs: 384 },
    { type: 'speech-end', reason: 'silence', onsetMs: 160, endMs: 640, atMs: 1344 },
  ]);
});

test('NaN is never speech; frames going back in time or bad options are typed errors', () => {
  assert.deepEqual(run([[Number.NaN, 100]]), []);
  const turns = new TurnDetector();
  turns.push(0, 100);
  assert.throws(
    () => turns.push(0, 50),
    (err) => isSwitchboardError(err, 'VAD_INPUT_INVALID'),
  );
  assert.throws(
    () => turns.push(0, 200, 0),
    (err) => isSwitchboardError(err, 'VAD_INPUT_INVALID'),
  );
  assert.throws(
    () => new TurnDetector({ startThreshold: 0.3, stopThreshold: 0.6 }),
    (err) => isSwitchboardError(err, 'VAD_CONFIG_INVALID'),
  );
  assert.throws(
    () => new TurnDetector({ minSpeechMs: Number.NaN }),
    (err) => isSwitchboardError(err, 'VAD_CONFIG_INVALID'),
  );
});

test('the same input gives the same events (time comes only from the caller)', () => {
  const runs: [number, number][] = [];
  let seed = 7;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    runs.push([(seed % 100) / 100, 1 + (seed % 30)]);
  }
  const a = run(runs);
  assert.ok(a.length > 2);
  assert.deepEqual(run(runs), a);
});
