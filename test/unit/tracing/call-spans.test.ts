import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { SessionEvent, SessionSubscriber } from '../../../src/call/media/session-events.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { ATTR, SPAN, callSpans } from '../../../src/tracing/call-spans.ts';
import { CallTraces } from '../../../src/tracing/call-traces.ts';
import { JOURNAL_APPEND_SPAN, TracedStore } from '../../../src/tracing/journal-spans.ts';
import { CallTraceIds, callTraceId } from '../../../src/tracing/trace-ids.ts';

const CALL = 'CA00000000000000000000000000000001';
/** A wall-clock time for events (ms since the epoch). */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function tracer(): { traces: CallTraces; spans: () => ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  const ids = new CallTraceIds();
  const provider = new BasicTracerProvider({
    idGenerator: ids,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return {
    traces: new CallTraces(provider.getTracer('test'), ids),
    spans: () => exporter.getFinishedSpans(),
  };
}

const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;
const one = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one ${name} span`);
  return found[0]!;
};
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

function ended(at: Partial<Extract<SessionEvent, { type: 'call.ended' }>> = {}): SessionEvent {
  return {
    type: 'call.ended',
    reason: 'caller hung up',
    wasLive: true,
    fields: {},
    durationMs: 0,
    framesIn: 250,
    framesOut: 120,
    outOfOrderFrames: 0,
    gapFilledFrames: 0,
    keysDropped: 0,
    state: 'goodbye',
    ...at,
  };
}

/** A call with one answered spoken turn, a barge-in, keys and a resume: the events a session would emit. */
function playCall(sub: SessionSubscriber): void {
  sub({ type: 'call.live' }, T0);
  sub(
    {
      type: 'call.resumed',
      flowVersion: 4,
      modelVersion: null,
      journaledModelVersion: null,
      records: 12,
      replayedEvents: 3,
      timersRearmed: 1,
      state: 'ask',
      leaseToken: 2,
    },
    T0 + 5,
  );
  sub({ type: 'state.entered', state: 'size', slots: { phone: '+15551234567' } }, T0 + 10);
  sub({ type: 'key.pressed', digit: '7' }, T0 + 50);
  sub({ type: 'speech.started', agentSpeaking: true }, T0 + 1000);
  sub({ type: 'barge-in', state: 'size', marksInterrupted: ['m1', 'm2'] }, T0 + 1010);
  sub({ type: 'turn.hearing', text: 'large pl' }, T0 + 1500);
  sub(
    {
      type: 'turn.heard',
      text: 'large please call 5551234',
      intent: 'order',
      confidence: 0.92,
      sttConfidence: 0.8,
      entities: { size: 'large' },
    },
    T0 + 2760,
  );
  sub(
    {
      type: 'turn.latency',
      silenceMs: 700,
      transcriptMs: 60,
      decisionMs: 4,
      firstAudioMs: 36,
      endOfTurnMs: 100,
      speechEndToAudioMs: 800,
    },
    T0 + 2800,
  );
  sub({ type: 'actor.restarted' }, T0 + 3000);
  sub(ended(), T0 + 9000);
}

test("a call's spans: the call in its own trace, a turn under it, and the turn's stages back to back", () => {
  const { traces, spans } = tracer();
  playCall(callSpans(traces, CALL, 'pizza'));
  const all = spans();
  const call = one(all, SPAN.call);
  const turn = one(all, SPAN.turn);
  assert.equal(call.spanContext().traceId, callTraceId(CALL));
  assert.equal(parentOf(call), undefined, 'the call span is a root');
  assert.ok(all.every((s) => s.spanContext().traceId === callTraceId(CALL)));
  assert.deepEqual([ms(call.startTime), ms(call.endTime)], [T0, T0 + 9000]);
  assert.equal(call.attributes[ATTR.callId], CALL);
  assert.equal(call.attributes[ATTR.flow], 'pizza');
  assert.equal(call.attributes[ATTR.flowVersion], 4);
  assert.equal(call.attributes[ATTR.resumed], true);
  assert.equal(call.attributes[ATTR.endReason], 'caller hung up');
  assert.equal(call.attributes[ATTR.framesIn], 250);
  assert.equal(call.attributes[ATTR.framesOut], 120);
  assert.deepEqual(
    call.events.map((e) => e.name),
    ['call.resumed', 'barge-in', 'actor.restarted'],
  );
  assert.equal(call.events[1]!.attributes?.['switchboard.marks_interrupted'], 2);

  assert.equal(parentOf(turn), call.spanContext().spanId);
  // From the caller's speech start to the first audio of the answer.
  assert.deepEqual([ms(turn.startTime), ms(turn.endTime)], [T0 + 1000, T0 + 2800]);
  assert.equal(turn.attributes[ATTR.intent], 'order');
  assert.equal(turn.attributes[ATTR.turnState], 'size');
  assert.equal(turn.attributes[ATTR.bargeIn], true);
  assert.equal(turn.attributes[ATTR.answered], true);

  const stages = [SPAN.endOfTurn, SPAN.recognition, SPAN.decision, SPAN.firstAudio].map((n) => one(all, n));
  for (const stage of stages) assert.equal(parentOf(stage), turn.spanContext().spanId);
  assert.deepEqual(
    stages.map((s) => [ms(s.startTime) - T0, ms(s.endTime) - T0]),
    [
      [2000, 2700],
      [2700, 2760],
      [2760, 2764],
      [2764, 2800],
    ],
  );
});

test('no personal data in span attributes or events: transcripts, keys, entities and slots stay out', () => {
  const { traces, spans } = tracer();
  playCall(callSpans(traces, CALL, 'pizza'));
  const text = JSON.stringify(
    spans().map((s) => [s.name, s.attributes, s.events.map((e) => [e.name, e.attributes])]),
  );
  for (const secret of ['large', 'please', '5551234', '+1555', '"7"', 'large pl']) {
    assert.ok(!text.includes(secret), `"${secret}" is not in any span`);
  }
});

test('a turn heard but never answered is kept, unanswered, when the call ends', () => {
  const { traces, spans } = tracer();
  const sub = callSpans(traces, CALL, 'support');
  sub({ type: 'call.live' }, T0);
  sub({ type: 'speech.started', agentSpeaking: false }, T0 + 100);
  sub(
    { type: 'turn.heard', text: 'hello', intent: null, confidence: 0, sttConfidence: null, entities: {} },
    T0 + 900,
  );
  sub(ended({ reason: 'stream dropped' }), T0 + 1000);
  const turn = one(spans(), SPAN.turn);
  assert.equal(turn.attributes[ATTR.answered], false);
  assert.equal(turn.attributes[ATTR.intent], undefined);
  assert.deepEqual([ms(turn.startTime), ms(turn.endTime)], [T0 + 100, T0 + 900]);
  assert.equal(spans().filter((s) => s.name === SPAN.recognition).length, 0);
  assert.equal(one(spans(), SPAN.call).attributes[ATTR.endReason], 'stream dropped');
});

test("each stream of a call is a root span in the call's one trace, so a resumed call continues it", () => {
  const { traces, spans } = tracer();
  for (const start of [T0, T0 + 10_000]) {
    const sub = callSpans(traces, CALL, 'pizza');
    sub({ type: 'call.live' }, start);
    sub(ended({ reason: 'stream dropped' }), start + 1000);
  }
  const calls = spans().filter((s) => s.name === SPAN.call);
  assert.equal(calls.length, 2);
  assert.deepEqual(new Set(calls.map((s) => s.spanContext().traceId)), new Set([callTraceId(CALL)]));
  assert.notEqual(calls[0]!.spanContext().spanId, calls[1]!.spanContext().spanId);
  assert.ok(calls.every((s) => parentOf(s) === undefined));
  // Another call gets another trace.
  const other = callSpans(traces, 'CA2', 'pizza');
  other({ type: 'call.live' }, T0);
  other(ended(), T0 + 1);
  assert.equal(spans().at(-1)!.spanContext().traceId, callTraceId('CA2'));
});

test("journal appends are spans under the live call's span, and in the call's trace once it has ended", async () => {
  const { traces, spans } = tracer();
  const memory = new MemoryStore();
  const store = new TracedStore(memory, traces);
  const lease = await store.acquire(CALL, 'me');
  const record = (seq: number, kind: string) => ({ seq, kind, at: T0, line: `{"seq":${seq}}` });
  // Before the stream: a root in the call's trace.
  await store.append(lease, [record(1, 'start')]);
  const sub = callSpans(traces, CALL, 'pizza');
  sub({ type: 'call.live' }, Date.now());
  await store.append(lease, [record(2, 'in'), record(3, 'eff'), record(4, 'state')]);
  sub(ended(), Date.now());
  const appends = spans().filter((s) => s.name === JOURNAL_APPEND_SPAN);
  const call = one(spans(), SPAN.call);
  assert.equal(appends.length, 2);
  assert.ok(appends.every((s) => s.spanContext().traceId === callTraceId(CALL)));
  assert.equal(parentOf(appends[0]!), undefined);
  assert.equal(parentOf(appends[1]!), call.spanContext().spanId);
  assert.equal(appends[1]!.attributes['switchboard.journal.records'], 3);
  assert.equal(appends[1]!.attributes['switchboard.journal.kinds'], 'in,eff,state');
  assert.equal((await memory.read(CALL)).length, 4, 'the records reached the store');

  // A fenced append fails as before, and its span says so.
  await store.acquire(CALL, 'someone else');
  await assert.rejects(store.append(lease, [record(5, 'in')]), { code: 'JOURNAL_FENCED' });
  const failed = spans().at(-1)!;
  assert.equal(failed.name, JOURNAL_APPEND_SPAN);
  assert.deepEqual(failed.status, { code: 2, message: 'JOURNAL_FENCED' });
});
