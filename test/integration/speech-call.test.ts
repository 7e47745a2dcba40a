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
import { isSwitchboardError } from '../../src/errors.ts';
import { placeCall, type CallerInput } from '../../src/simulator/caller.ts';
import { PocketsphinxStt } from '../../src/speech/stt/pocketsphinx.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { SileroVad } from '../../src/speech/vad/silero.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { startServer } from './harness.ts';

async function pocketsphinx(warmUp: Int16Array): Promise<PocketsphinxStt | null> {
  try {
    return await PocketsphinxStt.open({ decoders: 1, warmUpAudio: warmUp });
  } catch (err) {
    if (isSwitchboardError(err, 'STT_UNAVAILABLE')) return null;
    throw err;
  }
}

const caller = new FliteTts({ voice: 'rms' });
const warmUp = mulawToPcm(
  (await caller.synthesize({ text: 'Hello, thanks for calling. I would like to ask about my order please.' }))
    .mulaw,
);
const stt = await pocketsphinx(warmUp);

test(
  stt
    ? 'a pizza ordered by voice: every spoken turn reaches the state it should'
    : 'SKIPPED: a pizza ordered by voice (pocketsphinx is not installed: apt-get install libpocketsphinx3 pocketsphinx-en-us)',
  { skip: stt === null },
  async (ctx) => {
    const orders = createServer((_req, res) => res.end(JSON.stringify({ id: '7', readyInMinutes: 15 })));
    await new Promise<void>((resolve) => orders.listen(0, '127.0.0.1', resolve));
    const models = await mkdtemp(join(tmpdir(), 'switchboard-speech-models-'));
    const vad = await SileroVad.create();
    // Short tones stand in for the agent's voice: only the caller's speech is recognized.
    const server = await startServer({
      tts: new ToneTts({ msPerChar: 10 }),
      defaultFlow: 'pizza',
      modelsDir: models,
      hearing: { stt: stt!, openVad: (listener) => vad.open(listener) },
      env: { ORDERS_URL: `http://127.0.0.1:${(orders.address() as AddressInfo).port}` },
    });
    ctx.after(async () => {
      await server.close();
      await vad.close();
      await stt!.close();
      await caller.close();
      orders.close();
      await rm(models, { recursive: true, force: true });
    });

    const lines = ['I would like to order a pizza', 'large please', 'four', 'yes that is right'];
    const inputs: CallerInput[] = [];
    for (const text of lines)
      inputs.push({ kind: 'speech', text, audio: (await caller.synthesize({ text })).mulaw });
    const result = await placeCall({ url: server.url, flow: 'pizza', inputs, idleHangupMs: 2000 });

    const heard = server.records.filter((r) => r.msg === 'caller heard' && r.callId === result.callSid);
    assert.equal(heard.length, 4, 'one recognized turn per line');
    assert.deepEqual(
      heard.map((r) => r.intent),
      ['order', null, null, 'yes'],
    );
    const ended = server.records.find((r) => r.msg === 'call ended' && r.callId === result.callSid);
    assert.equal(ended?.state, 'placed');
    const latencies = server.records.filter((r) => r.msg === 'turn latency' && r.callId === result.callSid);
    assert.equal(latencies.length, 4);
    ctx.diagnostic(
      `end of turn -> first agent audio (ms): ${latencies.map((r) => String(r.endOfTurnToAudioMs)).join(', ')}`,
    );
  },
);
