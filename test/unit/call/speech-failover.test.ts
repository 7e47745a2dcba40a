/**
 * Failover of speech as a business rule: repeated failures of the speech service switch a call to the embedded
 * engines or to the keypad, through a journaled event the flow answers as its `speechFailover` policy says.
 * Covered at three levels: the machine, the per-call SpeechFailover, and a whole call through the real session
 * with a failing engine (test doubles: ScriptedStt, ToneTts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createActor } from 'xstate';
import { PacerClock } from '../../../src/audio/pacer.ts';
import { openEnergyVad } from '../../../src/speech/vad/energy.ts';
import { MediaSession } from '../../../src/call/session.ts';
import { SpeechFailover, type SpeechModes } from '../../../src/call/speech-failover.ts';
import { compileFlow, validateFlow, type Effect, type FlowFile } from '../../../src/flow/index.ts';
import { DEFAULT_POLICY } from '../../../src/flow/types.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { createServerMetrics } from '../../../src/observability/metrics.ts';
import { FliteTts } from '../../../src/speech/tts/flite.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { InboundEncoder } from '../../../src/telephony/media-streams.ts';
import { RecordingSocket } from '../../fakes/recording-socket.ts';
import { ScriptedStt } from '../../fakes/scripted-stt.ts';
import { ToneTts } from '../../fakes/tone-tts.ts';
import { streamParams, testJournals } from '../../fixtures/journals.ts';

const KEYPAD_SAY = 'Please use your keypad.';

function shopFlow(speechFailover: Record<string, unknown> = {}): FlowFile {
  const result = validateFlow({
    id: 'shop',
    version: 1,
    language: 'en-GB',
    intents: { order: { examples: ['i want to order'] } },
    start: 'ask',
    states: {
      ask: { say: 'What would you like? Press 1 to order.', on: { order: 'bye', 'dtmf:1': 'bye' } },
      bye: { say: 'bye', hangup: true },
    },
    policy: {
      noInputMs: 20_000,
      maxRetries: 5,
      speechFailover: { keypadSay: KEYPAD_SAY, ...speechFailover },
    },
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.findings));
  return result.flow;
}

test('the policy is validated: after in range, hearing a known mode, keypadSay not empty', () => {
  const bad = validateFlow({
    id: 'x',
    version: 1,
    start: 'a',
    states: { a: { say: 'hi', hangup: true } },
    policy: { speechFailover: { after: 0, hearing: 'sms', keypadSay: ' ', extra: 1 } },
  });
  assert.equal(bad.ok, false);
  const pointers = !bad.ok ? bad.findings.map((f) => f.pointer).sort() : [];
  assert.deepEqual(pointers, [
    '/policy/speechFailover/after',
    '/policy/speechFailover/extra',
    '/policy/speechFailover/hearing',
    '/policy/speechFailover/keypadSay',
  ]);
});

test('the machine records a switch to the keypad and asks again after saying so; to embedded it says nothing by default', () => {
  const { machine } = compileFlow(shopFlow());
  const actor = createActor(machine);
  const effects: Effect[] = [];
  actor.on('*', (e) => effects.push(e));
  actor.start();
  actor.send({ type: 'call.start', at: 1, callId: 'CA1' });
  const greeting = effects.find((e) => e.type === 'say');
  assert.ok(greeting?.type === 'say');
  actor.send({ type: 'played', at: 2, mark: greeting.mark });
  effects.length = 0;

  actor.send({ type: 'speech.failover', at: 3, service: 'stt', to: 'embedded' });
  assert.deepEqual(actor.getSnapshot().context.speech, { stt: 'embedded' });
  assert.equal(effects.length, 0, 'nothing is said when the flow has no words for it');

  actor.send({ type: 'speech.failover', at: 4, service: 'stt', to: 'dtmf' });
  actor.send({ type: 'speech.failover', at: 5, service: 'tts', to: 'embedded' });
  assert.deepEqual(actor.getSnapshot().context.speech, { stt: 'dtmf', tts: 'embedded' });
  const said = effects.filter((e) => e.type === 'say').map((e) => (e as { text: string }).text);
  assert.deepEqual(said, [`${KEYPAD_SAY} What would you like? Press 1 to order.`]);
  assert.equal(actor.getSnapshot().context.state, 'ask', 'the call stays where it was');
});

test('the default policy tells the caller to use the keypad', () => {
  assert.match(DEFAULT_POLICY.speechFailover.keypadSay, /keypad/);
  assert.equal(DEFAULT_POLICY.speechFailover.after, 2);
});

/** A SpeechFailover whose machine is a plain object: requests are recorded and applied at once. */
function failover(
  options: { fallbackStt?: boolean; fallbackVoice?: boolean; hearing?: 'embedded' | 'dtmf' } = {},
) {
  const modes: SpeechModes = {};
  const requests: string[] = [];
  const primaryStt = new ScriptedStt([], { failTurns: 100 });
  const fallbackStt = new ScriptedStt(['fallback heard']);
  const primaryTts = new ToneTts();
  const fallbackTts = new ToneTts();
  const { logger, records } = memoryLogger('debug');
  const speech = new SpeechFailover({
    rule: { ...DEFAULT_POLICY.speechFailover, hearing: options.hearing ?? 'embedded' },
    stt: primaryStt,
    prompts: new PromptCache(primaryTts),
    fallback: {
      stt: () => (options.fallbackStt ? fallbackStt : null),
      prompts: () => (options.fallbackVoice ? new PromptCache(fallbackTts) : null),
    },
    modes: () => modes,
    request: (service, to) => {
      requests.push(`${service}:${to}`);
      modes[service] = to as never;
    },
    logger,
  });
  return { speech, modes, requests, primaryStt, fallbackStt, primaryTts, fallbackTts, records };
}

