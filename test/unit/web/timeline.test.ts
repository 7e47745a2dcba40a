import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CallJournal } from '../../../src/call/call-journal.ts';
import { CallSupervisor } from '../../../src/call/supervisor.ts';
import { compileFlow, validateFlow, type CallEvent, type Effect } from '../../../src/flow/index.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';
import { JOURNAL_VERSION, type JournalEntry, type JournalRecord } from '../../../src/journal/records.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { escapeHtml } from '../../../src/web/calls/escape.ts';
import { renderCall, renderTimeline } from '../../../src/web/calls/render.ts';
import { buildTimeline } from '../../../src/web/calls/timeline.ts';

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
  // The timers the utterance cancelled and armed are folded into its row.
  assert.equal(
    t.rows.find((r) => r.seq === 17),
    undefined,
  );
  assert.deepEqual(
    said.folded.map((f) => `${f.seq}: ${f.text}`),
    ['15: timer t1 cancelled', '17: timer t5 armed for 6000 ms'],
  );
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
    '&lt;a href=&quot;x&quot; title=&apos;y&apos;&gt;&amp;&lt;/a&gt;',
  );
  assert.equal(escapeHtml(42), '42');
});

/**
 * The journal of a demo call run by the real machine: the menu heard, key 2, the callback prompt heard, a number
 * typed with its terminator one key every 300 ms, and the read-back heard.
 */
async function keyedCall(): Promise<JournalRecord[]> {
  const result = validateFlow(
    JSON.parse(readFileSync(new URL('../../../flows/demo.json', import.meta.url), 'utf8')),
  );
  assert.ok(result.ok);
  const compiled = compileFlow(result.flow);
  const store = new MemoryStore();
  const journal = new CallJournal(store, store.lease(CALL, 'test'), 0);
  const marks: string[] = [];
  const sup = new CallSupervisor({
    compiled,
    callId: CALL,
    journal,
    logger: memoryLogger().logger,
    onEffect: (e: Effect) => {
      if (e.type === 'say') marks.push(e.mark);
    },
    onGiveUp: () => {},
  });
  sup.start(T0, {}, { flow: 'demo', flowVersion: 1, modelVersion: null, params: {} });
  let at = T0;
  const send = async (event: CallEvent) => {
    sup.send(event);
    await sup.settled();
  };
  const heard = () => send({ type: 'played', at: (at += 500), mark: marks.at(-1)! });
  await sup.settled();
  await heard();
  await send({ type: 'dtmf', at: (at += 1000), digit: '2' });
  await heard();
  for (const digit of '5551234#') await send({ type: 'dtmf', at: (at += 300), digit });
  await heard();
  return journal.read();
}

test('a number typed on the keypad is one timeline row, its keys and timers folded into it', async () => {
  const records = await keyedCall();
  const t = buildTimeline(records);
  assert.deepEqual(t.path, ['menu', 'callback', 'confirm']);
  const from = t.rows.findIndex((r) => r.title === 'entered callback');
  const to = t.rows.findIndex((r) => r.title === 'entered confirm');
  const between = t.rows.slice(from + 1, to);
  // The callback prompt heard, the number (one row, not three a key), and the read-back it led to.
  assert.deepEqual(
    between.map((r) => `${r.kind}: ${r.title.replace(/“(\S+) .*”/, '“$1 …”')}`),
    ['heard: caller heard prompt callback.3', 'input: caller keyed 5551234#', 'prompt: said “You …”'],
  );
  assert.equal(t.rows.filter((r) => r.kind === 'timer').length, 0, 'no timer rows of their own');
  const keyed = between[1]!;
  const keys = records.filter((r) => r.kind === 'in' && r.event.type === 'dtmf').slice(1);
  assert.equal(keyed.seq, keys[0]!.seq, 'the row is drawn from the first key');
  // Nothing is lost: every later key and every timer change is folded in, with its record and time.
  const folded = keyed.folded.map((f) => f.text);
  assert.deepEqual(
    folded.filter((f) => f.startsWith('key ')),
    ['key 5', 'key 5', 'key 1', 'key 2', 'key 3', 'key 4', 'key #'],
  );
  assert.equal(folded.filter((f) => /^timer t\d+ armed for 6000 ms$/.test(f)).length, 7);
  assert.equal(folded.filter((f) => /^timer t\d+ cancelled$/.test(f)).length, 8);
  const timerEffects = records.filter(
    (r) =>
      r.kind === 'eff' &&
      r.effect.type.startsWith('timer.') &&
      r.seq > keyed.seq &&
      r.seq < keys.at(-1)!.seq + 3,
  );
  for (const r of timerEffects)
    assert.ok(
      keyed.folded.some((f) => f.seq === r.seq),
      `record ${r.seq} folded`,
    );
  // The read-back's gap is counted from the key that completed the number.
  const readBack = t.rows.find((r) => r.kind === 'prompt' && r.title.includes('You entered'))!;
  assert.equal(readBack.latencyMs, 0);
  // The page shows the folded records under the row.
  const html = renderTimeline(t);
  assert.match(
    html,
    /caller keyed 5551234#[\s\S]*?<details class="folded"><summary>7 more keys · 15 timer changes<\/summary>/,
  );
  assert.match(html, /<li>[^<]*record \d+: timer t\d+ cancelled<\/li>/);
});

test('records read without their key show what happened and that the details are withheld, never empty values', () => {
  const records = journal([
    [0, { kind: 'start', flow: 'demo', flowVersion: 1, modelVersion: null, params: {} }],
    [0, { kind: 'in', event: { type: 'call.start' } }],
    [10, { kind: 'eff', key: `${CALL}:menu.1`, effect: { type: 'say' } }],
    [10, { kind: 'state', in: 2, state: 'menu' }],
    [900, { kind: 'in', event: { type: 'dtmf' } }],
    [900, { kind: 'state', in: 5, state: 'menu' }],
    [950, { kind: 'end', reason: 'hangup' }],
  ]).map((r) => (r.kind === 'in' || r.kind === 'eff' ? { ...r, withheld: 'abcd1234' } : r));
  const timeline = buildTimeline(records);
  const withheld = timeline.rows.filter((r) => r.title.endsWith('details withheld'));
  assert.deepEqual(
    withheld.map((r) => r.title),
    ['call.start: details withheld', 'say: details withheld', 'dtmf: details withheld'],
  );
  assert.ok(withheld.every((r) => r.detail?.includes('abcd1234')));
  assert.deepEqual(timeline.path, ['menu']);
  assert.equal(timeline.rows.filter((r) => r.kind === 'interrupted').length, 0);
  assert.ok(!timeline.rows.some((r) => /pressed $|said “”/.test(r.title)));
});
