/**
 * Bad audio on calls that hear with the real engines (pocketsphinx, Silero VAD): digital silence in its three
 * spellings, clipped full-scale noise, timestamps with gaps (lost packets) and frames out of order. No call
 * crashes, silence is never taken for words (the call runs out its no-input retries), nothing is logged as an
 * error, and afterwards a spoken call is still heard and routed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FRAME_BYTES, FRAME_MS } from '../../src/audio/frames.ts';
import { mulawToPcm, pcmToMulaw } from '../../src/audio/mulaw.ts';
import type { LogRecord } from '../../src/observability/logger.ts';
import { placeCall } from '../../src/simulator/caller.ts';
import { FliteTts } from '../../src/speech/tts/flite.ts';
import { SileroVad } from '../../src/speech/vad/silero.ts';
import { ToneTts } from '../fakes/tone-tts.ts';
import { openPocketsphinx, RawStream, startServer, waitForLog, type TestServer } from '../support/harness.ts';

const caller = new FliteTts({ voice: 'rms' });
const warmUp = mulawToPcm(
  (await caller.synthesize({ text: 'Hello, thanks for calling. I would like to ask about my order please.' }))
    .mulaw,
);
const stt = await openPocketsphinx(warmUp);
const SKIP: string | false =
  stt === null && 'pocketsphinx is not installed: apt-get install libpocketsphinx3 pocketsphinx-en-us';
const name = (what: string): string => (SKIP ? `SKIPPED (pocketsphinx is not installed): ${what}` : what);

/** One question: a spoken intent or a key moves on; no input runs out one retry and ends in `nothing`. */
const FLOW = {
  id: 'badaudio',
  version: 1,
  language: 'en-US',
  intents: { order: { examples: ['order', 'i would like to order', 'i want to order a pizza'] } },
  start: 'ask',
  states: {
    ask: { say: 'Say order, or press 1.', on: { order: 'ordered', 'dtmf:1': 'ordered' } },
    ordered: { say: 'Ordered.', hangup: true },
    nothing: { say: 'Goodbye.', hangup: true },
  },
  policy: { noInputMs: 1500, maxRetries: 1, fallback: 'nothing' },
};

const CALL_LIMIT_MS = 15_000;

let server: TestServer;
let vad: SileroVad;
let flowsDir: string;
let counter = 0;
const nextCallSid = (): string => 'CA' + String(++counter).padStart(32, 'b');

before(async () => {
  if (SKIP) return;
  flowsDir = await mkdtemp(join(tmpdir(), 'switchboard-bad-audio-'));
  await writeFile(join(flowsDir, 'badaudio.json'), JSON.stringify(FLOW));
  vad = await SileroVad.create();
  // Short tones stand in for the agent's voice: only what the caller sends is heard.
  server = await startServer({
    tts: new ToneTts({ msPerChar: 10 }),
    flowsDir,
    defaultFlow: 'badaudio',
    hearing: { stt: stt!, openVad: (listener) => vad.open(listener) },
  });
});

after(async () => {
  await caller.close();
  if (SKIP) return;
  await server.close();
  await vad.close();
  await stt!.close();
  await rm(flowsDir, { recursive: true, force: true });
});

/** What a raw caller sends: at each 20 ms tick of real time, which frames (by index: timestamp = index x 20 ms). */
interface BadAudio {
  /** Frame indices sent at `tick`, in order: [] for a lost frame, [n + 1, n] for a swapped pair. */
  schedule(tick: number): number[];
  /** The frame's 160 bytes of mu-law, base64. */
  payload(index: number): string;
}

interface BadCallResult {
  callSid: string;
  closeCode: number;
  ended: LogRecord;
  records: LogRecord[];
  /** Timestamps of the frames sent, in the order sent. */
  sent: number[];
}

const frameOf = (byte: number): string => Buffer.alloc(FRAME_BYTES, byte).toString('base64');
const inOrder = (tick: number): number[] => [tick];

