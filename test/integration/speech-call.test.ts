/**
 * A pizza ordered by voice alone, end to end: the simulated caller speaks flite-synthesized lines in real time
 * over the Media Streams socket; the server hears them with pocketsphinx and Silero VAD, understands them with
 * the flow's trained model and entities, and places the order with a local test double of the order service.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulawToPcm } from '../../src/audio/mulaw.ts';
import { placeCall, type CallerInput } from '../../src/simulator/caller.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { SileroVad } from '../../src/speech/vad/silero.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { SPOKEN_CALLS, startFlowServices } from '../fixtures/spoken-calls.ts';
import { openPocketsphinx, startServer } from '../support/harness.ts';

const caller = new FliteTts({ voice: 'rms' });
const warmUp = mulawToPcm(
  (await caller.synthesize({ text: 'Hello, thanks for calling. I would like to ask about my order please.' }))
    .mulaw,
);
const stt = await openPocketsphinx(warmUp);

test(
  stt
    ? 'the example flows by voice alone: every spoken turn is understood and each call ends where it should'
    : 'SKIPPED: the example flows by voice (pocketsphinx is not installed: apt-get install libpocketsphinx3 pocketsphinx-en-us)',
  { skip: stt === null },
  async (ctx) => {
    const { url: servicesUrl, server: services } = await startFlowServices();
    const models = await mkdtemp(join(tmpdir(), 'switchboard-speech-models-'));
    const vad = await SileroVad.create();
    // Short tones stand in for the agent's voice: only the caller's speech is recognized.
    const server = await startServer({
      tts: new ToneTts({ msPerChar: 10 }),
      modelsDir: models,
      hearing: { stt: stt!, openVad: (listener) => vad.open(listener) },
      env: { ORDERS_URL: servicesUrl, BILLING_URL: servicesUrl },
      httpAllowHosts: ['127.0.0.1'],
    });
    ctx.after(async () => {
      await server.close();
      await vad.close();
      await stt!.close();
      await caller.close();
      services.close();
      await rm(models, { recursive: true, force: true });
    });

    let turns = 0;
    let right = 0;
    const latencies: string[] = [];
    for (const call of SPOKEN_CALLS) {
      const inputs: CallerInput[] = [];
      for (const text of call.lines)
        inputs.push({ kind: 'speech', text, audio: (await caller.synthesize({ text })).mulaw });
      const result = await placeCall({ url: server.url, flow: call.flow, inputs, idleHangupMs: 2000 });
      const ofCall = server.records.filter((r) => r.callId === result.callSid);
      const heard = ofCall.filter((r) => r.msg === 'caller heard');
      turns += call.lines.length;
      right += call.intents.filter(
        (intent, i) => heard[i] !== undefined && heard[i].intent === intent,
      ).length;
      assert.equal(
        ofCall.find((r) => r.msg === 'call ended')?.state,
        call.end,
        `${call.flow} ends in ${call.end}`,
      );
      latencies.push(
        ...ofCall.filter((r) => r.msg === 'turn latency').map((r) => String(r.endOfTurnToAudioMs)),
      );
    }
    ctx.diagnostic(`${right}/${turns} turns understood as meant`);
    ctx.diagnostic(`end of turn -> first agent audio (ms): ${latencies.join(', ')}`);
    assert.ok(right / turns >= 0.95, `${right}/${turns} turns understood as meant`);
  },
);
