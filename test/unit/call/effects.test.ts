import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EffectRunner,
  type CallAudio,
  type PromptRequest,
  type PromptSource,
} from '../../../src/call/effects.ts';
import type { CallEvent } from '../../../src/flow/index.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import type { Prompt } from '../../../src/speech/tts/prompt-cache.ts';
import { SwitchboardError } from '../../../src/errors.ts';

/** A prompt source whose syntheses the test settles by hand, one sentence at a time. */
class ManualPrompts implements PromptSource {
  /** Whether the runner may send SSML; a test may flip it between says, as a failover would. */
  readsSsml = false;
  /** The text (or the SSML, when sent) of each request. */
  readonly asked: string[] = [];
  readonly requests: PromptRequest[] = [];
  readonly #pending = new Map<string, { resolve: (p: Prompt) => void; reject: (e: unknown) => void }>();

  get(req: PromptRequest): Promise<Prompt> {
    const text = req.ssml ?? req.text;
    this.asked.push(text);
    this.requests.push(req);
    return new Promise((resolve, reject) => this.#pending.set(text, { resolve, reject }));
  }

  finish(text: string): void {
    const frames = [`${text}#frame`];
    this.#take(text).resolve({ key: text, mulaw: new Uint8Array(160), frames, durationMs: 20 });
  }

  fail(text: string): void {
    this.#take(text).reject(new SwitchboardError('TTS_FAILED', 'told to fail'));
  }

  #take(text: string) {
    const p = this.#pending.get(text);
    assert.ok(p, `"${text}" was never asked for`);
    this.#pending.delete(text);
    return p;
  }
}

/** Records what the runner queued: 'play:<first frame>:<mark or ->', 'mark:<name>', 'clear'. */
class RecordingAudio implements CallAudio {
  readonly log: string[] = [];
  /** The text passed with each play, in order. */
  readonly texts: string[] = [];
  play(prompt: Prompt, mark: string | null, text: string): void {
    this.log.push(`play:${prompt.frames[0]}:${mark ?? '-'}`);
    this.texts.push(text);
  }
  mark(name: string): void {
    this.log.push(`mark:${name}`);
  }
  clear(): void {
    this.log.push('clear');
  }
  idle(): Promise<void> {
    return Promise.resolve();
  }
  hangup(): void {
    this.log.push('hangup');
  }
  /** Transfers to a number ending in 0 succeed; any other number is refused. */
  transfer(to: string): Promise<void> {
    this.log.push(`transfer:${to}`);
    return to.endsWith('0') ? Promise.resolve() : Promise.reject(new Error('refused'));
  }
  /** Recordings start as RE1, pause and resume; `failRecording` refuses them. */
  failRecording = false;
  record(action: 'start' | 'pause' | 'resume'): Promise<{ sid: string } | null> {
    this.log.push(`record:${action}`);
    if (this.failRecording) return Promise.reject(new Error('refused'));
    return Promise.resolve(action === 'start' ? { sid: 'RE1' } : null);
  }
}

function runner(options: { language?: string } = {}) {
  const prompts = new ManualPrompts();
  const audio = new RecordingAudio();
  const delivered: CallEvent[] = [];
  const { logger, records } = memoryLogger();
  const r = new EffectRunner({
    prompts,
    audio,
    http: (effect) =>
      Promise.resolve(
        effect.url.startsWith('http://ok')
          ? { ok: true as const, status: 200, slots: { orderId: 'A1' } }
          : { ok: false as const, reason: 'HTTP 503' },
      ),
    deliver: (e) => delivered.push(e),
    logger,
    now: () => 0,
    ...options,
  });
  return { r, prompts, audio, delivered, records };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a prompt is synthesized by sentence; the first plays before the rest are ready; the last has the mark', async () => {
  const { r, prompts, audio } = runner();
  r.run({ type: 'say', text: 'One here. Two there. Three.', mark: 'menu.1' });
  assert.deepEqual(prompts.asked, ['One here.', 'Two there.', 'Three.'], 'all asked for at once, in order');
  prompts.finish('One here.');
  await settle();
  assert.deepEqual(audio.log, ['play:One here.#frame:-']);
  prompts.finish('Three.');
  await settle();
  assert.equal(audio.log.length, 1, 'the third waits for the second');
  prompts.finish('Two there.');
  await settle();
  assert.deepEqual(audio.log, [
    'play:One here.#frame:-',
    'play:Two there.#frame:-',
    'play:Three.#frame:menu.1',
  ]);
});