/**
 * A call from a raw Media Streams client that echoes every mark at once (the agent's tones have played by then)
 * and streams `audio` in real time until the server ends the call.
 */
async function badCall(audio: BadAudio): Promise<BadCallResult> {
  const callSid = nextCallSid();
  const s = new RawStream(server.wsUrl, callSid);
  await s.opened;
  s.ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { event: string; mark?: { name: string } };
    if (msg.event === 'mark' && s.ws.readyState === s.ws.OPEN) s.send(s.enc.mark(msg.mark!.name));
  });
  let closeCode: number | null = null;
  void s.closed.then(({ code }) => (closeCode = code));
  s.send(s.enc.connected());
  s.send(s.enc.start(await server.streamParams(callSid, 'badaudio')));
  const sent: number[] = [];
  const t0 = performance.now();
  let tick = 0;
  while (closeCode === null && performance.now() - t0 < CALL_LIMIT_MS) {
    const due = Math.floor((performance.now() - t0) / FRAME_MS);
    for (; tick < due && s.ws.readyState === s.ws.OPEN; tick++) {
      for (const index of audio.schedule(tick)) {
        s.send(s.enc.media(audio.payload(index), index * FRAME_MS));
        sent.push(index * FRAME_MS);
      }
    }
    await new Promise((r) => setTimeout(r, FRAME_MS));
  }
  if (closeCode === null) s.ws.close();
  const { code } = await s.closed;
  const ended = await waitForLog(server.records, (r) => r.msg === 'call ended' && r.callId === callSid);
  return {
    callSid,
    closeCode: code,
    ended,
    records: server.records.filter((r) => r.callId === callSid),
    sent,
  };
}

/** Silence is not words: the call ran out its no-input retry and hung up, having heard nothing, with no error. */
function assertNothingHeard(result: BadCallResult): void {
  assert.equal(result.closeCode, 1000, 'the agent ended the call normally');
  assert.equal(result.ended.state, 'nothing', 'the no-input path led to the fallback');
  const heard = result.records.filter((r) => r.msg === 'caller heard');
  assert.deepEqual(heard, [], 'no transcript from silence');
  assert.ok(
    !result.records.some((r) => r.msg === 'caller speech started'),
    'the VAD heard no speech in silence',
  );
  assert.deepEqual(
    result.records.filter((r) => r.level === 'error').map((r) => r.msg),
    [],
    'nothing logged as an error',
  );
}

test(name('mu-law silence (0xFF, linear zero) is no input'), { skip: SKIP }, async () => {
  // Linear zero encodes to 0xFF; it is what a muted phone or a silence-suppressing gateway sends.
  const zero = Buffer.from(pcmToMulaw(new Int16Array(FRAME_BYTES))).toString('base64');
  assert.equal(zero, frameOf(0xff));
  const result = await badCall({ schedule: inOrder, payload: () => zero });
  assertNothingHeard(result);
  assert.equal(result.ended.gapFilledFrames, 0);
  assert.equal(result.ended.outOfOrderFrames, 0);
});

test(name("mu-law's other zero (0x7F) is no input"), { skip: SKIP }, async () => {
  const payload = frameOf(0x7f);
  assertNothingHeard(await badCall({ schedule: inOrder, payload: () => payload }));
});

test(name('literal 0x00 bytes (full-scale DC in mu-law) are no input'), { skip: SKIP }, async () => {
  const payload = frameOf(0x00);
  assertNothingHeard(await badCall({ schedule: inOrder, payload: () => payload }));
});

