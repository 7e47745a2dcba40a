/**
 * A call that hears: synthesized caller speech sent as Twilio media frames, the energy VAD and a scripted speech
 * engine (test double), through the real session, flow and language understanding. Covers answers after a
 * prompt, barge-in over one (clear sent within 300 ms of audio after the speech onset), prompts that may not be
 * interrupted, and coughs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { mulawToPcm } from '../../../src/audio/mulaw.ts';
import { openEnergyVad } from '../../../src/speech/vad/energy.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { compileFlow, validateFlow } from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { ManualClock } from '../../fakes/manual-clock.ts';
import { ScriptedStt } from '../../fakes/scripted-stt.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';
import { readJournal } from '../../../src/call/call-journal.ts';
import { replayCall } from '../../../src/call/replay.ts';
import { Understanding } from '../../../src/call/understanding.ts';
import { MemoryStore } from '../../../src/journal/memory.ts';

let speech: Uint8Array;
const tts = new FliteTts({ voice: 'kal' });
before(async () => {
  speech = (await tts.synthesize({ text: 'I want to order a pizza' })).mulaw;
});
after(() => tts.close());

/** Twenty words "w000".."w019": `say` is a tone of 60 ms per character, so they make a 6 s prompt. */
const PROMPT_WORDS = Array.from({ length: 20 }, (_, i) => `w${String(i).padStart(3, '0')}`);