test('a sentence that fails is skipped and logged without its text; the others still play', async () => {
  const { r, prompts, audio, records } = runner();
  r.run({ type: 'say', text: 'One. Two. Three.', mark: 'm' });
  prompts.finish('One.');
  prompts.fail('Two.');
  prompts.finish('Three.');
  await settle();
  assert.deepEqual(audio.log, ['play:One.#frame:-', 'play:Three.#frame:m']);
  const line = records.find((l) => l.msg === 'prompt synthesis failed');
  assert.ok(line);
  assert.equal(line.sentence, 1);
  assert.ok(!JSON.stringify(line.msg).includes('Two'));
});

test('when the last sentence fails, its mark still goes out after what did play', async () => {
  const { r, prompts, audio, delivered } = runner();
  r.run({ type: 'say', text: 'One. Two.', mark: 'm' });
  prompts.finish('One.');
  prompts.fail('Two.');
  await settle();
  assert.deepEqual(audio.log, ['play:One.#frame:-', 'mark:m']);
  assert.deepEqual(delivered, [], 'the flow moves on when the mark comes back, not before');
});

test('an empty prompt queues its mark alone', async () => {
  const { r, prompts, audio } = runner();
  r.run({ type: 'say', text: '  ', mark: 'm' });
  await settle();
  assert.deepEqual(prompts.asked, []);
  assert.deepEqual(audio.log, ['mark:m']);
});

test('clear drops the sentences not yet played, and prompts after it play', async () => {
  const { r, prompts, audio } = runner();
  r.run({ type: 'say', text: 'One. Two.', mark: 'a' });
  prompts.finish('One.');
  await settle();
  r.run({ type: 'clear' });
  prompts.finish('Two.');
  r.run({ type: 'say', text: 'Next.', mark: 'b' });
  prompts.finish('Next.');
  await settle();
  assert.deepEqual(audio.log, ['play:One.#frame:-', 'clear', 'play:Next.#frame:b']);
});

test('prompts play in the order they were said, whatever order their syntheses finish in', async () => {
  const { r, prompts, audio } = runner();
  r.run({ type: 'say', text: 'First.', mark: 'a' });
  r.run({ type: 'say', text: 'Second.', mark: 'b' });
  r.run({ type: 'hangup' });
  prompts.finish('Second.');
  await settle();
  assert.deepEqual(audio.log, []);
  prompts.finish('First.');
  await settle();
  assert.deepEqual(audio.log, ['play:First.#frame:a', 'play:Second.#frame:b', 'hangup']);
});

const SSML = '<speak>Your total is <say-as interpret-as="currency">$12.50</say-as>. Thanks.</speak>';

test('SSML goes whole, as one request, when the source reads it; the plain text is sent along', async () => {
  const { r, prompts, audio } = runner();
  prompts.readsSsml = true;
  r.run({ type: 'say', text: 'Your total is $12.50. Thanks.', ssml: SSML, mark: 'total.2', voice: 'v1' });
  assert.deepEqual(prompts.requests, [{ text: 'Your total is $12.50. Thanks.', ssml: SSML, voice: 'v1' }]);
  prompts.finish(SSML);
  await settle();
  assert.deepEqual(audio.log, [`play:${SSML}#frame:total.2`]);
  assert.deepEqual(audio.texts, ['Your total is $12.50. Thanks.'], 'what was said is the plain text');
});

