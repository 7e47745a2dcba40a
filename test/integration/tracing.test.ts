/**
 * Traces end to end: `switchboard serve` with OTEL_EXPORTER_OTLP_ENDPOINT pointed at a local OTLP receiver takes
 * a call with one spoken turn (flite-synthesized, heard with Silero VAD and pocketsphinx), and its spans arrive:
 * the call's span in the trace derived from the call id, the turn under it, the turn's stages under the turn,
 * journal appends in the call's trace, the web requests; and no personal data in any attribute.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { callTraceId } from '../../src/tracing/trace-ids.ts';
import { placeCall } from '../../src/simulator/caller.ts';
import { readTwiml } from '../../src/simulator/twiml-reader.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { exampleFlowFile } from '../fixtures/example-flows.ts';
import { OtlpReceiver, type ReceivedSpan } from '../fakes/otlp-receiver.ts';
import { RawStream } from '../support/harness.ts';
import { serve, type Served } from '../support/serve-process.ts';

// Only the flow the call runs, so start-up trains one intent model.
const DIR = await mkdtemp(join(tmpdir(), 'switchboard-tracing-'));
await copyFile(exampleFlowFile('pizza'), join(DIR, 'pizza.json'));
await copyFile(exampleFlowFile('demo'), join(DIR, 'demo.json'));
after(() => rm(DIR, { recursive: true, force: true }));

const LINE = 'I would like to order a pizza';
const FROM = '+15557654321';

test('a spoken call is traced: call, turn and stage spans in the call id’s trace, linked, without personal data (skipped when pocketsphinx is not installed)', async (ctx) => {
  const receiver = await OtlpReceiver.start();
  const caller = new FliteTts({ voice: 'rms' });
  ctx.after(async () => {
    await caller.close();
    await receiver.close();
  });
  const s = await serve({
    FLOWS_DIR: DIR,
    MODELS_DIR: join(DIR, 'models'),
    WORKERS: '1',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_SERVICE_NAME: 'switchboard-under-test',
    // Export every 100 ms rather than the SDK's 5 s, so the test does not wait.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  let exited = false;
  ctx.after(async () => {
    if (!exited) s.child.kill('SIGKILL');
    await s.exited;
  });
  if (!/STT pocketsphinx/.test(s.banner)) {
    ctx.skip('pocketsphinx is not installed (apt-get install libpocketsphinx3 pocketsphinx-en-us)');
    return;
  }
  const audio = (await caller.synthesize({ text: LINE })).mulaw;
  const call = await placeCall({
    url: s.url,
    flow: 'pizza',
    from: FROM,
    inputs: [{ kind: 'speech', text: LINE, audio }],
    idleHangupMs: 1500,
  });
  const trace = callTraceId(call.callSid);
  const ofCall = (spans: readonly ReceivedSpan[]) => spans.filter((sp) => sp.traceId === trace);
  await receiver.waitFor((spans) => ofCall(spans).some((sp) => sp.name === 'call'));
  await receiver.waitFor((spans) => ofCall(spans).some((sp) => sp.name === 'turn.first_audio'));
  // A clean shutdown exports what is still buffered.
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
  exited = true;

  const spans = ofCall(receiver.spans);
  const named = (name: string) => spans.filter((sp) => sp.name === name);
  const [callSpan] = named('call');
  assert.ok(callSpan, 'the call span arrived');
  assert.equal(named('call').length, 1, 'one stream, one call span');
  assert.equal(callSpan.parentSpanId, '', 'the call span is a root of its trace');
  assert.equal(callSpan.attributes['switchboard.call.id'], call.callSid);
  assert.equal(callSpan.attributes['switchboard.flow'], 'pizza');
  assert.equal(typeof callSpan.attributes['switchboard.flow.version'], 'number');
  assert.equal(callSpan.attributes['switchboard.call.resumed'], false);
  assert.equal(callSpan.attributes['switchboard.call.end_reason'], 'caller hung up');
  assert.ok(Number(callSpan.attributes['switchboard.call.frames_in']) > 50, 'frames in are counted');
  assert.ok(Number(callSpan.attributes['switchboard.call.frames_out']) > 0, 'frames out are counted');
  assert.equal(callSpan.resource['service.name'], 'switchboard-under-test', 'OTEL_SERVICE_NAME is respected');

  const turns = named('turn').filter((t) => t.attributes['switchboard.turn.answered'] === true);
  assert.ok(turns.length >= 1, 'the spoken turn was answered and traced');
  const turn = turns[0]!;
  assert.equal(turn.parentSpanId, callSpan.spanId, 'the turn is under the call');
  assert.equal(turn.attributes['switchboard.turn.intent'], 'order');
  const stages = ['turn.end_of_turn', 'turn.recognition', 'turn.decision', 'turn.first_audio'].map((name) => {
    const stage = named(name).find((sp) => sp.parentSpanId === turn.spanId);
    assert.ok(stage, `${name} is under the turn`);
    return stage;
  });
  // The stages follow each other inside the turn, ending with its first audio (ms, rounded by the receiver).
  for (let i = 1; i < stages.length; i++) assert.ok(stages[i]!.startMs >= stages[i - 1]!.startMs);
  assert.ok(stages[0]!.startMs >= turn.startMs - 1 && stages[3]!.endMs <= turn.endMs + 1);
  assert.ok(turn.startMs >= callSpan.startMs - 1 && turn.endMs <= callSpan.endMs + 1);

  const appends = named('journal.append');
  assert.ok(appends.length >= 2, 'journal appends are in the call’s trace');
  assert.ok(
    appends.some((a) => a.parentSpanId === callSpan.spanId),
    'appends made while the call is live are under its span',
  );
  const requests = receiver.spans.filter((sp) => sp.name === 'POST /twilio/voice');
  assert.equal(requests.length, 1, 'the voice webhook has its span');
  assert.equal(requests[0]!.attributes['http.response.status_code'], 200);
  assert.equal(requests[0]!.attributes['http.route'], '/twilio/voice');

  // Personal data: not the words, not the caller's number, not in any span of the run.
  const everything = JSON.stringify(receiver.spans.map((sp) => [sp.attributes, sp.events]));
  for (const secret of ['would like', 'order a pizza', FROM, FROM.slice(2)]) {
    assert.ok(!everything.includes(secret), `"${secret}" appears in no span`);
  }
  assert.deepEqual(receiver.refused, [], 'every export was OTLP JSON');
});

test('a call resumed on another instance continues its trace: one call span per stream, same trace id', async (ctx) => {
  const receiver = await OtlpReceiver.start();
  const env = {
    FLOWS_DIR: DIR,
    MODELS_DIR: join(DIR, 'models'),
    WORKERS: '1',
    STORE_URL: `sqlite:${join(DIR, 'shared.db')}`,
    STT: 'off',
    NLU: 'off',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  const servers: Served[] = [await serve(env), await serve(env)];
  ctx.after(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    await receiver.close();
  });
  const [a, b] = servers as [Served, Served];
  const callSid = 'CA' + '7'.repeat(32);
  const post = async (url: string, path: string) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: callSid, From: FROM, To: '+15005550001' }).toString(),
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
  const first = await post(a.url, '/twilio/voice?flow=demo');
  const onA = await open(first.connect!);
  // The stream drops (no close frame): the call stays open in the journal, to be taken up elsewhere.
  onA.ws.terminate();
  const deadline = Date.now() + 10_000;
  while (!a.logs().some((l) => l.msg === 'call ended' && l.callId === callSid)) {
    assert.ok(Date.now() < deadline, 'the first instance ends its stream');
    await new Promise((r) => setTimeout(r, 25));
  }
  const second = await post(b.url, '/twilio/connect-ended');
  assert.ok(second.connect, 'the other instance answers with a new stream');
  const onB = await open(second.connect);
  onB.send(onB.enc.stop());
  await onB.closed;
  for (const s of servers) s.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(servers.map((s) => s.exited)), [0, 0]);

  const trace = callTraceId(callSid);
  const calls = receiver.spans.filter((sp) => sp.name === 'call' && sp.traceId === trace);
  assert.equal(calls.length, 2, 'one call span per stream, both in the trace of the call id');
  const [onFirst, onSecond] = calls.sort((x, y) => x.startMs - y.startMs) as [ReceivedSpan, ReceivedSpan];
  assert.notEqual(
    onFirst.resource['service.instance.id'],
    onSecond.resource['service.instance.id'],
    'exported by two different processes',
  );
  assert.equal(onFirst.attributes['switchboard.call.end_reason'], 'stream dropped');
  assert.equal(onFirst.attributes['switchboard.call.resumed'], false);
  assert.equal(onSecond.attributes['switchboard.call.resumed'], true);
  assert.ok(onSecond.events.some((e) => e.name === 'call.resumed'));
  assert.equal(onSecond.attributes['switchboard.call.end_reason'], 'caller hung up');
  // The webhooks' journal appends (admission, the resume's ticket) are in the same trace.
  assert.ok(receiver.spans.filter((sp) => sp.name === 'journal.append' && sp.traceId === trace).length >= 2);
});