const sttError = (): Error => Object.assign(new Error('down'), { code: 'STT_FAILED' });

test('recognition failures switch a call only when they come in a row, to the embedded engine when it is loaded', () => {
  const f = failover({ fallbackStt: true });
  assert.equal(f.speech.recognitionFailed(sttError()), false);
  f.speech.recognized();
  assert.equal(f.speech.recognitionFailed(sttError()), false, 'a success in between resets the count');
  assert.equal(
    f.speech.recognitionFailed(sttError()),
    false,
    'switched without words: a no-match answers the turn',
  );
  assert.deepEqual(f.requests, ['stt:embedded']);
  // The next turn is heard by the embedded engine.
  const ctx = { kind: 'open' as const, phrases: [], numbers: false, domain: [] };
  f.speech.stt.stream({ context: ctx, onTranscript: () => {}, onError: () => {} });
  assert.equal(f.fallbackStt.streams.length, 1);
  assert.equal(f.primaryStt.streams.length, 0);
  // When the embedded engine fails too, the keypad is left.
  f.speech.recognitionFailed(sttError());
  assert.equal(f.speech.recognitionFailed(sttError()), true);
  assert.deepEqual(f.requests, ['stt:embedded', 'stt:dtmf']);
  assert.equal(f.speech.listening, false);
  assert.equal(f.speech.recognitionFailed(sttError()), false, 'on the keypad nothing more is asked');
});

test('without an embedded engine, or when the flow wants keys, failures switch the call to the keypad', () => {
  for (const f of [failover(), failover({ fallbackStt: true, hearing: 'dtmf' })]) {
    assert.equal(f.speech.recognitionFailed(sttError()), false);
    assert.equal(f.speech.recognitionFailed(sttError()), true, 'the keypad is announced, asking again');
    assert.deepEqual(f.requests, ['stt:dtmf']);
    assert.equal(f.speech.listening, false);
  }
});

test('a prompt the cloud voice fails is spoken by the embedded voice at once; repeated failures switch the call', async () => {
  const f = failover({ fallbackVoice: true });
  f.primaryTts.failNext(3);
  const one = await f.speech.prompts.get({ text: 'one', voice: 'en-US-Cloud-A', language: 'en-GB' });
  assert.ok(one.mulaw.length > 0, 'the failed prompt still has audio');
  assert.equal(f.fallbackTts.requests[0]?.text, 'one');
  assert.equal(f.fallbackTts.requests[0]?.voice, 'sine', 'the embedded engine speaks with its own voice');
  assert.equal(f.fallbackTts.requests[0]?.language, 'en-GB');
  assert.deepEqual(f.requests, []);
  await f.speech.prompts.get({ text: 'two' });
  assert.deepEqual(f.requests, ['tts:embedded']);
  const callsBefore = f.primaryTts.calls;
  await f.speech.prompts.get({ text: 'three' });
  assert.equal(f.primaryTts.calls, callsBefore, 'after the switch the cloud voice is not asked');
  assert.equal(f.speech.prompts.readsSsml, false, 'the embedded voice reads no SSML');
});

test('without an embedded voice a failed prompt fails as before, and an aborted one is not a failure', async () => {
  const f = failover();
  f.primaryTts.failNext(1);
  await assert.rejects(f.speech.prompts.get({ text: 'one' }), { code: 'TTS_FAILED' });
  const g = failover({ fallbackVoice: true });
  g.primaryTts.delayMs = 200;
  const abort = new AbortController();
  const pending = g.speech.prompts.get({ text: 'one' }, abort.signal);
  abort.abort();
  await assert.rejects(pending);
  assert.equal(g.fallbackTts.calls, 0);
});