test(
  name('silence with lost packets: the gaps reach the listener as silence, counted'),
  { skip: SKIP },
  async () => {
    const payload = frameOf(0xff);
    // 100 ms of every 500 ms is lost.
    const lost = (index: number): boolean => index % 25 >= 20;
    const result = await badCall({ schedule: (tick) => (lost(tick) ? [] : [tick]), payload: () => payload });
    assertNothingHeard(result);
    // The frames the server took (framesIn of the ones sent, in order) and the lost frames before the last of them.
    const taken = result.sent.slice(0, Number(result.ended.framesIn));
    const last = taken.at(-1)! / FRAME_MS;
    let expected = 0;
    for (let index = 0; index < last; index++) if (lost(index)) expected++;
    assert.ok(expected >= 20, `${expected} frames lost`);
    assert.equal(result.ended.gapFilledFrames, expected);
    assert.equal(result.ended.outOfOrderFrames, 0);
  },
);

test(
  name('silence out of order: late frames are dropped and their place filled'),
  { skip: SKIP },
  async () => {
    const payload = frameOf(0xff);
    // Every tenth frame arrives after the one behind it.
    const schedule = (tick: number): number[] =>
      tick % 10 === 5 ? [] : tick % 10 === 6 ? [tick, tick - 1] : [tick];
    const result = await badCall({ schedule, payload: () => payload });
    assertNothingHeard(result);
    const taken = result.sent.slice(0, Number(result.ended.framesIn));
    let late = 0;
    let latest = -1;
    for (const t of taken) {
      if (t < latest) late++;
      latest = Math.max(latest, t);
    }
    assert.ok(late >= 10, `${late} frames late`);
    assert.equal(result.ended.outOfOrderFrames, late);
    assert.equal(result.ended.gapFilledFrames, late, 'each late frame was stood in for by one of silence');
  },
);

test(
  name('clipped full-scale noise: the call goes on and ends through the flow'),
  { skip: SKIP },
  async (ctx) => {
    // White noise far past full scale, clipped: mostly the loudest mu-law codes. Seeded, so every run is the same.
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const pcm = new Int16Array(FRAME_BYTES * 50);
    for (let i = 0; i < pcm.length; i++)
      pcm[i] = Math.max(-32768, Math.min(32767, Math.round(random() * 80_000)));
    const noise = pcmToMulaw(pcm);
    const frames = Array.from({ length: 50 }, (_, i) =>
      Buffer.from(noise.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES)).toString('base64'),
    );
    const result = await badCall({ schedule: inOrder, payload: (index) => frames[index % frames.length]! });
    // Noise may be heard as words (and then routed or not matched); what must hold is that the call was not hurt.
    const count = (msg: string): number => result.records.filter((r) => r.msg === msg).length;
    ctx.diagnostic(
      `noise: ${count('caller speech started')} speech starts, ${count('caller heard')} turns heard, ended in ${String(result.ended.state)}`,
    );
    assert.equal(result.closeCode, 1000, 'the agent ended the call normally');
    assert.ok(
      result.ended.state === 'nothing' || result.ended.state === 'ordered',
      `the call ended in a state of the flow (${String(result.ended.state)})`,
    );
    assert.ok(!result.records.some((r) => r.msg === 'media stream rejected'));
    assert.ok(!result.records.some((r) => r.msg === 'call actor restarted from last good snapshot'));
    assert.deepEqual(
      result.records.filter((r) => r.level === 'error').map((r) => r.msg),
      [],
      'nothing logged as an error',
    );
  },
);

test(name('after all that, a spoken call is heard and routed'), { skip: SKIP }, async () => {
  const text = 'i would like to order';
  const audio = (await caller.synthesize({ text })).mulaw;
  const result = await placeCall({
    url: server.url,
    flow: 'badaudio',
    inputs: [{ kind: 'speech', text, audio }],
    idleHangupMs: 2000,
    maxDurationMs: 20_000,
  });
  const ofCall = server.records.filter((r) => r.callId === result.callSid);
  assert.ok(
    ofCall.some((r) => r.msg === 'caller speech started'),
    'speech is noticed (what the silence tests look for)',
  );
  assert.equal(ofCall.find((r) => r.msg === 'call ended')?.state, 'ordered');
  assert.equal(ofCall.find((r) => r.msg === 'caller heard')?.intent, 'order');
  assert.equal(result.endedBy, 'agent');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server is still up');
});
