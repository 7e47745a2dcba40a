/** A call's typed events as log lines, metric updates and live-view events, by their three subscribers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallViews, type CallViewEvent } from '../../../src/call/call-view.ts';
import { logSubscriber } from '../../../src/call/media/log-subscriber.ts';
import { metricsSubscriber } from '../../../src/call/media/metrics-subscriber.ts';
import { SessionEvents, type SessionEvent } from '../../../src/call/media/session-events.ts';
import { viewSubscriber } from '../../../src/call/media/view-subscriber.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';

function stream(viewed: boolean) {
  const { logger, records } = memoryLogger('debug');
  const metrics = createServerMetrics();
  const views = new CallViews();
  const events = new SessionEvents(() => 1234);
  events.subscribe(logSubscriber(() => logger));
  events.subscribe(metricsSubscriber(metrics));
  if (viewed) {
    views.open('CA1');
    events.subscribe(viewSubscriber(views, 'CA1'));
  }
  const view = (): CallViewEvent[] => views.history('CA1');
  return { events, records, metrics, view };
}

const ended: SessionEvent = {
  type: 'call.ended',
  reason: 'caller hung up',
  wasLive: true,
  fields: {},
  durationMs: 5000,
  framesIn: 250,
  framesOut: 200,
  outOfOrderFrames: 1,
  gapFilledFrames: 0,
  keysDropped: 0,
  state: 'bye',
};

test('a barge-in is one log line and one count; the cut prompt is logged with its words redacted and viewed', () => {
  const c = stream(true);
  c.events.emit({
    type: 'prompt.cut',
    mark: 'ask.1',
    heard: 'Your number is 0…',
    playedMs: 900,
    promptMs: 2000,
  });
  c.events.emit({ type: 'barge-in', state: 'ask', marksInterrupted: ['ask.1'] });
  const cut = c.records.find((r) => r.msg === 'prompt cut short');
  assert.equal(cut?.['playedMs'], 900);
  assert.equal(JSON.stringify(cut).includes('0…'), false, 'the words are under pii');
  const barge = c.records.find((r) => r.msg === 'barge-in: the caller spoke over the prompt');
  assert.deepEqual(barge?.['marksInterrupted'], ['ask.1']);
  assert.equal(c.metrics.bargeIns.get(), 1);
  assert.deepEqual(c.view(), [
    { type: 'cut', at: 1234, mark: 'ask.1', heard: 'Your number is 0…', playedMs: 900, promptMs: 2000 },
  ]);
});

test('the end of a live call is counted by outcome and leaves the active gauge; one never live is not', () => {
  const c = stream(true);
  c.events.emit({ type: 'call.live' });
  assert.equal(c.metrics.callsActive.get(), 1);
  c.events.emit(ended);
  assert.equal(c.metrics.callsActive.get(), 0);
  assert.equal(c.metrics.callsTotal.get({ outcome: 'caller_hung_up' }), 1);
  const line = c.records.find((r) => r.msg === 'call ended');
  assert.equal(line?.['reason'], 'caller hung up');
  assert.equal(line?.['outOfOrderFrames'], 1);
  assert.deepEqual(c.view().at(-1), { type: 'ended', at: 1234, reason: 'caller hung up' });

  const never = stream(false);
  never.events.emit({ ...ended, wasLive: false, reason: 'bad input' });
  assert.equal(never.metrics.callsTotal.get({ outcome: 'bad_input' }), 0);
  assert.ok(never.records.some((r) => r.msg === 'call ended'));
});

test('a turn: heard, then its latency to the first agent audio, in the log, the histogram and the view', () => {
  const c = stream(true);
  c.events.emit({
    type: 'turn.heard',
    text: 'a large pizza',
    intent: 'order',
    confidence: 0.912,
    sttConfidence: 0.8,
    entities: { size: 'large' },
  });
  c.events.emit({
    type: 'turn.latency',
    silenceMs: 700,
    transcriptMs: 120,
    decisionMs: 3,
    firstAudioMs: 40,
    endOfTurnMs: 163,
    speechEndToAudioMs: 863,
  });
  const heard = c.records.find((r) => r.msg === 'caller heard');
  assert.equal(heard?.['intent'], 'order');
  assert.equal(JSON.stringify(heard).includes('pizza'), false);
  const latency = c.records.find((r) => r.msg === 'turn latency');
  assert.equal(latency?.['endOfTurnToAudioMs'], 163);
  assert.equal(latency?.['silenceWindowMs'], 700);
  assert.equal(c.metrics.turnLatencyMs.count, 1);
  assert.deepEqual(
    c.view().map((e) => e.type),
    ['turn', 'latency'],
  );
});

test('a call not opened for viewing publishes nothing; frames are counted either way', () => {
  const c = stream(false);
  c.events.emit({ type: 'frame.in' });
  c.events.emit({ type: 'frame.out' });
  c.events.emit({ type: 'turn.hearing', text: 'a lar' });
  assert.equal(c.metrics.mediaIn.get(), 1);
  assert.equal(c.metrics.mediaOut.get(), 1);
  assert.deepEqual(c.view(), []);
  assert.equal(c.records.length, 0, 'frames and interim words are not logged');
});

test("a stream rejected before it attached logs through the edge's gate; once attached, everything is logged", () => {
  const { logger, records } = memoryLogger('debug');
  const gated: string[] = [];
  const gate = (r: { msg: string }): boolean => {
    gated.push(r.msg);
    return false;
  };
  const rejectedEarly = new SessionEvents(() => 1);
  rejectedEarly.subscribe(logSubscriber(() => logger, gate));
  rejectedEarly.emit({ type: 'stream.rejected', code: 'RESUME_REFUSED', err: null, data: {} });
  rejectedEarly.emit({ ...ended, reason: 'bad input' });
  assert.deepEqual(gated, ['media stream rejected', 'call ended']);
  assert.equal(records.length, 0, 'both held back by the gate');

  const attachedFirst = new SessionEvents(() => 1);
  attachedFirst.subscribe(logSubscriber(() => logger, gate));
  attachedFirst.emit({ type: 'conversation.attached' });
  attachedFirst.emit({ type: 'stream.rejected', code: 'MEDIA_BAD_JSON', err: null, data: {} });
  attachedFirst.emit({ ...ended, reason: 'bad input' });
  assert.equal(gated.length, 2, 'an attached call is not gated');
  assert.deepEqual(
    records.map((r) => r.msg),
    ['media stream rejected', 'call ended'],
  );
});