// A whole call: spoken turns through the energy VAD, a recognizer that fails, the journal and the flow.
let speech: Uint8Array;
const flite = new FliteTts({ voice: 'kal' });
before(async () => {
  speech = (await flite.synthesize({ text: 'I want to order a pizza' })).mulaw;
});
after(() => flite.close());

async function call(options: { fallbackStt?: ScriptedStt } = {}) {
  const socket = new RecordingSocket();
  const journals = await testJournals();
  const { logger, records } = memoryLogger('debug');
  const stt = new ScriptedStt([], { failTurns: 100 });
  const tts = new ToneTts({ msPerChar: 5 });
  const s = new MediaSession(socket, {
    flows: new Map([['shop', compileFlow(shopFlow())]]),
    journals,
    defaultFlow: 'shop',
    prompts: new PromptCache(tts),
    fallback: { stt: () => options.fallbackStt ?? null, prompts: () => null },
    pacerClock: new PacerClock(),
    metrics: createServerMetrics(),
    logger,
    hearing: { stt, openVad: openEnergyVad },
  });
  const enc = new InboundEncoder({ streamSid: 'MZ1', callSid: 'CA1', accountSid: 'AC1' });
  let timestamp = 0;
  const send = (mulaw: Uint8Array): void => {
    for (let at = 0; at < mulaw.length; at += 160) {
      s.handleMessage(enc.media(Buffer.from(mulaw.subarray(at, at + 160)).toString('base64'), timestamp));
      timestamp += 20;
    }
  };
  const until = async (what: string, pred: () => boolean, ms = 8000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Hear out every prompt sent so far, then speak one turn. */
  const speak = (): void => {
    for (const mark of socket.marks()) s.handleMessage(enc.mark(mark));
    send(new Uint8Array([...silence(300), ...speech, ...silence(1200)]));
  };
  s.handleMessage(enc.connected());
  s.handleMessage(enc.start(await streamParams(journals, 'CA1', 'shop')));
  await until('the question is asked', () => socket.marks().length === 1);
  return { s, socket, enc, stt, tts, records, journals, send, until, speak };
}

const silence = (ms: number): Uint8Array => new Uint8Array(ms * 8).fill(0xff);

test('a call whose recognition keeps failing moves to the keypad, says so once, and goes on by keys', async () => {
  const c = await call();
  c.speak();
  await c.until('the first failure is answered as not understood', () => c.socket.marks().length === 2);
  assert.equal(c.stt.streams[0]?.context.language, 'en-GB', 'the flow language reaches the engine');
  c.speak();
  await c.until('the switch is announced', () => c.tts.requests.some((r) => r.text.startsWith(KEYPAD_SAY)));
  await c.s.settled();
  const journal = await c.journals.store.read('CA1');
  const switches = journal.filter((r) => r.kind === 'in' && r.line.includes('"speech.failover"'));
  assert.equal(switches.length, 1, 'the switch is journaled once');
  const streams = c.stt.streams.length;
  c.speak();
  await c.s.settled();
  assert.equal(c.stt.streams.length, streams, 'speech is no longer sent to the failing engine');
  assert.equal(c.s.flowState, 'ask');
  c.s.handleMessage(c.enc.dtmf('1'));
  await c.until('the keypad answer is taken', () => c.s.flowState === 'bye');
  const warn = c.records.find((r) => r.msg === 'speech recognition keeps failing; the call switches');
  assert.equal(warn?.['to'], 'dtmf');
  c.s.handleClose(1000);
});

test('a call whose cloud recognition keeps failing is heard by the embedded engine after the switch', async () => {
  const embedded = new ScriptedStt(['i want to order']);
  const c = await call({ fallbackStt: embedded });
  c.speak();
  await c.until('the first failure is answered', () => c.socket.marks().length === 2);
  c.speak();
  await c.until('the call switches', () =>
    c.records.some((r) => r.msg === 'speech recognition keeps failing; the call switches'),
  );
  await c.s.settled();
  c.speak();
  await c.until('the embedded engine hears the order', () => c.s.flowState === 'bye');
  assert.equal(embedded.streams.length, 1);
  assert.equal(
    c.tts.requests.some((r) => r.text.startsWith(KEYPAD_SAY)),
    false,
    'no keypad announcement when speech still works',
  );
  c.s.handleClose(1000);
});
