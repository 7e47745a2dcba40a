import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JOURNAL_VERSION, type JournalEntry, type JournalRecord } from '../../src/journal/records.ts';
import { escapeHtml } from '../../src/web/calls/escape.ts';
import { renderCall, renderTimeline } from '../../src/web/calls/render.ts';
import { buildTimeline } from '../../src/web/calls/timeline.ts';

const CALL = 'CA' + 'a'.repeat(32);
const T0 = 1_800_000_000_000;

/** Records numbered from 1, each at T0 + its offset. */
function journal(entries: [number, JournalEntry][]): JournalRecord[] {
  return entries.map(([offset, entry], i) => ({
    ...entry,
    v: JOURNAL_VERSION,
    callId: CALL,
    seq: i + 1,
    at: T0 + offset,
  }));
}

const say = (text: string, mark: string): JournalEntry => ({
  kind: 'eff',
  key: `${CALL}:${mark}`,
  effect: { type: 'say', text, mark },
});

/** A demo call: menu, key 9 crashes the actor, restart, key 2 lost when the process died, resumed, hang-up. */
function crashedCall(): JournalRecord[] {
  return journal([
    [0, { kind: 'start', flow: 'demo', flowVersion: 1, modelVersion: null, params: {} }],
    [0, { kind: 'in', event: { type: 'call.start', at: T0, callId: CALL } }],
    [0, say('Thanks for calling.', 'menu.1')], // 3
    [0, { kind: 'state', in: 2, state: 'menu' }],
    [1000, { kind: 'in', event: { type: 'dtmf', at: T0 + 1000, digit: '9' } }], // 5
    [1000, { kind: 'crash', in: 5, code: 'CALL_ACTOR_FAILED' }],
    [1000, { kind: 'in', event: { type: 'resume', at: T0 + 1000 } }], // 7
    [1000, say('Thanks for calling.', 'menu.2')],
    [1000, { kind: 'state', in: 7, state: 'menu' }],
    [2000, { kind: 'in', event: { type: 'dtmf', at: T0 + 2000, digit: '2' } }], // 10: its outcome never written
    [5000, { kind: 'in', event: { type: 'resume', at: T0 + 5000 } }], // 11
    [5000, say('Thanks for calling.', 'menu.3')],
    [5000, { kind: 'state', in: 11, state: 'menu' }],
    [
      6000,
      {
        kind: 'in',
        event: {
          type: 'utterance',
          at: T0 + 6000,
          text: 'callback please',
          intent: 'callback',
          confidence: 0.87,
          entities: {},
        },
      },
    ], // 14
    [6250, { kind: 'eff', key: `${CALL}:timer.cancel:t1`, effect: { type: 'timer.cancel', id: 't1' } }],
    [6250, say('Please enter your phone number.', 'callback.4')], // 16
    [
      6250,
      { kind: 'eff', key: `${CALL}:timer.start:t5`, effect: { type: 'timer.start', id: 't5', ms: 6000 } },
    ],
    [6250, { kind: 'timer', id: 't5', deadline: T0 + 12250 }],
    [6250, { kind: 'state', in: 14, state: 'callback' }],
    [7000, { kind: 'in', event: { type: 'hangup', at: T0 + 7000, reason: 'caller hung up' } }],
    [7000, { kind: 'state', in: 20, state: 'callback' }],
    [7000, { kind: 'end', reason: 'caller hung up' }],
  ]);
}

