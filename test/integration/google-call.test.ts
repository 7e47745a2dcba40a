/**
 * Whole calls through the real server with STT=google and TTS=google, both real Google clients pointed at one
 * local fake of Google's gRPC services (GOOGLE_API_ENDPOINT): the simulated caller speaks flite-synthesized lines
 * in real time, the fake answers each turn with a scripted transcript, and the flow orders a pizza from a local
 * order service. Then Google fails everything, and the call goes on with the embedded engines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { leftToOfflineRun } from '../support/network-isolation.ts';
import * as grpc from '@grpc/grpc-js';
import { placeCall, type CallerInput } from '../../src/simulator/caller.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { startFakeGoogle } from '../fakes/google-server.ts';
import { startFlowServices } from '../fixtures/spoken-calls.ts';
import { serve } from '../support/serve-process.ts';

/** What the caller says in each state of the pizza flow: exact examples, so NLU=off understands them. */
const LINES: Record<string, string> = {
  greet: 'i want to order',
  size: 'large',
  count: 'four',
  confirm: 'yes',
};

async function spoken(caller: FliteTts): Promise<Record<string, CallerInput>> {
  const inputs: Record<string, CallerInput> = {};
  for (const [state, text] of Object.entries(LINES))
    inputs[state] = { kind: 'speech', text, audio: (await caller.synthesize({ text })).mulaw };
  return inputs;
}

async function start(google: { host: string; port: number }, services: string, prompts: string) {
  return serve({
    TTS: 'google',
    STT: 'google',
    NLU: 'off',
    STORE_URL: 'memory:',
    GOOGLE_API_ENDPOINT: `${google.host}:${google.port}`,
    PROMPT_CACHE_DIR: prompts,
    ORDERS_URL: services,
    HTTP_ALLOW_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
}

test(
  'a pizza ordered by voice with STT=google and TTS=google: the transcripts reach the flow, every prompt is Google audio',
  { skip: leftToOfflineRun },
  async (ctx) => {
    const caller = new FliteTts({ voice: 'rms' });
    const inputs = await spoken(caller);
    const google = await startFakeGoogle({
      speech: { turns: Object.values(LINES), interim: { afterBytes: 800, text: 'uh' } },
    });
    const { url: services, server } = await startFlowServices();
    const prompts = await mkdtemp(join(tmpdir(), 'switchboard-prompts-'));
    const s = await start(google, services, prompts);
    ctx.after(async () => {
      s.child.kill('SIGTERM');
      await s.exited;
      await google.close();
      await caller.close();
      server.close();
      await rm(prompts, { recursive: true, force: true });
    });
    assert.match(s.banner, /TTS google/);
    assert.match(s.banner, /STT google/);

    const result = await placeCall({
      url: s.url,
      flow: 'pizza',
      answerFor: (state) => inputs[state],
      idleHangupMs: 3000,
      maxDurationMs: 60_000,
    });
    const ofCall = s.logs().filter((r) => r.callId === result.callSid);
    assert.equal(
      ofCall.find((r) => r.msg === 'call ended')?.state,
      'placed',
      JSON.stringify(result.timeline.map((e) => e.kind)),
    );
    assert.deepEqual(
      ofCall.filter((r) => r.msg === 'caller heard').map((r) => r.intent),
      ['order', null, null, 'yes'],
    );

    // One recognition stream per turn, each configured for phone audio, with the state's phrases as hints.
    const streams = google.speech.streams.filter((st) => st.bytes > 0);
    assert.equal(streams.length, 4);
    for (const st of streams) {
      assert.equal(st.config?.config?.encoding, 'MULAW');
      assert.equal(st.config?.config?.sampleRateHertz, 8000);
      assert.equal(st.config?.config?.model, 'phone_call');
      assert.equal(st.config?.config?.languageCode, 'en-US', "the flow's language");
      assert.equal(st.config?.interimResults, true);
    }
    const sizeHints = streams[1]!.config?.config?.speechContexts?.[0]?.phrases ?? [];
    assert.ok(
      sizeHints.includes('large') && sizeHints.includes('small'),
      'the size question hints its sizes',
    );
    // The agent's voice: Google's audio for every prompt, and each one kept on disk for the next start.
    const agent = result.timeline.filter((e) => e.kind === 'agent');
    assert.ok(agent.length >= 5 && agent.every((e) => e.durationMs > 0));
    assert.ok(google.tts.requests.length >= 5);
    assert.ok(
      (await readdir(prompts)).filter((f) => f.endsWith('.ulaw')).length >= 5,
      'prompts kept on disk',
    );
  },
);

test('when Google keeps failing, the call is spoken by flite at once and heard by pocketsphinx after the switch', async (ctx) => {
  const caller = new FliteTts({ voice: 'rms' });
  const inputs = await spoken(caller);
  const google = await startFakeGoogle();
  // Every stream and every synthesis fails as an outage would, retries included.
  google.speech.failNextStream(0, grpc.status.UNAVAILABLE, 1000);
  google.tts.failNext(1000, grpc.status.UNAVAILABLE);
  const { url: services, server } = await startFlowServices();
  const s = await start(google, services, 'off');
  ctx.after(async () => {
    s.child.kill('SIGTERM');
    await s.exited;
    await google.close();
    await caller.close();
    server.close();
  });
  const deadline = Date.now() + 30_000;
  while (!s.logs().some((r) => r.msg === 'embedded engines ready for failover')) {
    assert.ok(Date.now() < deadline, 'the embedded engines load');
    await new Promise((r) => setTimeout(r, 100));
  }
  const ready = s.logs().find((r) => r.msg === 'embedded engines ready for failover')!;
  assert.equal(ready.voice, true);

  // Once the call has moved on by speech (the size question played to its end), the rest adds nothing: hang up.
  const hangUp = new AbortController();
  const result = await placeCall({
    url: s.url,
    flow: 'pizza',
    answerFor: (state) => inputs[state],
    idleHangupMs: 3000,
    maxDurationMs: 90_000,
    signal: hangUp.signal,
    onEvent: (e) => {
      if (e.kind === 'agent' && e.mark.startsWith('size.')) hangUp.abort();
    },
  });
  const ofCall = s.logs().filter((r) => r.callId === result.callSid);
  const switches = ofCall.filter((r) => String(r.msg).endsWith('keeps failing; the call switches'));
  assert.deepEqual(switches.map((r) => `${String(r.msg)} ${String(r.to)}`).sort(), [
    `speech recognition keeps failing; the call switches ${ready.hearing ? 'embedded' : 'dtmf'}`,
    'speech synthesis keeps failing; the call switches embedded',
  ]);
  // Never silent: every prompt had audio though Google answered none.
  const agent = result.timeline.filter((e) => e.kind === 'agent');
  assert.ok(agent.length >= 3 && agent.every((e) => e.durationMs > 0));
  assert.equal(
    google.speech.streams.filter((st) => st.failedWith === null).length,
    0,
    'Google heard nothing',
  );
  if (ready.hearing) {
    // The greeting's answer, failed twice by Google, was heard by pocketsphinx the third time.
    assert.ok(
      result.marks.some((m) => m.startsWith('size.')),
      'the call moved on by speech',
    );
    ctx.diagnostic(`the call ended in ${String(ofCall.find((r) => r.msg === 'call ended')?.state)}`);
  }
});
