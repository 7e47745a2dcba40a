/**
 * `switchboard serve` with several worker processes (WORKERS, node:cluster): every route works whichever worker
 * receives it, and a worker that dies mid-call is replaced while its call resumes from its journal. Requests are
 * pinned to chosen workers through the X-Switchboard-Worker header each answer carries.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { WebSocket } from 'ws';
import { placeCall, type CallerInput, type TimelineEvent } from '../../src/simulator/caller.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { InboundEncoder } from '../../src/telephony/media-streams.ts';
import { startOrdersService } from '../fakes/orders-service.ts';
import { openOnWorker, pinAgents, send, stream } from '../support/pinned-workers.ts';
import { serve } from '../support/serve-process.ts';

const tmp = mkdtempSync(join(tmpdir(), 'sb-workers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Messages received on a websocket, and a way to wait for one. */
function inbox(ws: WebSocket): { waitFor: (pred: (m: string) => boolean) => Promise<string> } {
  const received: string[] = [];
  ws.on('message', (data: Buffer) => received.push(data.toString()));
  return {
    async waitFor(pred) {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const hit = received.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('timed out waiting for a message');
    },
  };
}

test('three workers: webhook, media stream, resume, softphone, live view and /metrics each on a different worker', async () => {
  const served = await serve({
    WORKERS: '3',
    STORE_URL: `sqlite:${join(tmp, 'routes.db')}`,
    MODELS_DIR: join(tmp, 'models'),
    STT: 'off',
    NLU: 'off',
    SOFTPHONE: 'on',
    LOG_LEVEL: 'info',
  });
  try {
    assert.match(served.banner, /workers {4}: 3 processes/);
    const agents = await pinAgents(served.url, 3);
    const [a, b, c] = [agents.get(1)!, agents.get(2)!, agents.get(3)!];
    const wsBase = served.url.replace(/^http/, 'ws');

    // A phone call: its webhook on worker 1, its stream on worker 2.
    const callSid = 'CA' + 'a1'.repeat(16);
    const voice = await send(a, `${served.url}/twilio/voice?flow=demo`, form({ CallSid: callSid }));
    assert.equal(voice.status, 200);
    assert.equal(voice.headers['x-switchboard-worker'], '1');
    const connect = readTwiml(voice.body).connect;
    assert.ok(connect, `worker 1 connects the call: ${voice.body}`);
    const first = await openOnWorker(connect.streamUrl, 2);
    const firstInbox = inbox(first);
    const enc = new InboundEncoder({
      streamSid: 'MZ' + 'b'.repeat(32),
      callSid,
      accountSid: 'AC' + '0'.repeat(32),
    });
    first.send(enc.connected());
    first.send(enc.start(connect.parameters));
    await firstInbox.waitFor((m) => m.includes('"event":"mark"'));
    // The stream drops (a network fault): worker 2 lets the call go in its journal.
    first.terminate();
    await waitUntil(() => served.logs().some((l) => l.msg === 'call ended' && l.callId === callSid));

    // Twilio asks the action URL on worker 3, which reads the shared journal and resumes the call.
    const ended = await send(c, `${served.url}/twilio/connect-ended`, form({ CallSid: callSid }));
    const resume = readTwiml(ended.body).connect;
    assert.ok(resume, `worker 3 resumes the call: ${ended.body}`);
    const second = await openOnWorker(resume.streamUrl, 1);
    const secondInbox = inbox(second);
    second.send(enc.connected());
    second.send(enc.start(resume.parameters));
    await secondInbox.waitFor((m) => m.includes('"event":"mark"'));
    const resumed = served
      .logs()
      .find((l) => l.msg === 'call resumed from its journal' && l.callId === callSid);
    assert.equal(resumed?.worker, 1, 'worker 1 took the call up from the journal worker 2 wrote');
    second.send(enc.stop());

    // A softphone call: placed on worker 1, its live view on worker 3, its stream on worker 2.
    const page = await send(b, `${served.url}/`);
    const token = /name="softphone-token" content="([^"]+)"/.exec(page.body)![1]!;
    const placed = await send(a, `${served.url}/softphone/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-softphone-token': token },
      body: JSON.stringify({ flow: 'demo' }),
    });
    assert.equal(placed.status, 200);
    const call = JSON.parse(placed.body) as {
      callSid: string;
      viewToken: string;
      params: Record<string, string>;
    };
    const view = stream(
      c,
      `${served.url}/softphone/calls/${call.callSid}/events?token=${encodeURIComponent(call.viewToken)}`,
    );
    const phone = await openOnWorker(`${wsBase}/softphone/media?token=${encodeURIComponent(token)}`, 2, {
      origin: served.url,
    });
    const phoneInbox = inbox(phone);
    const phoneEnc = new InboundEncoder({
      streamSid: 'MZ' + 'c'.repeat(32),
      callSid: call.callSid,
      accountSid: 'AC' + '0'.repeat(32),
    });
    phone.send(phoneEnc.connected());
    phone.send(phoneEnc.start(call.params));
    await phoneInbox.waitFor((m) => m.includes('"event":"mark"'));
    phone.send(phoneEnc.dtmf('1'));
    // The key reaches worker 3's view before the stream ends.
    await waitUntil(() => view.text.includes('"type":"keys"'));
    phone.send(phoneEnc.stop());
    const events = (await view.done)
      .split('\n\n')
      .filter((chunk) => chunk.startsWith('data: '))
      .map(
        (chunk) =>
          JSON.parse(chunk.slice('data: '.length)) as { type: string; state?: string; keys?: string },
      );
    assert.equal(events[0]?.type, 'state', 'worker 3 streams the view of a call worker 2 holds');
    assert.ok(events.some((e) => e.type === 'prompt'));
    assert.ok(
      events.some((e) => e.type === 'keys' && e.keys === '1'),
      'the key pressed on worker 2 shows',
    );
    assert.equal(events.at(-1)?.type, 'ended');

    // /metrics from worker 3 has every process, worker 2's media frames included.
    const metrics = (await send(c, `${served.url}/metrics`)).body;
    const framesOut = (w: number) =>
      Number(
        new RegExp(`^switchboard_media_frames_out_total\\{worker="${w}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ??
          0,
      );
    assert.ok(framesOut(2) > 0, 'worker 2 counted the agent audio of the streams it held');
    assert.ok(framesOut(1) > 0, 'worker 1 counted that of the resumed stream');
    assert.match(metrics, /^switchboard_workers\{worker="primary"\} 3$/m);
    assert.equal(metrics.match(/^# TYPE switchboard_media_frames_out_total /gm)?.length, 1, 'one family');
    for (const agent of agents.values()) agent.destroy();
  } finally {
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, 'the primary exits cleanly once every worker has drained');
  }
});