test('the timeline shows the crash, the restart after it, the lost turn and the resume on a new stream', () => {
  const t = buildTimeline(crashedCall());
  assert.equal(t.callId, CALL);
  assert.equal(t.flow, 'demo');
  assert.equal(t.flowVersion, 1);
  assert.equal(t.durationMs, 7000);
  assert.equal(t.endReason, 'caller hung up');
  assert.deepEqual(t.path, ['menu', 'callback']);
  assert.equal(t.crashes, 1);
  assert.equal(t.restarts, 1);
  assert.equal(t.interruptions, 1);
  assert.equal(t.resumes, 1);
  const kinds = t.rows.map((r) => `${r.seq}:${r.kind}`);
  // The crash is followed by the actor's restart; the lost dtmf (record 10) is flagged before the resume.
  assert.ok(kinds.indexOf('6:crash') < kinds.indexOf('7:restart'), kinds.join(' '));
  assert.ok(kinds.indexOf('10:input') < kinds.indexOf('10:interrupted'), kinds.join(' '));
  assert.ok(kinds.indexOf('10:interrupted') < kinds.indexOf('11:resume'), kinds.join(' '));
  assert.equal(kinds.filter((k) => k.endsWith(':restart')).length, 1);
  assert.equal(kinds.filter((k) => k.endsWith(':resume')).length, 1);
  const crash = t.rows.find((r) => r.kind === 'crash')!;
  assert.match(crash.title, /record 5 \(CALL_ACTOR_FAILED\)/);
  assert.equal(crash.offsetMs, 1000);
  // The utterance with its intent and confidence; the prompt after it with the gap the journal shows.
  const said = t.rows.find((r) => r.seq === 14)!;
  assert.equal(said.kind, 'input');
  assert.match(said.title, /callback please/);
  assert.match(said.detail ?? '', /intent callback \(0\.87\)/);
  const prompt = t.rows.find((r) => r.seq === 16)!;
  assert.equal(prompt.kind, 'prompt');
  assert.equal(prompt.latencyMs, 250);
  // The menu prompt said on the restart follows no caller input: no latency.
  assert.equal(t.rows.find((r) => r.seq === 8)!.latencyMs, undefined);
  assert.equal(t.rows.find((r) => r.seq === 17)!.title, 'timer t5 armed for 6000 ms');
  // States appear when they change, not at every event.
  assert.deepEqual(
    t.rows.filter((r) => r.kind === 'state').map((r) => r.seq),
    [4, 19],
  );
  assert.equal(t.rows.at(-1)!.kind, 'end');
});

test('an open call without a start record still gives a timeline', () => {
  const t = buildTimeline(
    journal([[0, { kind: 'in', event: { type: 'dtmf', at: T0, digit: '1' } }]]).map((r) => ({ ...r })),
  );
  assert.equal(t.flow, null);
  assert.equal(t.endReason, null);
  assert.equal(t.rows.length, 1);
});

test('a transcript with markup is escaped in the rendered timeline and page', () => {
  const evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
  const records = journal([
    [0, { kind: 'start', flow: 'demo<b>', flowVersion: 1, modelVersion: null, params: {} }],
    [
      500,
      {
        kind: 'in',
        event: {
          type: 'utterance',
          at: T0 + 500,
          text: evil,
          intent: '<i>intent</i>',
          confidence: 0.5,
          entities: { '<k>': '"v"' },
        },
      },
    ],
    [500, say(evil, 'm.1')],
    [500, { kind: 'state', in: 2, state: '<svg onload=alert(1)>' }],
    [600, { kind: 'end', reason: '</td><script>' }],
  ]);
  const t = buildTimeline(records);
  const table = renderTimeline(t);
  const page = renderCall({
    timeline: t,
    leaseToken: 1,
    owner: null,
    diagram: { missing: 'flow <x> missing' },
    tornTail: false,
  });
  for (const html of [table, page]) {
    assert.ok(!html.includes('<script'), 'no script tag gets through');
    assert.ok(!html.includes('<img'), 'no img tag gets through');
    assert.ok(!html.includes('<svg onload'), 'no state name markup gets through');
    assert.ok(!html.includes('<i>'));
    assert.ok(
      html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img'),
      'the text is shown escaped',
    );
  }
  assert.ok(page.includes('flow &lt;x&gt; missing'));
  assert.ok(!page.includes('demo<b>'));
  assert.ok(page.includes('&lt;/td&gt;&lt;script&gt;'));
});

test('escapeHtml escapes every character that can break out of text or an attribute', () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
  );
  assert.equal(escapeHtml(42), '42');
});
