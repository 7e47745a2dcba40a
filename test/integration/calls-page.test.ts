/**
 * The calls pages over a real call through the harness server: key 9 makes the demo's logic throw (a guard
 * patched in, as call-supervisor.test.ts does), so the supervisor journals the crash and restarts the actor from
 * the journal; then the process "dies" (a fault injected once key 2 is journaled), the call is taken up on a new
 * stream as Twilio's `<Connect action>` has it, and the caller hangs up. The calls pages, served by CallsPage over
 * the same journal store, list the call, draw its timeline with the crash, the restart, the turn in flight and
 * the resume, and give a log that replays without differences. The pages are the app's own, served with the softphone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import type { FaultHook } from '../../src/call/call-journal.ts';
import { replayCall } from '../../src/call/replay.ts';
import type { CompiledFlow } from '../../src/flow/index.ts';
import { route, routingTable } from '../../src/flow/route.ts';
import { encodeRecord, parseJsonLines } from '../../src/journal/records.ts';
import { MemoryStore } from '../../src/journal/memory.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { testJournals } from '../fixtures/journals.ts';
import { RawStream, startServer, waitForLog, type TestServer } from './harness.ts';

const CALL = 'CA' + 'c0ffee'.padEnd(32, '7');

class ProcessDied extends Error {}

async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the calls pages', () => {
  let server: TestServer;
  let pagesUrl: string;
  const store = new MemoryStore();
  /** Set to make the next journaled dtmf "kill the process". */
  let dieOnKey = false;
  let died = 0;
  const faults: FaultHook = (point, detail) => {
    if (!dieOnKey || point !== 'in.journaled' || detail.event !== 'dtmf') return;
    dieOnKey = false;
    died += 1;
    throw new ProcessDied('died after journaling a key');
  };

  before(async () => {
    server = await startServer({
      tts: new ToneTts({ msPerChar: 2 }),
      journals: await testJournals(store),
      faults,
      softphone: true,
    });
    // A bug in the call's logic, as in call-supervisor.test.ts: the demo's guard throws when key 9 is pressed.
    const live = server.flows.flows as Map<string, CompiledFlow>;
    const demo = live.get('demo')!;
    const table = routingTable(demo.flow, demo.policy);
    live.set('demo', {
      ...demo,
      machine: demo.machine.provide({
        guards: {
          stays: ({ context, event }, params: { state: string }) => {
            if (event.type === 'dtmf' && event.digit === '9') throw new Error('guard exploded');
            return route(table, params.state, context, event).kind === 'stay';
          },
        },
      }),
    });
    pagesUrl = server.url;
    await placeCrashingCall();
  });

  after(async () => {
    await server.close();
  });

  /** Start a stream with `params` and wait for the menu prompt's mark. */
  async function stream(url: string, params: Record<string, string>): Promise<RawStream> {
    const s = new RawStream(url, CALL);
    await s.opened;
    s.send(s.enc.connected());
    s.send(s.enc.start(params));
    await s.waitFor((m) => m.includes('"event":"mark"'));
    return s;
  }

  async function placeCrashingCall(): Promise<void> {
    const first = await stream(server.wsUrl, await server.streamParams(CALL, 'demo'));
    // Key 9 crashes the actor; its supervisor restarts it from the journal and the menu is said again.
    first.send(first.enc.dtmf('9'));
    await waitForLog(
      server.records,
      (r) => r.msg === 'call actor restarted from its journal' && r.callId === CALL,
    );
    await waitUntil(() => first.received.filter((m) => m.includes('"event":"mark"')).length >= 2);
    dieOnKey = true;
    first.send(first.enc.dtmf('2'));
    await first.closed;
    assert.equal(died, 1, 'the fault fired once');
    // Twilio asks the <Connect action> what next: a new stream, with a fresh ticket, takes the call up.
    const answer = await fetch(`${server.url}/twilio/connect-ended`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: CALL }).toString(),
    });
    const twiml = readTwiml(await answer.text());
    assert.ok(twiml.connect, 'the open call gets a new stream');
    const second = await stream(twiml.connect.streamUrl, twiml.connect.parameters);
    await waitForLog(server.records, (r) => r.msg === 'call resumed from its journal' && r.callId === CALL);
    second.send(second.enc.stop());
    await second.closed;
    await waitForLog(server.records, (r) => r.msg === 'call ended' && r.reason === 'caller hung up');
    const records = await readJournal(store, CALL);
    assert.equal(records.at(-1)?.kind, 'end', 'the call is over in its journal');
  }

  const get = async (path: string) => {
    const res = await fetch(pagesUrl + path);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  test('GET /calls lists the call, its flow, how it ended, the resume and the crash', async () => {
    const page = await get('/calls');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.ok(
      !/script-src/.test(page.headers.get('content-security-policy') ?? ''),
      'no scripts allowed at all',
    );
    const row = /<tr class="ended">([\s\S]*?)<\/tr>/.exec(page.text)?.[1];
    assert.ok(row, page.text);
    assert.ok(row.includes(`<a href="/calls/${CALL}">${CALL}</a>`));
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]);
    assert.equal(cells[1], 'demo v1');
    assert.equal(cells[4], 'caller hung up');
    assert.equal(cells[5], '2', 'the actor restart and the resume on a new stream');
    assert.equal(cells[6], '2', "the logic's crash and the turn in flight when the process died");
    const css = await get('/calls/style.css');
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  });

  test('GET /calls/<id> draws the timeline with the crash and the resume, and the path on the diagram', async () => {
    const page = await get(`/calls/${CALL}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /style-src 'self'/);
    const records = await readJournal(store, CALL);
    const ins = (type: string) => records.filter((r) => r.kind === 'in' && r.event.type === type);
    const [bad, key] = ins('dtmf');
    const [restart, resume] = ins('resume');
    const crash = records.find((r) => r.kind === 'crash');
    assert.ok(bad && key && restart && resume && crash?.kind === 'crash');
    assert.equal(crash.in, bad.seq, 'the crash names the key that made the logic fail');
    const rowOf = (seq: number, kind: string) =>
      new RegExp(`<tr class="row ${kind}" id="r${seq}">[\\s\\S]*?</tr>`).exec(page.text)?.[0];
    // Key 9 crashed the actor, and its supervisor restarted it from the journal.
    assert.match(rowOf(bad.seq, 'input') ?? '', /caller pressed 9/);
    assert.match(rowOf(crash.seq, 'crash') ?? '', /logic failed on record \d+ \(CALL_ACTOR_FAILED\)/);
    assert.match(rowOf(restart.seq, 'restart') ?? '', /actor restarted from its journal after the crash/);
    // Key 2 was journaled, then the "process" died: the turn had no outcome until a new stream took the call.
    assert.match(rowOf(key.seq, 'input') ?? '', /caller pressed 2/);
    assert.match(rowOf(key.seq, 'interrupted') ?? '', /no outcome journaled for record \d+ \(dtmf\)/);
    assert.match(rowOf(resume.seq, 'resume') ?? '', /call resumed from its journal on a new stream/);
    const at = (seq: number, kind: string) => page.text.indexOf(`<tr class="row ${kind}" id="r${seq}">`);
    const order = [
      at(bad.seq, 'input'),
      at(crash.seq, 'crash'),
      at(restart.seq, 'restart'),
      at(key.seq, 'interrupted'),
      at(resume.seq, 'resume'),
    ];
    assert.ok(
      order.every((p, i) => p > 0 && (i === 0 || p > order[i - 1]!)),
      order.join(' '),
    );
    assert.match(page.text, /<tr class="row end"[\s\S]*?call ended: caller hung up/);
    // The menu is said at the start and again on the restart. Key 2 was journaled before the process died, so
    // the recovery replays it: the call goes on to the callback state, and the resume asks its question.
    const says = [...page.text.matchAll(/<tr class="row prompt" id="r(\d+)">[\s\S]*?said “([^”]*)”/g)];
    const phase = (seq: number) => (seq < restart.seq ? 'start' : seq < resume.seq ? 'restart' : 'resume');
    assert.deepEqual(
      says.map((m) => [phase(Number(m[1])), m[2]!.split('.')[0]]),
      [
        ['start', 'Thanks for calling Switchboard'],
        ['restart', 'Thanks for calling Switchboard'],
        ['resume', 'Please enter your phone number, then press the pound key'],
      ],
    );
    assert.match(page.text, /<tr class="row state" id="r\d+">[\s\S]*?entered callback/);
    // The lease was taken by the first stream and again for the second: each time with a new fencing token.
    const token = (await store.summary(CALL))!.token;
    assert.ok(token >= 4, `admitted, attached, re-issued and attached again: token ${token}`);
    assert.match(
      page.text,
      new RegExp(`<dt>lease token</dt><dd>${token} \\(times the call was taken\\)</dd>`),
    );
    assert.match(page.text, /<dt>crashes<\/dt><dd>1<\/dd>/);
    assert.match(page.text, /<dt>actor restarts<\/dt><dd>1<\/dd>/);
    assert.match(page.text, /<dt>resumes on a new stream<\/dt><dd>1<\/dd>/);
    assert.match(page.text, /<dt>interrupted turns<\/dt><dd>1<\/dd>/);
    // The diagram: the menu and the callback visited, the states not reached left plain.
    assert.match(page.text, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(page.text, /<g class="node state visited" data-state="menu">/);
    assert.match(page.text, /<g class="node state visited" data-state="callback">/);
    assert.match(page.text, /<g class="edge taken" data-from="menu" data-to="callback">/);
    assert.match(page.text, /<g class="node state" data-state="hours">/);
    assert.match(page.text, /<g class="edge taken" data-from="\$start" data-to="menu">/);
    assert.match(
      page.text,
      new RegExp(`<a class="download" href="/calls/${CALL}/log" download>Download the call log</a>`),
    );
  });

  test('GET /calls/<id>/log is the journal as `calls export` writes it, and it replays without differences', async () => {
    const log = await get(`/calls/${CALL}/log`);
    assert.equal(log.status, 200);
    assert.equal(log.headers.get('content-disposition'), `attachment; filename="${CALL}.jsonl"`);
    const records = await readJournal(store, CALL);
    assert.equal(log.text, records.map((r) => encodeRecord(r) + '\n').join(''));
    const parsed = parseJsonLines(log.text);
    assert.equal(parsed.tornTail, false);
    const report = await replayCall(server.flows.flows.get('demo')!, parsed.records);
    assert.equal(report.divergence, null);
    assert.ok(report.events >= 4, `replayed ${report.events} events`);
    // A tampered copy does not replay: the negative control.
    const tampered = log.text.replace('"digit":"2"', '"digit":"1"');
    assert.throws(() => parseJsonLines(tampered), /JOURNAL_CORRUPT|checksum/);
  });

  test('an unknown call is a 404 page; a damaged journal says so with its code', async () => {
    const missing = await get('/calls/CA' + '0'.repeat(32));
    assert.equal(missing.status, 404);
    assert.match(missing.text, /There is no journal for call <code>CA0{32}<\/code>/);
    const evil = await get(`/calls/${encodeURIComponent('<script>x</script>')}`);
    assert.equal(evil.status, 404);
    assert.ok(!evil.text.includes('<script>'));
    assert.ok(evil.text.includes('&lt;script&gt;x&lt;/script&gt;'));

    // A record altered by hand in the middle of a journal.
    const damaged = 'CA' + 'd'.repeat(32);
    const lease = await store.acquire(damaged, 'hand');
    const records = await readJournal(store, CALL);
    const lines = records.slice(0, 3).map((r) => encodeRecord({ ...r, callId: damaged }));
    lines[1] = lines[1]!.replace('"type"', '"typo"');
    await store.append(
      lease,
      lines.map((line, i) => ({ seq: i + 1, kind: records[i]!.kind, at: records[i]!.at, line })),
    );
    const page = await get(`/calls/${damaged}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /cannot be read: <code class="code">JOURNAL_CORRUPT<\/code>/);
    const log = await get(`/calls/${damaged}/log`);
    assert.equal(log.status, 500);
    assert.match(log.text, /JOURNAL_CORRUPT/);
    const list = await get('/calls');
    assert.match(
      list.text,
      new RegExp(
        `<tr class="damaged">\\s*<td><a href="/calls/${damaged}">[\\s\\S]*?damaged \\(JOURNAL_CORRUPT\\)`,
      ),
    );
    // Only GET: the pages change nothing.
    const post = await fetch(`${pagesUrl}/calls`, { method: 'POST' });
    assert.equal(post.status, 405);
  });
});
