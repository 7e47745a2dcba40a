import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, percentiles, STALL_MS, StepRecorder } from '../../../src/load/statistics.ts';
import { formatStep, loopDelayWarning, type StepReport } from '../../../src/load/report.ts';

test('percentiles of 1..100 ms are the nearest rank', () => {
  const h = new Histogram();
  for (let ms = 1; ms <= 100; ms++) h.add(ms);
  assert.deepEqual(percentiles(h), { p50: 50, p95: 95, p99: 99 });
  assert.equal(h.count, 100);
  assert.equal(h.max, 100);
});

test('a fraction of a millisecond rounds up to the next bucket, never down', () => {
  const h = new Histogram();
  h.add(20.2);
  assert.equal(h.percentile(50), 21);
  h.add(-3);
  assert.equal(h.percentile(1), 0);
});

test('durations past ten seconds land in the last bucket and keep their true maximum', () => {
  const h = new Histogram();
  h.add(25_000);
  assert.equal(h.percentile(99), 10_000);
  assert.equal(h.max, 25_000);
});

test('an empty histogram has no percentiles and no share', () => {
  const h = new Histogram();
  assert.deepEqual(percentiles(h), { p50: null, p95: null, p99: null });
  assert.equal(h.shareWithin(1500), null);
});

test('shareWithin counts durations at or below the bound', () => {
  const h = new Histogram();
  for (const ms of [400, 900, 1500, 1501, 3000]) h.add(ms);
  assert.equal(h.shareWithin(1500), 3 / 5);
  assert.equal(h.shareWithin(10), 0);
});

test('a step counts unanswered turns, arrival gaps over 60 ms, and stalls only for breaks heard over 60 ms', () => {
  const r = new StepRecorder();
  r.turn(420);
  r.turn(null);
  r.turn(610);
  assert.equal(r.turns, 3);
  assert.equal(r.answered, 2);
  assert.equal(r.latency.count, 2);
  // A gap of 90 ms with 60 ms of audio sent ahead is a 30 ms break: late, but no stall.
  for (const [gap, heard] of [
    [20, 0],
    [21, 0],
    [STALL_MS, 0],
    [STALL_MS + 1, 0],
    [90, 30],
    [300, STALL_MS + 1],
    [STALL_MS * 2, STALL_MS],
  ] as const)
    r.frameGap(gap, heard);
  assert.equal(r.lateGaps, 4);
  assert.equal(r.stalls, 1);
  assert.equal(r.longestBreakMs, STALL_MS + 1);
  assert.equal(r.frameGaps.count, 7);
});

test('the loop-delay warning appears past 25 ms and is printed in the step', () => {
  assert.equal(loopDelayWarning(25), null);
  const warning = loopDelayWarning(40.2);
  assert.match(warning ?? '', /p99 40\.2 ms.*not the server/);
  const step: StepReport = {
    step: 2,
    target: 100,
    placed: 50,
    connected: 48,
    refused: 2,
    failed: 0,
    notConnected: { 'busy message': 2 },
    active: 98,
    endedByServer: 0,
    holdSeconds: 30,
    complete: true,
    turns: { total: 500, answered: 490, latencyMs: { p50: 800, p95: 1300, p99: 1900 }, withinTarget: 0.96 },
    agentAudio: { frameGaps: 10_000, jitterP99Ms: 24, lateGaps: 5, stalls: 3, longestBreakMs: 140 },
    server: { pid: 42, processes: 3, cores: 1.25, msPerCallSecond: 12.5, rssMiB: 512 },
    generatorLoopDelayP99Ms: 40.2,
    warning,
  };
  const text = formatStep(step);
  assert.match(text, /48 connected, 2 refused/);
  assert.match(text, /not connected {2}busy message \(2\)/);
  assert.match(text, /490\/500 answered \(98\.0%\), 96\.0% within 1\.5 s/);
  assert.match(text, /p50 800 ms {2}p95 1300 ms {2}p99 1900 ms/);
  assert.match(text, /\(5 over 60 ms\), 3 stalls \(breaks heard over 60 ms; longest 140 ms\)/);
  assert.match(text, /1\.25 cores, 12\.50 ms CPU per call-second, 512 MiB RSS/);
  assert.match(text, /WARNING .*event loop was late/);
});