function flow(bargeIn?: boolean | 'dtmf', noInputMs = 20_000) {
  const result = validateFlow({
    id: 'shop',
    version: 1,
    intents: { order: { examples: ['i want to order'] } },
    start: 'ask',
    states: {
      ask: {
        say: PROMPT_WORDS.join(' '),
        on: { order: 'bye', 'dtmf:1': 'bye' },
        ...(bargeIn === undefined ? {} : { bargeIn }),
      },
      bye: { say: 'bye', hangup: true },
    },
    policy: { noInputMs, maxRetries: 5 },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return compileFlow(result.flow);
}

async function call(bargeIn?: boolean | 'dtmf', showPii = false, noInputMs?: number) {
  const socket = new RecordingSocket();
  const store = new MemoryStore();
  const journals = await testJournals(store);
  const { logger, records } = memoryLogger('debug', { showPii });
  const stt = new ScriptedStt(['i want to order']);
  const metrics = createServerMetrics();
  const time = new ManualClock();
  const s = new MediaSession(socket, {
    flows: new Map([['shop', flow(bargeIn, noInputMs)]]),
    journals,
    defaultFlow: 'shop',
    prompts: new PromptCache(new ToneTts()),
    pacerClock: new PacerClock({ clock: time }),
    clock: time,
    metrics,
    logger,
    hearing: { stt, openVad: openEnergyVad },
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  let timestamp = 0;
  /** Sends `mulaw` as 20 ms media frames (as fast as the test runs; the VAD keeps audio time by frames). */
  const send = (mulaw: Uint8Array, onFrame?: (ms: number) => void): void => {
    for (let at = 0; at < mulaw.length; at += 160) {
      s.handleMessage(enc.media(Buffer.from(mulaw.subarray(at, at + 160)).toString('base64'), timestamp));
      timestamp += 20;
      onFrame?.(timestamp);
    }
  };
  /**
   * `send`, letting the call handle what each frame caused before the next (the flow decides a barge-in, after
   * the journal has the caller's `speech.start`): audio time still counts by frames.
   */
  const sendHandled = async (mulaw: Uint8Array, onFrame: (ms: number) => void): Promise<void> => {
    for (let at = 0; at < mulaw.length; at += 160) {
      s.handleMessage(enc.media(Buffer.from(mulaw.subarray(at, at + 160)).toString('base64'), timestamp));
      timestamp += 20;
      await s.settled();
      onFrame(timestamp);
    }
  };
  /** Moves call time 20 ms at a time (journal writes and recognition run between), until `pred` holds. */
  const until = async (what: string, pred: () => boolean, ms = 8000) => {
    for (let waited = 0; !pred(); waited += 20) {
      if (waited > ms) throw new Error(`timed out waiting until ${what}`);
      await time.tick(20);
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  /** Lets `ms` of call time pass. */
  const pass = async (ms: number) => {
    for (let waited = 0; waited < ms; waited += 20) {
      await time.tick(20);
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start(await streamParams(journals, 'CA1', 'shop')));
  return {
    socket,
    s,
    enc,
    records,
    store,
    stt,
    metrics,
    time,
    send,
    sendHandled,
    until,
    pass,
    hangup: () => s.handleClose(1000),
  };
}

const silence = (ms: number): Uint8Array => new Uint8Array(ms * 8).fill(0xff);
/** Audio time (ms) of the first clearly voiced sample of `mulaw`. */
const onsetOf = (mulaw: Uint8Array): number => mulawToPcm(mulaw).findIndex((x) => Math.abs(x) > 500) / 8;

test('an answer spoken after the prompt is recognized, understood and routed; its latency is logged', async () => {
  const c = await call();
  await c.until('the prompt is sent', () => c.socket.marks().length === 1);
  c.s.handleMessage(c.enc.mark(c.socket.marks()[0]!));
  c.send(silence(400));
  c.send(speech);
  c.send(silence(1200));
  await c.until('the flow moves on', () => c.s.flowState === 'bye');
  assert.equal(c.stt.streams.length, 1);
  assert.equal(c.stt.streams[0]!.context.kind, 'open');
  assert.ok(c.stt.streams[0]!.context.phrases.includes('i want to order'));
  const heard = c.records.find((r) => r.msg === 'caller heard');
  assert.equal(heard?.['intent'], 'order');
  assert.equal(JSON.stringify(heard).includes('i want to order'), false, 'the words are redacted (pii)');
  assert.equal(
    c.records.some((r) => r.msg === 'barge-in: the caller spoke over the prompt'),
    false,
  );
  await c.until('the goodbye starts', () => c.records.some((r) => r.msg === 'turn latency'));
  const latency = c.records.find((r) => r.msg === 'turn latency')!;
  assert.equal(latency['silenceWindowMs'], 700);
  for (const key of ['transcriptMs', 'decisionMs', 'firstAudioMs', 'endOfTurnToAudioMs'])
    assert.ok(typeof latency[key] === 'number' && latency[key] >= 0, key);
  assert.equal(c.metrics.turnLatencyMs.count, 1, 'the turn is in the latency histogram');
  assert.equal(c.metrics.bargeIns.get(), 0);
  c.hangup();
});

test('speaking over a prompt clears it within 300 ms of audio after the onset, logs what played, is taken as the answer and replays from its journal', async () => {
  const c = await call(undefined, true);
  await c.until('a second of the prompt is out', () => c.socket.count('media') >= 50);
  assert.equal(c.socket.count('clear'), 0);
  const audio = new Uint8Array([...silence(300), ...speech, ...silence(1200)]);
  const onset = onsetOf(audio);
  let clearedAt: number | null = null;
  const start = 0;
  await c.sendHandled(audio, (ms) => {
    if (clearedAt === null && c.socket.count('clear') > 0) clearedAt = ms - start;
  });
  assert.ok(clearedAt !== null, 'clear was sent');
  assert.ok(clearedAt - onset <= 300, `clear after ${clearedAt - onset} ms of speech`);
  const bargeIn = c.records.find((r) => r.msg === 'barge-in: the caller spoke over the prompt');
  assert.deepEqual(bargeIn?.['marksInterrupted'], c.socket.marks().slice(0, 1));
  assert.equal(c.metrics.bargeIns.get(), 1);
  // What the caller heard: the words of the time that played, the cut one marked.
  const cut = c.records.find((r) => r.msg === 'prompt cut short');
  const playedMs = cut?.['playedMs'] as number;
  const promptMs = cut?.['promptMs'] as number;
  // A second of audio was sent, 60 ms of it ahead of real time (the pacer's lead).
  assert.ok(playedMs >= 900 && playedMs < promptMs, `played ${playedMs} of ${promptMs} ms`);
  const heard = (cut?.pii as { heard: string }).heard;
  const words = Math.floor((PROMPT_WORDS.length * playedMs) / promptMs);
  assert.equal(heard, `${PROMPT_WORDS.slice(0, words).join(' ')}…`);
  await c.until('the flow moves on', () => c.s.flowState === 'bye');
  c.hangup();
  await c.s.closed;
  // The barge-in is the flow's decision on a journaled event, so the call replays with it, clear included.
  const journal = await readJournal(c.store, 'CA1');
  const speechStart = journal.findIndex((r) => r.kind === 'in' && r.event.type === 'speech.start');
  assert.ok(speechStart > 0, 'speech.start is journaled');
  assert.ok(
    journal.slice(speechStart).some((r) => r.kind === 'eff' && r.effect.type === 'clear'),
    'the clear it decided is journaled after it',
  );
  const replay = await replayCall(flow(), journal, {
    understanding: new Understanding(flow().flow, { logger: memoryLogger().logger }),
  });
  assert.equal(replay.divergence, null, JSON.stringify(replay.divergence));
});

test('a prompt that may not be interrupted plays on and speech over it is not taken; a cough interrupts nothing', async () => {
  const locked = await call(false);
  await locked.until('the prompt is playing', () => locked.socket.count('media') >= 25);
  locked.send(new Uint8Array([...silence(300), ...speech, ...silence(1200)]));
  assert.equal(locked.socket.count('clear'), 0);
  assert.equal(locked.stt.streams.length, 0);
  locked.s.handleMessage(locked.enc.dtmf('1'));
  await locked.s.settled();
  assert.equal(locked.s.flowState, 'ask', 'keys wait for the prompt too');
  locked.hangup();

  const coughing = await call();
  await coughing.until('the prompt is playing', () => coughing.socket.count('media') >= 25);
  const cough = new Uint8Array(150 * 8);
  for (let i = 0; i < cough.length; i++) cough[i] = (i * 7919) % 256 < 128 ? 0x10 : 0x90; // loud noise
  coughing.send(new Uint8Array([...silence(300), ...cough, ...silence(1000)]));
  assert.equal(coughing.socket.count('clear'), 0);
  assert.equal(coughing.stt.streams.length, 0);
  coughing.hangup();
});

test('silence after a question fires no-input once, timed from the echo of the prompt, not from its sending', async () => {
  const c = await call(undefined, false, 1000);
  await c.until('the question is sent', () => c.socket.marks().length === 1);
  const questionFrames = c.socket.count('media');
  // Not echoed yet: the caller is still hearing the question, so no time runs out however long it takes.
  await c.pass(1300);
  assert.equal(c.socket.count('media'), questionFrames, 'no reprompt while the question plays');
  const echoedAt = c.time.monotonic();
  c.s.handleMessage(c.enc.mark(c.socket.marks()[0]!));
  c.send(silence(1000));
  await c.until('the reprompt starts', () => c.socket.count('media') > questionFrames, 3000);
  assert.ok(c.time.monotonic() - echoedAt >= 1000, 'the reprompt waited the no-input time after the echo');
  // The reprompt plays out and is not echoed: exactly one no-input, however long the silence goes on.
  await c.until('the reprompt is sent', () => c.socket.marks().length === 2, 15_000);
  const repromptFrames = c.socket.count('media');
  c.send(silence(2000));
  await c.pass(1500);
  assert.equal(c.socket.count('media'), repromptFrames, 'no-input fired once');
  assert.equal(c.stt.streams.length, 0, 'silence started no recognition');
  c.hangup();
});
