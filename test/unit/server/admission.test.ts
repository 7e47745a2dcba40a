import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readJournal } from '../../../src/call/call-journal.ts';
import type { CallJournals } from '../../../src/call/journals.ts';
import { configFromEnv, type AdmissionConfig } from '../../../src/config/env.ts';
import { SwitchboardError } from '../../../src/errors.ts';
import { memoryLogger, type LogRecord } from '../../../src/observability/logger.ts';
import { createServerMetrics, Registry, type ServerMetrics } from '../../../src/observability/metrics.ts';
import {
  DEFAULT_SATURATION,
  SaturationMonitor,
  type SaturationReason,
  type SaturationSignals,
} from '../../../src/observability/saturation.ts';
import { Admission, BUSY_MESSAGE, PENDING_MS } from '../../../src/server/admission.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { testJournals } from '../../fixtures/journals.ts';

const sid = (n: number): string => 'CA' + String(n).padStart(32, '0');

interface Setup {
  admission: Admission;
  clock: ManualClock;
  live: (string | null)[];
  journals: CallJournals;
  metrics: ServerMetrics;
  records: LogRecord[];
  saturation: { reason: SaturationReason | null };
}

async function setup(config: Partial<AdmissionConfig> = {}): Promise<Setup> {
  const clock = new ManualClock();
  const live: (string | null)[] = [];
  const journals = await testJournals();
  const metrics = createServerMetrics();
  const { logger, records } = memoryLogger('debug', { showPii: true });
  const saturation: { reason: SaturationReason | null } = { reason: null };
  const admission = new Admission({
    config: { enabled: true, maxCalls: 2, busyAnswer: 'say', saturation: DEFAULT_SATURATION, ...config },
    live: () => live,
    journals,
    metrics,
    logger,
    clock,
    saturation,
  });
  return { admission, clock, live, journals, metrics, records, saturation };
}

const PII = { from: '+15555550123', to: '+15555550199' };

test('at MAX_CALLS a new call is refused with the spoken busy answer, counted, logged and journaled as refused', async () => {
  const s = await setup();
  assert.equal(await s.admission.refuseNew(sid(1), PII), null);
  assert.equal(await s.admission.refuseNew(sid(2), PII), null);
  assert.deepEqual(s.admission.readiness(), { status: 'busy', reason: 'max_calls', calls: 2, limit: 2 });

  const busy = await s.admission.refuseNew(sid(3), PII);
  assert.ok(busy);
  assert.match(busy.twiml, /<Say>Sorry, all our lines are busy\. .*<\/Say><Hangup\/>/);
  assert.ok(busy.twiml.includes(BUSY_MESSAGE));
  assert.equal(busy.why, 'All lines are busy: the server is at its call limit or saturated (max_calls)');
  assert.equal(s.metrics.callsRefused.get({ reason: 'max_calls' }), 1);

  const line = s.records.find((r) => r.msg === 'call refused: all lines busy');
  assert.ok(line);
  assert.equal(line.callId, sid(3));
  assert.equal(line.reason, 'max_calls');
  assert.deepEqual(line.pii, PII);
  assert.ok(!JSON.stringify({ ...line, pii: undefined }).includes('5555550123'), 'the number only under pii');

  const records = await readJournal(s.journals.store, sid(3));
  assert.equal(records.length, 1, 'the refusal is the only record');
  assert.equal(records[0]!.kind, 'end');
  assert.equal(records[0]!.kind === 'end' && records[0]!.reason, 'refused: all lines busy (max_calls)');
  assert.deepEqual(await s.journals.afterStream(sid(3)), { kind: 'ended' }, 'nothing resumes it');
  // The admitted calls have no journal from admission itself: the webhook's own admit writes theirs.
  assert.equal((await readJournal(s.journals.store, sid(1))).length, 0);
});

test('BUSY_ANSWER=reject turns the call away with <Reject reason="busy"/>', async () => {
  const s = await setup({ maxCalls: 1, busyAnswer: 'reject' });
  assert.equal(await s.admission.refuseNew(sid(1), {}), null);
  const busy = await s.admission.refuseNew(sid(2), {});
  assert.ok(busy);
  assert.match(busy.twiml, /<Response><Reject reason="busy"\/><\/Response>$/);
  assert.ok(!busy.twiml.includes('<Say>'));
});

