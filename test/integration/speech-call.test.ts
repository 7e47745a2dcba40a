/**
 * A pizza ordered by voice alone, end to end: the simulated caller speaks flite-synthesized lines in real time
 * over the Media Streams socket; the server hears them with pocketsphinx and Silero VAD, understands them with
 * the flow's trained model and entities, and places the order with a local test double of the order service.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mulawToPcm } from '../../src/audio/mulaw.ts';
import { placeCall, type CallerInput } from '../../src/simulator/caller.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { SileroVad } from '../../src/speech/vad/silero.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { openPocketsphinx, startServer } from './harness.ts';

const caller = new FliteTts({ voice: 'rms' });
const warmUp = mulawToPcm(
  (await caller.synthesize({ text: 'Hello, thanks for calling. I would like to ask about my order please.' }))
    .mulaw,
);
const stt = await openPocketsphinx(warmUp);

/** Each flow driven by voice alone: what the caller says, the intent each turn should get, where it ends. */
const CALLS = [
  {
    flow: 'pizza',
    lines: ['I would like to order a pizza', 'large please', 'four', 'yes that is right'],
    intents: ['order', null, null, 'yes'],
    end: 'placed',
  },
  {
    flow: 'support',
    lines: ['I have a question about my bill', 'one two three four five six seven', 'yes'],
    intents: ['billing', null, 'yes'],
    end: 'goodbye',
  },
  {
    flow: 'appointment',
    lines: ['next tuesday', 'yes', 'half past two in the afternoon'],
    intents: [null, 'yes', null],
    end: 'booked',
  },
];

test(
  stt
    ? 'the example flows by voice alone: every spoken turn is understood and each call ends where it should'
    : 'SKIPPED: the example flows by voice (pocketsphinx is not installed: apt-get install libpocketsphinx3 pocketsphinx-en-us)',
  { skip: stt === null },
  async (ctx) => {
    // A test double for the pizzeria's order service and the billing service.
    const services = createServer((req, res) =>
      res.end(
        JSON.stringify(
          req.url?.startsWith('/accounts/')
            ? { balance: 0, due: '2026-12-15' }
            : { id: '7', readyInMinutes: 15 },
        ),
      ),
    );
    await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
    const models = await mkdtemp(join(tmpdir(), 'switchboard-speech-models-'));
    const vad = await SileroVad.create();
    const servicesUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
    // Short tones stand in for the agent's voice: only the caller's speech is recognized.
    const server = await startServer({
      tts: new ToneTts({ msPerChar: 10 }),
      modelsDir: models,
      hearing: { stt: stt!, openVad: (listener) => vad.open(listener) },
      env: { ORDERS_URL: servicesUrl, BILLING_URL: servicesUrl },
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
    for (const call of CALLS) {
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