test('SSML is ignored and the text split by sentence when the source does not read it (checked at each say)', async () => {
  const { r, prompts, audio } = runner();
  r.run({ type: 'say', text: 'Your total is $12.50. Thanks.', ssml: SSML, mark: 'a' });
  assert.deepEqual(prompts.requests, [{ text: 'Your total is $12.50.' }, { text: 'Thanks.' }]);
  prompts.readsSsml = true;
  r.run({ type: 'say', text: 'Bye.', ssml: '<speak>Bye.</speak>', mark: 'b' });
  assert.deepEqual(prompts.requests.at(-1), { text: 'Bye.', ssml: '<speak>Bye.</speak>' });
  prompts.finish('Your total is $12.50.');
  prompts.finish('Thanks.');
  prompts.finish('<speak>Bye.</speak>');
  await settle();
  assert.deepEqual(audio.log, [
    'play:Your total is $12.50.#frame:-',
    'play:Thanks.#frame:a',
    'play:<speak>Bye.</speak>#frame:b',
  ]);
});

test('a say without SSML is split by sentence even when the source reads SSML', () => {
  const { r, prompts } = runner();
  prompts.readsSsml = true;
  r.run({ type: 'say', text: 'One. Two.', mark: 'm' });
  assert.deepEqual(prompts.requests, [{ text: 'One.' }, { text: 'Two.' }]);
});

test("the flow's language goes with every request, SSML or not", () => {
  const { r, prompts } = runner({ language: 'fr-CA' });
  r.run({ type: 'say', text: 'Un. Deux.', mark: 'a', voice: 'v2' });
  prompts.readsSsml = true;
  r.run({ type: 'say', text: 'Trois.', ssml: '<speak>Trois.</speak>', mark: 'b' });
  assert.deepEqual(prompts.requests, [
    { text: 'Un.', voice: 'v2', language: 'fr-CA' },
    { text: 'Deux.', voice: 'v2', language: 'fr-CA' },
    { text: 'Trois.', ssml: '<speak>Trois.</speak>', language: 'fr-CA' },
  ]);
});

test('a failed SSML prompt still sends its mark, and is logged without its text', async () => {
  const { r, prompts, audio, records } = runner();
  prompts.readsSsml = true;
  r.run({ type: 'say', text: 'Secret 4111.', ssml: '<speak>Secret 4111.</speak>', mark: 'm' });
  prompts.fail('<speak>Secret 4111.</speak>');
  await settle();
  assert.deepEqual(audio.log, ['mark:m']);
  const line = records.find((l) => l.msg === 'prompt synthesis failed');
  assert.ok(line);
  assert.equal(JSON.stringify(line).includes('4111'), false);
});

test('clear drops an SSML prompt not yet played', async () => {
  const { r, prompts, audio } = runner();
  prompts.readsSsml = true;
  r.run({ type: 'say', text: 'Hi.', ssml: '<speak>Hi.</speak>', mark: 'a' });
  r.run({ type: 'clear' });
  prompts.finish('<speak>Hi.</speak>');
  await settle();
  assert.deepEqual(audio.log, ['clear']);
});

const httpEffect = (url: string) =>
  ({
    type: 'http',
    id: 'place.3',
    idempotencyKey: 'CA1:place.3',
    method: 'POST',
    url,
    headers: {},
    body: null,
    timeoutMs: 1000,
    retries: 0,
    map: {},
  }) as const;

test('a web request answers the machine with http.done or http.failed under its id', async () => {
  const { r, delivered } = runner();
  r.run(httpEffect('http://ok/orders'));
  r.run({ ...httpEffect('http://down/orders'), id: 'place.4' });
  await settle();
  assert.deepEqual(
    delivered.map((e) => [e.type, 'id' in e ? e.id : '']),
    [
      ['http.done', 'place.3'],
      ['http.failed', 'place.4'],
    ],
  );
  assert.deepEqual(delivered[0]?.type === 'http.done' && delivered[0].slots, { orderId: 'A1' });
});

test('a transfer waits for what was said before it; a refused one is answered with transfer.failed', async () => {
  const { r, prompts, audio, delivered } = runner();
  r.run({ type: 'say', text: 'Connecting.', mark: 'm' });
  r.run({ type: 'transfer', id: 'agent.5', to: '+15555550101' });
  await settle();
  assert.deepEqual(audio.log, [], 'nothing before the prompt is ready');
  prompts.finish('Connecting.');
  await settle();
  assert.deepEqual(audio.log, ['play:Connecting.#frame:m', 'transfer:+15555550101']);
  assert.deepEqual(
    delivered.map((e) => e.type),
    ['transfer.failed'],
  );
});

