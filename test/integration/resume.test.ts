/**
 * A killed server loses no call: two real `switchboard serve` processes share one journal store behind a load
 * balancer; the one holding a call is killed with SIGKILL mid-call, and the simulated caller does what Twilio
 * does when the stream drops (it requests the `<Connect action>` URL and follows the TwiML), which brings the
 * call up on the other process. Run against SQLite (two processes on one file) and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readJournal } from '../../src/call/call-journal.ts';
import { openStore } from '../../src/journal/open-store.ts';
import { memoryLogger } from '../../src/observability/logger.ts';
import { placeCall, type CallerInput, type TimelineEvent } from '../../src/simulator/caller.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { startOrdersService } from '../fakes/orders-service.ts';
import { TcpBalancer } from '../support/balancer.ts';
import { dropSchema, postgresReachable, TEST_POSTGRES_URL } from '../support/postgres.ts';
import { RawStream } from '../support/harness.ts';
import { serve, type Served } from '../support/serve-process.ts';

const PG_BASE = TEST_POSTGRES_URL;
const pgUp = await postgresReachable();
const pgRequired = process.env.REQUIRE_POSTGRES === '1';

const tmp = mkdtempSync(join(tmpdir(), 'sb-resume-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The pizza flow answered by state, so a question asked again after a crash gets its answer again. */
const ANSWERS: Record<string, string> = { greet: '1', size: '3', count: '4#', confirm: '1' };
const answerFor = (state: string): CallerInput | undefined =>
  ANSWERS[state] === undefined ? undefined : { kind: 'dtmf', keys: ANSWERS[state] };

function stores(): { name: string; url: () => string; skip: string | false; cleanup: () => Promise<void> }[] {
  const schema = `sb_resume_${process.pid}`;
  return [
    {
      name: 'SQLite, two processes on one file',
      url: () => `sqlite:${join(tmp, 'calls.db')}`,
      skip: false,
      cleanup: () => Promise.resolve(),
    },
    {
      name: 'PostgreSQL',
      url: () => `${PG_BASE}?schema=${schema}`,
      skip:
        !pgUp && !pgRequired
          ? 'PostgreSQL is not reachable at 127.0.0.1:5432; set REQUIRE_POSTGRES=1 to make this a failure'
          : false,
      cleanup: () => dropSchema(schema),
    },
  ];
}

