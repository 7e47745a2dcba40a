/**
 * The calls pages over a real call through the harness server: key 9 makes the demo's logic throw (a guard
 * patched in, as call-supervisor.test.ts does), so the supervisor journals the crash and restarts the actor from
 * the journal; then the process "dies" (a fault injected once key 2 is journaled), the call is taken up on a new
 * stream as Twilio's `<Connect action>` has it, and the caller hangs up. The calls pages, served by CallsPage over
 * the same journal store, list the call, draw its timeline with the crash, the restart, the turn in flight and
 * the resume, and give a log that replays without differences. The pages are the app's own, served with the softphone.
 * Then calls that end the same way but come out differently: a refill whose web request was answered and one whose
 * request failed, told apart on the list; and a number typed on the keypad, one row of its timeline.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

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

  /** The page cookie the list page sets, as a browser that opened it first would send it. */
  let cookie: string | null = null;
  const get = async (path: string, options: { cookie?: boolean } = {}) => {
    if (cookie === null) {
      const list = await fetch(pagesUrl + '/calls');
      cookie = /^[^;]+/.exec(list.headers.get('set-cookie') ?? '')![0];
    }
    const headers: Record<string, string> = options.cookie === false ? {} : { cookie };
    const res = await fetch(pagesUrl + path, { headers });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  test("a call's page and log need the page cookie the list sets, and it is HttpOnly and SameSite=Strict", async () => {
    const list = await fetch(pagesUrl + '/calls');
    assert.match(
      list.headers.get('set-cookie') ?? '',
      /^switchboard_page=[^;]+; Path=\/; HttpOnly; SameSite=Strict/,
    );
    for (const path of [`/calls/${CALL}`, `/calls/${CALL}/log`]) {
      const bare = await get(path, { cookie: false });
      assert.equal(bare.status, 403, path);
      assert.match(bare.text, /HTTP_TOKEN_INVALID/);
      assert.equal((await get(path)).status, 200, path);
    }
  });

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
    assert.equal(cells[4], 'callback', 'the state it was last in');
    assert.equal(cells[5], '-', 'no web requests or transfers');
    assert.equal(cells[6], 'caller hung up');
    assert.equal(cells[7], '2', 'the actor restart and the resume on a new stream');
    assert.equal(cells[8], '2', "the logic's crash and the turn in flight when the process died");
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
    // The lease was taken when the call was admitted, by the first stream and by the second: each time with a
    // new fencing token (issuing the second stream's ticket took nothing).
    const token = (await store.summary(CALL))!.token;
    assert.equal(token, 3, `admitted, attached, attached again: token ${token}`);
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

describe('the calls list tells calls apart by how they came out', () => {
  const store = new MemoryStore();
  let server: TestServer;
  let pharmacy: Server;
  const ANSWERED = 'CA' + 'a'.repeat(32);
  const FAILED = 'CA' + 'b'.repeat(32);
  const KEYED = 'CA' + 'e'.repeat(32);
  let flowsDir: string;
  /** A pharmacy's refill line: a failed request goes to a pharmacist, and a failed transfer to an apology. */
  const REFILL = {
    id: 'refill',
    version: 1,
    start: 'rx',
    states: {
      rx: {
        say: 'Please type the seven digit number on your prescription label.',
        collect: { slot: 'rx', digits: { min: 7, max: 7 } },
        next: 'submit',
      },
      submit: {
        http: { url: '{{env.PHARMACY_URL}}/refills', body: { rx: '{{rx}}' }, map: { readyBy: '/readyBy' } },
        next: 'done',
        onError: 'sorry',
      },
      done: { say: 'Your refill will be ready by {{readyBy}}. Goodbye.', hangup: true },
      sorry: { say: 'Sorry, we could not submit your refill.', next: 'pharmacist' },
      pharmacist: {
        say: 'Please hold for a pharmacist.',
        transfer: '{{env.PHARMACY_STAFF_LINE}}',
        onError: 'closed',
      },
      closed: { say: 'Nobody can take your call right now. Goodbye.', hangup: true },
    },
  };

  before(async () => {
    // The pharmacy's refill service: one prescription number it knows, any other refused.
    pharmacy = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const known = (JSON.parse(body) as { rx?: string }).rx === '1234567';
        res.writeHead(known ? 200 : 422, { 'content-type': 'application/json' });
        res.end(JSON.stringify(known ? { readyBy: '5 pm' } : { error: 'unknown prescription' }));
      });
    });
    await new Promise<void>((resolve) => pharmacy.listen(0, '127.0.0.1', resolve));
    const { port } = pharmacy.address() as AddressInfo;
    flowsDir = await mkdtemp(join(tmpdir(), 'switchboard-calls-'));
    await writeFile(join(flowsDir, 'refill.json'), JSON.stringify(REFILL));
    await copyFile(new URL('../../flows/demo.json', import.meta.url), join(flowsDir, 'demo.json'));
    server = await startServer({
      tts: new ToneTts({ msPerChar: 1 }),
      flowsDir,
      journals: await testJournals(store),
      env: { PHARMACY_URL: `http://127.0.0.1:${port}` },
      httpAllowHosts: ['127.0.0.1'],
      softphone: true,
    });
    // Two refills on the keypad, the same but for the prescription number.
    await call(ANSWERED, 'refill', ['1234567']);
    await call(FAILED, 'refill', ['7654321']);
    // A callback number on the demo's keypad, then the caller hangs up.
    await call(KEYED, 'demo', ['2', '5551234#']);
  });

  after(async () => {
    await server.close();
    await new Promise((resolve) => pharmacy.close(resolve));
    await rm(flowsDir, { recursive: true, force: true });
  });

  /**
   * A call that answers each prompt as a phone would (every mark echoed once played) and types each entry of
   * `entries` once the flow is waiting for it; it ends when the flow hangs up, or the caller does after the last.
   */
  async function call(callSid: string, flow: string, entries: string[]): Promise<void> {
    const s = new RawStream(server.wsUrl, callSid);
    await s.opened;
    let echoed = 0;
    const echo = setInterval(() => {
      const marks = s.received.filter((m) => m.includes('"event":"mark"'));
      for (const m of marks.slice(echoed))
        s.send(s.enc.mark((JSON.parse(m) as { mark: { name: string } }).mark.name));
      echoed = marks.length;
    }, 20);
    try {
      s.send(s.enc.connected());
      s.send(s.enc.start(await server.streamParams(callSid, flow)));
      const heard = () =>
        server.records.filter((r) => r.callId === callSid && r.msg === 'prompt heard').length;
      for (const [i, keys] of entries.entries()) {
        await waitUntil(() => heard() > i);
        for (const key of keys) s.send(s.enc.dtmf(key));
      }
      if (flow === 'demo') {
        await waitUntil(() => s.received.filter((m) => m.includes('"event":"mark"')).length >= 3);
        s.send(s.enc.stop());
      }
      await s.closed;
      await waitForLog(server.records, (r) => r.callId === callSid && r.msg === 'call ended');
    } finally {
      clearInterval(echo);
    }
  }

  const get = async (path: string) => {
    const list = await fetch(server.url + '/calls');
    const cookie = /^[^;]+/.exec(list.headers.get('set-cookie') ?? '')![0];
    return (await fetch(server.url + path, { headers: { cookie } })).text();
  };

  test('GET /calls: a refill that went through and one that failed read differently', async () => {
    const page = await get('/calls');
    const cells = (callSid: string) => {
      const row = new RegExp(`<tr class="ended">\\s*<td><a href="/calls/${callSid}">([\\s\\S]*?)</tr>`).exec(
        page,
      )?.[1];
      assert.ok(row, page);
      return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]);
    };
    assert.match(page, /<th>last state<\/th><th>web requests and transfers<\/th><th>how it ended<\/th>/);
    const answered = cells(ANSWERED);
    const failed = cells(FAILED);
    // Both were ended by the flow; where they ended, and what the web request did, tell them apart.
    assert.equal(answered[5], 'flow ended the call');
    assert.equal(failed[5], 'flow ended the call');
    assert.equal(answered[3], 'done');
    assert.equal(answered[4], 'web request answered');
    assert.equal(failed[3], 'closed');
    assert.equal(failed[4], 'web request failed · transfer failed');
    const keyed = cells(KEYED);
    assert.deepEqual(keyed.slice(3, 6), ['confirm', '-', 'caller hung up']);
    // The call's own page says the same.
    const one = await get(`/calls/${FAILED}`);
    assert.match(one, /<dt>last state<\/dt><dd>closed<\/dd>/);
    assert.match(one, /<dt>web requests and transfers<\/dt><dd>web request failed · transfer failed<\/dd>/);
  });

  test('GET /calls/<id>: a number typed on the keypad is one row of the timeline, not three a key', async () => {
    const page = await get(`/calls/${KEYED}`);
    const rows = [...page.matchAll(/<tr class="row (\w+)" id="r\d+">[\s\S]*?<\/tr>/g)];
    const titles = rows.map((m) => `${m[1]}: ${/<td><div>([^<]*)/.exec(m[0])?.[1] ?? ''}`);
    const from = titles.indexOf('state: entered callback');
    const to = titles.indexOf('state: entered confirm');
    assert.ok(from > 0 && to > from, titles.join('\n'));
    const between = titles.slice(from + 1, to);
    assert.deepEqual(
      between.filter((t) => t.startsWith('input') || t.startsWith('timer')),
      ['input: caller keyed 5551234#'],
      between.join('\n'),
    );
    assert.equal(titles.filter((t) => t.startsWith('timer')).length, 0, titles.join('\n'));
    // The keys and the timers they cancelled and armed are under that row, record by record.
    const keyed = rows.find((m) => m[0].includes('caller keyed 5551234#'))![0];
    assert.match(keyed, /<summary>7 more keys · 15 timer changes<\/summary>/);
    assert.equal([...keyed.matchAll(/<li>[^<]*record \d+: key \d|<li>[^<]*record \d+: key #/g)].length, 7);
  });
});