test('a recording request runs even when the caller cuts short what was said before it; a transfer does not', async () => {
  const { r, prompts, audio, delivered } = runner();
  r.run({ type: 'say', text: 'This call is recorded.', mark: 'm' });
  r.run({ type: 'record', id: 'menu.2', action: 'start' });
  r.run({ type: 'transfer', id: 'menu.3', to: '+15555550100' });
  r.run({ type: 'clear' });
  prompts.finish('This call is recorded.');
  await settle();
  assert.ok(audio.log.includes('record:start'), audio.log.join(', '));
  assert.ok(!audio.log.some((l) => l.startsWith('transfer:')), 'the transfer was dropped with the audio');
  assert.deepEqual(delivered, [{ type: 'record.started', at: delivered[0]?.at, id: 'menu.2', sid: 'RE1' }]);
  audio.failRecording = true;
  r.run({ type: 'record', id: 'card.4', action: 'pause' });
  await settle();
  assert.equal(delivered.at(-1)?.type, 'record.failed');
});

test('no-input timers fire on the clock they are given, cancelled ones never (mocked time, no real waits)', (ctx) => {
  ctx.mock.timers.enable({ apis: ['setTimeout'] });
  const { r, delivered } = runner();
  r.run({ type: 'timer.start', id: 't1', ms: 6000 });
  r.run({ type: 'timer.start', id: 't2', ms: 3000 });
  r.run({ type: 'timer.cancel', id: 't2' });
  ctx.mock.timers.tick(5999);
  assert.deepEqual(delivered, []);
  ctx.mock.timers.tick(1);
  assert.equal(delivered.length, 1);
  assert.deepEqual(delivered[0], { type: 'timer', at: 0, id: 't1' });
  r.run({ type: 'timer.start', id: 't3', ms: 1000 });
  r.stop();
  ctx.mock.timers.tick(2000);
  assert.equal(delivered.length, 1, 'a stopped runner delivers nothing more');
});

test('no-input timers run on the Clock the runner is given (a ManualClock here)', async () => {
  const { ManualClock } = await import('../../fakes/manual-clock.ts');
  const clock = new ManualClock();
  const delivered: CallEvent[] = [];
  const r = new EffectRunner({
    prompts: new ManualPrompts(),
    audio: new RecordingAudio(),
    deliver: (e) => delivered.push(e),
    logger: memoryLogger().logger,
    clock,
  });
  r.run({ type: 'timer.start', id: 't1', ms: 8000 });
  r.run({ type: 'timer.start', id: 't2', ms: 100 });
  r.run({ type: 'timer.cancel', id: 't2' });
  clock.advance(7999);
  assert.deepEqual(delivered, []);
  clock.advance(1);
  assert.deepEqual(delivered, [{ type: 'timer', at: clock.now(), id: 't1' }]);
  r.run({ type: 'timer.start', id: 't3', ms: 10 });
  r.stop();
  clock.advance(1000);
  assert.equal(delivered.length, 1, 'a stopped runner delivers nothing more');
  assert.equal(clock.pending, 0, 'stopping cancels the armed timers');
});

test('without an http option, the http action makes the request with the injected fetch', async () => {
  const delivered: CallEvent[] = [];
  const asked: string[] = [];
  const r = new EffectRunner({
    prompts: new ManualPrompts(),
    audio: new RecordingAudio(),
    deliver: (e) => delivered.push(e),
    logger: memoryLogger().logger,
    now: () => 7,
    fetch: (input) => {
      asked.push(input instanceof Request ? input.url : input.toString());
      return Promise.resolve(new Response(JSON.stringify({ id: 'A9' }), { status: 200 }));
    },
  });
  r.run({ ...httpEffect('http://orders.test/orders'), map: { orderId: '/id' } });
  assert.equal(r.busy, true);
  for (let i = 0; i < 10 && delivered.length === 0; i++) await settle();
  assert.deepEqual(asked, ['http://orders.test/orders']);
  assert.deepEqual(delivered, [
    { type: 'http.done', at: 7, id: 'place.3', status: 200, slots: { orderId: 'A9' } },
  ]);
  assert.equal(r.busy, false);
});
