import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LogRecord } from '../../src/observability/logger.ts';
import { placeCall, type TimelineEvent } from '../../src/simulator/caller.ts';
import { RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

let server: TestServer;
let counter = 0;
const nextCallSid = (): string => 'CA' + String(++counter).padStart(32, '0');

/**
 * Runs `misbehave` on a raw stream while a well-behaved call listens to the whole greeting alongside, and checks
 * that the good call was not affected.
 */
async function withGoodCallAlongside(misbehave: () => Promise<void>): Promise<void> {
  const good = placeCall({ url: server.url, idleHangupMs: 300 });
  await misbehave();
  const result = await good;
  const turn = result.timeline.find(
    (e): e is Extract<TimelineEvent, { kind: 'agent' }> => e.kind === 'agent',
  );
  assert.ok(turn && !turn.interrupted && turn.durationMs > 3000, 'the other call heard its whole greeting');
  assert.equal(result.endedBy, 'caller');
  assert.equal(result.closeCode, 1000);
}

const rejected =
  (code: string, extra: (r: LogRecord) => boolean = () => true) =>
  (r: LogRecord) =>
    r.msg === 'media stream rejected' && r.code === code && extra(r);

/** Opens the stream and starts it with the ticket the voice webhook would issue, and `params` over it. */
async function started(stream: RawStream, params: Record<string, string> = {}): Promise<void> {
  const ticket = await server.streamParams(stream.callSid, 'demo');
  await stream.opened;
  stream.send(stream.enc.connected());
  stream.send(stream.enc.start({ ...ticket, ...params }));
}

describe('bad input ends only the call that sent it', { concurrency: true }, () => {
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, 'the server is still up after all the bad input');
    await server.close();
  });

  test('malformed JSON', async () => {
    await withGoodCallAlongside(async () => {
      const s = new RawStream(server.wsUrl, nextCallSid());
      await started(s);
      s.send('{"event": "media", ');
      assert.equal((await s.closed).code, 1002);
      await waitForLog(server.records, rejected('MEDIA_BAD_JSON'));
    });
  });

  test('unknown event', async () => {
    await withGoodCallAlongside(async () => {
      const s = new RawStream(server.wsUrl, nextCallSid());
      await started(s);
      s.send(JSON.stringify({ event: 'teleport', streamSid: 'MZ1' }));
      assert.equal((await s.closed).code, 1002);
      await waitForLog(server.records, rejected('MEDIA_UNKNOWN_EVENT'));
    });
  });

  test('media before start', async () => {
    await withGoodCallAlongside(async () => {
      const s = new RawStream(server.wsUrl, nextCallSid());
      await s.opened;
      s.send(s.enc.connected());
      s.send(s.enc.media('/////w==', 0));
      assert.equal((await s.closed).code, 1002);
      await waitForLog(
        server.records,
        rejected('MEDIA_OUT_OF_ORDER', (r) => r.event === 'media'),
      );
    });
  });

  test('payload that is not base64', async () => {
    await withGoodCallAlongside(async () => {
      const callSid = nextCallSid();
      const s = new RawStream(server.wsUrl, callSid);
      await started(s);
      s.send(s.enc.media('not*base64!', 0));
      assert.equal((await s.closed).code, 1002);
      await waitForLog(
        server.records,
        rejected('MEDIA_BAD_PAYLOAD', (r) => r.callId === callSid),
      );
      await waitForLog(server.records, (r) => r.msg === 'call ended' && r.callId === callSid);
    });
  });

  test('a message over the size limit', async () => {
    await withGoodCallAlongside(async () => {
      const s = new RawStream(server.wsUrl, nextCallSid());
      await started(s);
      s.send(s.enc.media('A'.repeat(200_000), 0));
      assert.equal((await s.closed).code, 1009);
      await waitForLog(server.records, rejected('MEDIA_TOO_LARGE'));
    });
  });

  test('a second start on one socket', async () => {
    await withGoodCallAlongside(async () => {
      const s = new RawStream(server.wsUrl, nextCallSid());
      await started(s);
      s.send(s.enc.start({ flow: 'demo' }));
      assert.equal((await s.closed).code, 1002);
      await waitForLog(
        server.records,
        rejected('MEDIA_OUT_OF_ORDER', (r) => r.event === 'start'),
      );
    });
  });

  test('the socket dropped mid-prompt', async () => {
    await withGoodCallAlongside(async () => {
      const callSid = nextCallSid();
      const s = new RawStream(server.wsUrl, callSid);
      await started(s);
      await s.waitFor((m) => m.includes('"event":"media"'));
      s.ws.terminate();
      const ended = await waitForLog(server.records, (r) => r.msg === 'call ended' && r.callId === callSid);
      assert.equal(ended.reason, 'stream dropped');
      assert.equal(ended.state, 'menu');
    });
  });

  test('a stream without a ticket, with a forged one, or with the ticket of another call', async () => {
    await withGoodCallAlongside(async () => {
      const other = nextCallSid();
      const otherTicket = await server.streamParams(other, 'demo');
      const cases: [string, (sid: string) => Promise<Record<string, string>>][] = [
        ['no ticket', () => Promise.resolve({ flow: 'demo' })],
        [
          'forged token',
          async (sid) => ({ ...(await server.streamParams(sid, 'demo')), token: 'x'.repeat(43) }),
        ],
        ['another call', () => Promise.resolve(otherTicket)],
      ];
      for (const [name, params] of cases) {
        const sid = nextCallSid();
        const s = new RawStream(server.wsUrl, sid);
        const p = await params(sid);
        await s.opened;
        s.send(s.enc.connected());
        s.send(s.enc.start(p));
        assert.equal((await s.closed).code, 1008, name);
        assert.ok(!s.received.some((m) => m.includes('"event":"media"')), `${name}: nothing was said`);
      }
      const refusals = server.records.filter(
        (r) => r.msg === 'media stream rejected' && r.code === 'RESUME_REFUSED',
      );
      assert.equal(refusals.length, 3);
    });
  });

  test('a flood of keys and of marks never sent: a bounded journal and log, the call goes on', async () => {
    await withGoodCallAlongside(async () => {
      const callSid = nextCallSid();
      const s = new RawStream(server.wsUrl, callSid);
      await started(s);
      await s.waitFor((m) => m.includes('"event":"media"'));
      for (let i = 0; i < 2000; i++) s.send(s.enc.dtmf('*'));
      for (let i = 0; i < 2000; i++) s.send(s.enc.mark(`m${i}`));
      await waitForLog(server.records, (r) => r.code === 'DTMF_FLOOD' && r.callId === callSid);
      s.send(s.enc.stop());
      const ended = await waitForLog(server.records, (r) => r.msg === 'call ended' && r.callId === callSid);
      const keys = server.records.filter((r) => r.msg === 'dtmf received' && r.callId === callSid).length;
      assert.ok(keys <= 40, `${keys} keys taken`);
      assert.equal(Number(ended.keysDropped) + keys, 2000, 'every key either taken or counted');
      const marks = server.records.filter(
        (r) => r.msg === 'mark echo for a mark never sent' && r.callId === callSid,
      );
      assert.equal(marks.length, 3, 'the first few logged');
      assert.equal(ended.unknownMarks, 2000, 'all of them counted');
      const journal = await server.journals.store.read(callSid);
      assert.ok(journal.length < 100, `${journal.length} records`);
    });
  });

  test('a CallSid of 600 characters is refused before anything is stored', async () => {
    const callSid = 'CA' + 'f'.repeat(598);
    for (const path of ['/twilio/voice', '/twilio/connect-ended']) {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `CallSid=${callSid}`,
      });
      assert.equal(res.status, 400, path);
    }
    assert.equal(await server.journals.store.summary(callSid), null);
    const refused = await waitForLog(server.records, (r) => r.code === 'HTTP_BAD_BODY');
    assert.ok(JSON.stringify(refused).length < 2000);
  });

  test('an unknown flow name', async () => {
    await withGoodCallAlongside(async () => {
      const s = new RawStream(server.wsUrl, nextCallSid());
      await started(s, { flow: 'no-such-flow' });
      assert.equal((await s.closed).code, 1008);
      await waitForLog(server.records, rejected('FLOW_NOT_FOUND'));
      // At the webhook, an unknown flow is refused politely in TwiML rather than with an HTTP error.
      const res = await fetch(`${server.url}/twilio/voice?flow=no-such-flow`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'CallSid=CA1',
      });
      assert.equal(res.status, 200);
      const xml = await res.text();
      assert.match(xml, /<Say>.*<\/Say><Hangup\/>/);
    });
  });

  test('digits and phone numbers stay out of log message text', async () => {
    await placeCall({
      url: server.url,
      from: '+15551230000',
      inputs: [
        { kind: 'dtmf', keys: '2' },
        { kind: 'dtmf', keys: '98765#' },
      ],
      idleHangupMs: 200,
      maxDurationMs: 20_000,
    });
    const text = server.records.map((r) => JSON.stringify(r)).join('\n');
    assert.ok(!text.includes('+15551230000'), 'the caller number is redacted');
    assert.ok(!text.includes('98765'), 'typed digits are redacted');
    assert.ok(server.records.some((r) => r.msg === 'dtmf received' && r.pii?.digit === '[redacted]'));
  });
});