/** The pizza flow answered by state, so a question asked again after a crash gets its answer again. */
const ANSWERS: Record<string, string> = { greet: '1', size: '3', count: '4#', confirm: '1' };
const answerFor = (state: string): CallerInput | undefined =>
  ANSWERS[state] === undefined ? undefined : { kind: 'dtmf', keys: ANSWERS[state] };

test('a worker killed mid-call is replaced, and its call resumes from its journal', async () => {
  const orders = await startOrdersService();
  const served = await serve({
    WORKERS: '2',
    STORE_URL: `sqlite:${join(tmp, 'crash.db')}`,
    MODELS_DIR: join(tmp, 'models'),
    STT: 'off',
    NLU: 'off',
    ORDERS_URL: orders.url,
    HTTP_ALLOW_HOSTS: '127.0.0.1',
    PIZZA_STAFF_LINE: '+15555550100',
    LOG_LEVEL: 'info',
  });
  try {
    const pidOf = (slot: unknown) =>
      served.logs().findLast((l) => l.msg === 'worker started' && l.worker === slot)?.pid as
        number | undefined;
    let killed: { slot: unknown; pid: number } | null = null;
    const timeline: TimelineEvent[] = [];
    const result = await placeCall({
      url: served.url,
      flow: 'pizza',
      answerFor,
      thinkMs: 200,
      idleHangupMs: 4000,
      maxDurationMs: 90_000,
      onEvent: (event) => {
        timeline.push(event);
        // Once the count question has been heard, the worker holding the call dies before the answer.
        if (killed === null && event.kind === 'agent' && event.mark.startsWith('count.')) {
          const slot = served.logs().find((l) => l.msg === 'call started')?.worker;
          const pid = pidOf(slot);
          if (pid !== undefined) {
            killed = { slot, pid };
            process.kill(pid, 'SIGKILL');
          }
        }
      },
    });
    assert.ok(killed, 'the worker holding the call was killed');
    const opened = timeline.filter((e) => e.kind === 'stream' && e.event === 'open');
    assert.equal(opened.length, 2, 'the caller followed the action URL to a new stream');
    assert.equal(result.endedBy, 'agent', 'the flow ended the call: it reached its goodbye');
    const resumed = served.logs().find((l) => l.msg === 'call resumed from its journal');
    assert.equal(resumed?.callId, result.callSid);
    assert.equal(resumed?.state, 'count', 'the call was taken up in the state it was in');
    assert.equal(orders.applied.length, 1, 'the order was placed once');
    const died = served.logs().find((l) => String(l.msg).startsWith('worker died'));
    assert.equal(died?.pid, (killed as { pid: number } | null)?.pid);
    await waitUntil(() => served.logs().some((l) => l.msg === 'worker replaced'));
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    assert.match(metrics, /^switchboard_worker_restarts_total\{worker="primary"\} 1$/m);
  } finally {
    served.child.kill('SIGTERM');
    await served.exited;
    await orders.close();
  }
});

async function waitUntil(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}