test('an admitted call whose stream never starts stops counting after PENDING_MS', async () => {
  const s = await setup();
  await s.admission.refuseNew(sid(1), {});
  await s.admission.refuseNew(sid(2), {});
  assert.equal(s.admission.refusal(), 'max_calls');
  s.clock.advance(PENDING_MS - 1);
  assert.equal(s.admission.calls, 2, 'still counted just before it expires');
  s.clock.advance(1);
  assert.equal(s.admission.calls, 0);
  assert.equal(await s.admission.refuseNew(sid(3), {}), null, 'a new call is admitted again');
});

test('a call counts once: from admission, then as its live session, never twice', async () => {
  const s = await setup();
  await s.admission.refuseNew(sid(1), {});
  s.live.push(sid(1));
  assert.equal(s.admission.calls, 1);
  // Past the pending time it still counts, as the live session it now is.
  s.clock.advance(PENDING_MS * 2);
  assert.equal(s.admission.calls, 1);
  assert.equal(await s.admission.refuseNew(sid(2), {}), null);
  // The session ended: one call left, so a third is admitted.
  s.live.splice(0, 1);
  assert.equal(s.admission.calls, 1);
  assert.equal(await s.admission.refuseNew(sid(3), {}), null);
  assert.ok(await s.admission.refuseNew(sid(4), {}), 'two counted again: the fourth is refused');
});

test('a call whose stream started in another worker stops counting here at once', async () => {
  const s = await setup();
  await s.admission.refuseNew(sid(1), {});
  await s.admission.refuseNew(sid(2), {});
  assert.equal(s.admission.refusal(), 'max_calls');
  s.admission.startedElsewhere(sid(1));
  assert.equal(s.admission.calls, 1, 'counted by the worker its stream runs on, not twice');
  assert.equal(await s.admission.refuseNew(sid(3), {}), null);
});

test('resumes come first: admitted at the limit and counted, so new calls wait', async () => {
  const s = await setup();
  s.live.push(sid(1), sid(2));
  assert.equal(s.admission.refusal(), 'max_calls');
  s.admission.resumed(sid(9));
  assert.equal(s.admission.calls, 3, 'the resume is counted over the limit');
  s.live.splice(0, 1);
  assert.equal(s.admission.calls, 2, 'one call ended, but the resume still holds a place');
  assert.ok(await s.admission.refuseNew(sid(3), {}), 'a new call is still refused');
  s.live.push(sid(9));
  s.live.splice(0, 1);
  assert.equal(s.admission.calls, 1);
  assert.equal(await s.admission.refuseNew(sid(4), {}), null);
});

test('saturation refuses new calls under the limit, with its reason; ADMISSION=off refuses nothing', async () => {
  const s = await setup({ maxCalls: null });
  assert.equal(await s.admission.refuseNew(sid(1), {}), null);
  s.saturation.reason = 'loop_delay';
  assert.deepEqual(s.admission.readiness(), { status: 'busy', reason: 'loop_delay', calls: 1, limit: null });
  assert.ok(await s.admission.refuseNew(sid(2), {}));
  assert.equal(s.metrics.callsRefused.get({ reason: 'loop_delay' }), 1);
  s.saturation.reason = null;
  assert.equal(s.admission.readiness().status, 'ready');

  const off = await setup({ enabled: false, maxCalls: null });
  off.saturation.reason = 'frames_late';
  off.live.push(sid(1), sid(2), sid(3));
  assert.equal(await off.admission.refuseNew(sid(4), {}), null);
  assert.deepEqual(off.admission.readiness(), { status: 'ready', calls: 4, limit: null });
});