for (const store of stores()) {
  describe(
    `two instances sharing one journal store, ${store.name}${store.skip ? ` (skipped: ${store.skip})` : ''}`,
    { skip: store.skip },
    () => {
      after(() => store.cleanup());

      test('kill -9 mid-call: the other instance takes the call up; no turn is lost, the order is placed once', async () => {
        const orders = await startOrdersService();
        const balancer = new TcpBalancer([]);
        const port = await balancer.listen();
        const publicUrl = `http://127.0.0.1:${port}`;
        const env = {
          STORE_URL: store.url(),
          PUBLIC_URL: publicUrl,
          STT: 'off',
          NLU: 'off',
          ORDERS_URL: orders.url,
          HTTP_ALLOW_HOSTS: '127.0.0.1',
          PIZZA_STAFF_LINE: '+15555550100',
          LOG_LEVEL: 'info',
        };
        const servers: Served[] = [await serve(env), await serve(env)];
        balancer.setTargets(servers.map((s) => ({ host: '127.0.0.1', port: Number(new URL(s.url).port) })));
        let killed: Served | null = null;
        try {
          const timeline: TimelineEvent[] = [];
          const result = await placeCall({
            url: publicUrl,
            flow: 'pizza',
            answerFor,
            thinkMs: 200,
            idleHangupMs: 4000,
            maxDurationMs: 90_000,
            onEvent: (event) => {
              timeline.push(event);
              // Once the count question has been heard, the instance holding the call dies before the answer.
              if (killed === null && event.kind === 'agent' && event.mark.startsWith('count.')) {
                killed = servers.find((s) => s.logs().some((l) => l.msg === 'call started')) ?? null;
                killed?.child.kill('SIGKILL');
              }
            },
          });
          assert.ok(killed, 'an instance was killed mid-call');
          const survivor = servers.find((s) => s !== killed)!;
          await (killed as Served).exited;

          // Two streams: the first dropped by the kill, the second opened through the action URL.
          const opened = timeline.filter((e) => e.kind === 'stream' && e.event === 'open');
          assert.equal(opened.length, 2, 'the caller followed the action URL to a new stream');
          assert.equal(result.endedBy, 'agent', 'the flow ended the call: it reached its goodbye');
          assert.equal(result.actionError, null);
          const resumed = survivor.logs().find((l) => l.msg === 'call resumed from its journal');
          assert.ok(resumed, 'the other instance resumed the call');
          assert.equal(resumed.callId, result.callSid);
          assert.equal(resumed.state, 'count', 'it took up the call in the state it was in');

          // The order was placed exactly once, with the pizza count asked after the crash.
          assert.equal(orders.applied.length, 1);
          assert.equal(orders.repeats, 0);
          assert.equal(orders.unkeyed, 0);
          const said = timeline.filter((e) => e.kind === 'agent').map((e) => (e as { mark: string }).mark);
          assert.ok(
            said.some((m) => m.startsWith('placed.')),
            'the caller heard the order number',
          );

          // The journal holds both instances' records in one unbroken sequence, ending with the call's end.
          const reader = await openStore(store.url(), { logger: memoryLogger().logger });
          try {
            const records = await readJournal(reader, result.callSid);
            assert.equal(records[0]?.kind, 'start');
            assert.equal(records.at(-1)?.kind, 'end');
            const keys = records.flatMap((r) =>
              r.kind === 'in' && r.event.type === 'dtmf' ? [r.event.digit] : [],
            );
            // Every key the caller pressed before the kill is there, and the answers after it.
            assert.deepEqual(keys.join(''), '134#1');
            const summary = await reader.summary(result.callSid);
            assert.ok((summary?.token ?? 0) >= 3, 'the lease was taken again by the resuming instance');
          } finally {
            await reader.close();
          }
        } finally {
          for (const s of servers) if (s !== killed) s.child.kill('SIGTERM');
          await Promise.all(servers.map((s) => s.exited));
          await balancer.close();
          await orders.close();
        }
      });

      test('a paused instance that lost the call cannot write after the other took it: its append is fenced', async () => {
        const env = { STORE_URL: store.url(), STT: 'off', NLU: 'off', LOG_LEVEL: 'info' };
        const [a, b] = [await serve(env), await serve(env)];
        const callSid = 'CA' + 'e'.repeat(32);
        const post = async (url: string, path: string) => {
          const res = await fetch(url + path, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              CallSid: callSid,
              From: '+15005550006',
              To: '+15005550001',
            }).toString(),
          });
          return readTwiml(await res.text());
        };
        const open = async (connect: NonNullable<ReturnType<typeof readTwiml>['connect']>) => {
          const stream = new RawStream(connect.streamUrl, callSid);
          await stream.opened;
          stream.send(stream.enc.connected());
          stream.send(stream.enc.start(connect.parameters));
          await stream.waitFor((m) => m.includes('"event":"media"'));
          return stream;
        };
        try {
          const first = await post(a.url, '/twilio/voice?flow=demo');
          const onA = await open(first.connect!);
          a.child.kill('SIGSTOP');
          // The caller presses 1 while A is frozen: A will read it only once it runs again.
          onA.send(onA.enc.dtmf('1'));
          // Meanwhile A is taken for dead and the call is taken up by B.
          const second = await post(b.url, '/twilio/connect-ended');
          assert.ok(second.connect, 'B answers with a new stream');
          const onB = await open(second.connect);
          a.child.kill('SIGCONT');
          const deadline = Date.now() + 10_000;
          while (!a.logs().some((l) => l.code === 'JOURNAL_FENCED')) {
            assert.ok(Date.now() < deadline, 'A reports that it lost the call');
            await new Promise((r) => setTimeout(r, 50));
          }
          assert.ok(a.logs().some((l) => l.msg === 'call taken over by another instance; stopping here'));
          // B goes on: 2 leads to the callback question.
          onB.send(onB.enc.dtmf('2'));
          const reader = await openStore(store.url(), { logger: memoryLogger().logger });
          try {
            let records = await readJournal(reader, callSid);
            while (!records.some((r) => r.kind === 'state' && r.state === 'callback')) {
              assert.ok(Date.now() < deadline, 'B took the key');
              await new Promise((r) => setTimeout(r, 50));
              records = await readJournal(reader, callSid);
            }
            const keys = records.flatMap((r) =>
              r.kind === 'in' && r.event.type === 'dtmf' ? [r.event.digit] : [],
            );
            assert.deepEqual(keys, ['2'], "A's key was never written: it was fenced out");
          } finally {
            await reader.close();
          }
          onA.ws.terminate();
          onB.ws.terminate();
        } finally {
          a.child.kill('SIGCONT');
          a.child.kill('SIGTERM');
          b.child.kill('SIGTERM');
          await Promise.all([a.exited, b.exited]);
        }
      });
    },
  );
}