test('the softphone placing a call at the limit gets HTTP_BUSY, retryable, and nothing is journaled', async () => {
  const s = await setup({ maxCalls: 1 });
  s.admission.admitPlaced(sid(1));
  assert.throws(
    () => s.admission.admitPlaced(sid(2)),
    (err: unknown) => err instanceof SwitchboardError && err.code === 'HTTP_BUSY' && err.retryable,
  );
  assert.equal(s.metrics.callsRefused.get({ reason: 'max_calls' }), 1);
  assert.equal(await s.journals.store.summary(sid(2)), null);
});

test('a refusal never writes into a call that already has a journal', async () => {
  const s = await setup({ maxCalls: 1 });
  s.live.push(sid(5));
  await s.journals.admit(sid(1));
  assert.ok(await s.admission.refuseNew(sid(1), {}));
  assert.equal((await readJournal(s.journals.store, sid(1))).length, 0);
  assert.equal((await s.journals.store.summary(sid(1)))?.ended, false);
});

/** Signals a test sets window by window: the loop delay, and counters it adds to. */
function signals(): SaturationSignals & { delay: number; late: number; lost: number } {
  const sig = {
    delay: 0,
    late: 0,
    lost: 0,
    loopDelayMs: () => sig.delay,
    framesLate: () => sig.late,
    dropped: () => sig.lost,
  };
  return sig;
}

test('saturation: 2 windows over a threshold to saturate, 3 windows under half of every one to clear', () => {
  const clock = new ManualClock();
  const sig = signals();
  const seen: boolean[] = [];
  const monitor = new SaturationMonitor({
    signals: sig,
    thresholds: { loopDelayMs: 40, framesLatePerS: 50, droppedPerS: 20, slowTurnsShare: 0.1 },
    clock,
    onSample: (_s, saturated) => seen.push(saturated),
  });
  monitor.start();
  sig.delay = 60;
  clock.advance(1000);
  assert.equal(monitor.saturated, false, 'one window over is a blip');
  sig.delay = 10;
  clock.advance(1000);
  sig.delay = 60;
  clock.advance(1000);
  assert.equal(monitor.saturated, false, 'over, under, over: never two in a row');
  clock.advance(1000);
  assert.equal(monitor.reason, 'loop_delay');
  sig.delay = 30; // under the threshold, but not under half of it
  clock.advance(5000);
  assert.equal(monitor.saturated, true, 'between half and the threshold it stays saturated');
  sig.delay = 19;
  clock.advance(2000);
  assert.equal(monitor.saturated, true, 'two calm windows are not enough');
  clock.advance(1000);
  assert.equal(monitor.saturated, false);
  assert.equal(monitor.reason, null);
  assert.equal(seen.length, 12);
  monitor.stop();
  clock.advance(5000);
  assert.equal(seen.length, 12, 'stopped: no more windows');
});

test('saturation reads counters as rates: late frames and dropped audio per second', () => {
  const clock = new ManualClock();
  const sig = signals();
  sig.late = 1_000_000; // totals since start do not count, only what is added during a window
  const monitor = new SaturationMonitor({
    signals: sig,
    thresholds: DEFAULT_SATURATION,
    clock,
    windowMs: 2000,
  });
  monitor.start();
  sig.late += 2 * 40; // 40 a second: under 50
  clock.advance(2000);
  assert.equal(monitor.last.framesLatePerS, 40);
  sig.late += 2 * 60;
  clock.advance(2000);
  sig.late += 2 * 60;
  clock.advance(2000);
  assert.equal(monitor.reason, 'frames_late');

  const sig2 = signals();
  const dropping = new SaturationMonitor({ signals: sig2, thresholds: DEFAULT_SATURATION, clock });
  dropping.start();
  sig2.lost += 25;
  clock.advance(1000);
  sig2.lost += 25;
  clock.advance(1000);
  assert.equal(dropping.reason, 'audio_dropped');
  assert.equal(dropping.last.droppedPerS, 25);
  // A counter that goes back (an engine restarted) is no drop at all, not a negative rate.
  sig2.lost = 0;
  clock.advance(1000);
  assert.equal(dropping.last.droppedPerS, 0);
  monitor.stop();
  dropping.stop();
});

test('saturation: slow turns, a share of each window with enough turns, saturate a process whose loop is idle', () => {
  const clock = new ManualClock();
  const turns = { total: 0, slow: 0 };
  const monitor = new SaturationMonitor({
    signals: { loopDelayMs: () => 1, framesLate: () => 0, dropped: () => 0, turns: () => turns },
    thresholds: DEFAULT_SATURATION,
    clock,
  });
  const window = (total: number, slow: number): void => {
    turns.total += total;
    turns.slow += slow;
    clock.advance(1000);
    monitor.sample();
  };
  window(2, 2);
  window(2, 2);
  assert.equal(monitor.reason, null, 'two turns a window say nothing');
  window(10, 2);
  assert.equal(monitor.last.slowTurnsShare, 0.2);
  assert.equal(monitor.reason, null, 'one window over is not enough');
  window(10, 3);
  assert.equal(monitor.reason, 'slow_turns');
  window(10, 0);
  window(10, 0);
  assert.equal(monitor.reason, 'slow_turns', 'clears after 3 calm windows, not 2');
  window(10, 0);
  assert.equal(monitor.reason, null);
});

test('a histogram counts its observations over a bucket bound', () => {
  const registry = new Registry();
  const h = registry.histogram('t_ms', 'T', [100, 1000]);
  for (const v of [50, 500, 1000, 1001, 5000]) h.observe(v);
  assert.equal(h.countOver(1000), 2);
  assert.equal(h.countOver(100), 4);
  assert.throws(() => h.countOver(250), RangeError);
});

test('configFromEnv: MAX_CALLS, ADMISSION, BUSY_ANSWER and the thresholds, bad values named', () => {
  assert.deepEqual(configFromEnv({}).admission, {
    enabled: true,
    maxCalls: null,
    busyAnswer: 'say',
    saturation: DEFAULT_SATURATION,
  });
  const set = configFromEnv({
    MAX_CALLS: '120',
    BUSY_ANSWER: 'reject',
    SATURATION_LOOP_DELAY_MS: '25',
    SATURATION_FRAMES_LATE: '100',
    SATURATION_DROPPED: '5',
    SATURATION_SLOW_TURNS: '25',
  }).admission;
  assert.deepEqual(set, {
    enabled: true,
    maxCalls: 120,
    busyAnswer: 'reject',
    saturation: { loopDelayMs: 25, framesLatePerS: 100, droppedPerS: 5, slowTurnsShare: 0.25 },
  });
  assert.equal(configFromEnv({ ADMISSION: 'off' }).admission.enabled, false);
  const invalid = (env: Record<string, string>, name: RegExp): void =>
    assert.throws(
      () => configFromEnv(env),
      (err: unknown) =>
        err instanceof SwitchboardError && err.code === 'CONFIG_INVALID' && name.test(err.message),
    );
  invalid({ MAX_CALLS: '0' }, /MAX_CALLS/);
  invalid({ MAX_CALLS: 'ten' }, /MAX_CALLS/);
  invalid({ ADMISSION: 'maybe' }, /ADMISSION/);
  invalid({ BUSY_ANSWER: 'hangup' }, /BUSY_ANSWER/);
  invalid({ SATURATION_LOOP_DELAY_MS: '-1' }, /SATURATION_LOOP_DELAY_MS/);
  invalid({ ADMISSION: 'off', MAX_CALLS: '10' }, /MAX_CALLS has no effect with ADMISSION=off/);
});

test('without a configuration (an embedded app) every call is admitted, and admitted calls still expire', async () => {
  const clock = new ManualClock();
  const admission = new Admission({
    config: null,
    live: () => [],
    journals: await testJournals(),
    metrics: createServerMetrics(),
    logger: memoryLogger('debug').logger,
    clock,
  });
  for (let n = 1; n <= 5; n++) assert.equal(await admission.refuseNew(sid(n), {}), null);
  assert.deepEqual(admission.readiness(), { status: 'ready', calls: 5, limit: null });
  clock.advance(PENDING_MS);
  assert.equal(await admission.refuseNew(sid(6), {}), null);
  assert.equal(admission.calls, 1, 'the five that never streamed were forgotten');
  admission.stop();
});
