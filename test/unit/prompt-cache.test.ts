import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { MULAW_SILENCE } from '../../src/audio/mulaw.ts';
import { isSwitchboardError } from '../../src/errors.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from '../../src/speech/tts/engine.ts';
import { PromptCache } from '../../src/speech/tts/prompt-cache.ts';
import { TONE_MS_PER_CHAR, ToneTts } from '../fakes/tone-tts.ts';

/** What one tone prompt of `chars` characters costs the cache: mu-law bytes plus base64 characters. */
function toneSize(chars: number): number {
  const bytes = chars * TONE_MS_PER_CHAR * 8;
  const frames = Math.ceil(bytes / 160);
  return bytes + frames * 216; // 160 bytes encode to 216 base64 characters
}

test('a second get is a hit served without calling the engine', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  const first = await cache.get('Welcome to Acme');
  const second = await cache.get('Welcome to Acme');
  assert.equal(tts.calls, 1);
  assert.equal(second, first);
  assert.deepEqual(cache.stats, { hits: 1, misses: 1, entries: 1, bytes: toneSize(15) });
  assert.equal(first.durationMs, 15 * TONE_MS_PER_CHAR);
  assert.equal(first.mulaw.length, 15 * TONE_MS_PER_CHAR * 8);
});

test('concurrent gets of one prompt share a single synthesis', async () => {
  const tts = new ToneTts();
  tts.delayMs = 20;
  const cache = new PromptCache(tts);
  const prompts = await Promise.all([1, 2, 3, 4, 5].map(() => cache.get('Please hold')));
  assert.equal(tts.calls, 1);
  for (const p of prompts) assert.equal(p, prompts[0]);
  assert.equal(cache.stats.misses, 1);
  assert.equal(cache.stats.hits, 4);
});

test('a failed synthesis is not cached: the next get tries again', async () => {
  const tts = new ToneTts();
  tts.failNext(1);
  const cache = new PromptCache(tts);
  await assert.rejects(cache.get('Goodbye'), (err) => isSwitchboardError(err, 'TTS_FAILED'));
  assert.equal(cache.stats.entries, 0);
  assert.equal(cache.stats.bytes, 0);
  const prompt = await cache.get('Goodbye');
  assert.equal(tts.calls, 2);
  assert.equal(prompt.durationMs, 7 * TONE_MS_PER_CHAR);
  assert.equal(cache.stats.entries, 1);
});

test('a shared failure rejects every waiting caller', async () => {
  const tts = new ToneTts();
  tts.delayMs = 10;
  tts.failNext(1);
  const cache = new PromptCache(tts);
  const results = await Promise.allSettled([cache.get('Sorry'), cache.get('Sorry')]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.equal(tts.calls, 1);
});

test('least recently used prompts are evicted when over maxBytes', async () => {
  const tts = new ToneTts();
  const size = toneSize(4);
  const cache = new PromptCache(tts, { maxBytes: 2 * size + 100 });
  await cache.get('aaaa');
  await cache.get('bbbb');
  await cache.get('aaaa'); // now 'bbbb' is the least recently used
  await cache.get('cccc');
  assert.equal(tts.calls, 3);
  assert.deepEqual(cache.stats, { hits: 1, misses: 3, entries: 2, bytes: 2 * size });

  await cache.get('aaaa');
  await cache.get('cccc');
  assert.equal(tts.calls, 3, "'aaaa' and 'cccc' stayed cached");
  await cache.get('bbbb');
  assert.equal(tts.calls, 4, "'bbbb' was evicted and synthesised again");
  assert.ok(cache.stats.bytes <= 2 * size + 100);
  assert.equal(cache.stats.entries, 2);
});

test('a prompt larger than the whole budget is returned but not kept', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts, { maxBytes: toneSize(3) });
  await cache.get('abc');
  const big = await cache.get('a much longer sentence');
  assert.equal(big.durationMs, 22 * TONE_MS_PER_CHAR);
  assert.deepEqual(cache.stats, { hits: 0, misses: 2, entries: 1, bytes: toneSize(3) });
  await cache.get('abc');
  assert.equal(tts.calls, 2, 'the small prompt was not evicted to make room');
});

test('frames are the mu-law audio cut into 160-byte frames, base64-encoded', async () => {
  const cache = new PromptCache(new ToneTts());
  const prompt = await cache.get('Press one for sales');
  assert.equal(prompt.frames.length, prompt.mulaw.length / 160);
  const decoded = prompt.frames.map((f) => Buffer.from(f, 'base64'));
  for (const frame of decoded) assert.equal(frame.length, 160);
  assert.deepEqual(new Uint8Array(Buffer.concat(decoded)), prompt.mulaw);
});

test('a last partial frame is padded with mu-law silence', async () => {
  // 500 bytes: three full frames and 20 bytes.
  const engine: TtsEngine = {
    name: 'stub',
    defaultVoice: 'v',
    synthesize: async (): Promise<SynthesizedAudio> => ({
      mulaw: new Uint8Array(500).fill(0x10),
      durationMs: 62.5,
    }),
    close: async () => {},
  };
  const prompt = await new PromptCache(engine).get('x');
  assert.equal(prompt.frames.length, 4);
  const last = Buffer.from(prompt.frames[3]!, 'base64');
  assert.equal(last.length, 160);
  assert.deepEqual([...last.subarray(0, 20)], new Array<number>(20).fill(0x10));
  assert.deepEqual([...last.subarray(20)], new Array<number>(140).fill(MULAW_SILENCE));
  assert.equal(prompt.durationMs, 62.5);
});

test('silence padding the speech beyond 30 ms before and 200 ms after is trimmed', async () => {
  const speech = new Uint8Array(1600).fill(0x10); // 200 ms of loud audio
  const mulaw = new Uint8Array(4000).fill(MULAW_SILENCE); // 500 ms in all: 100 ms before the speech, 200 after
  mulaw.set(speech, 800);
  const engine: TtsEngine = {
    name: 'stub',
    defaultVoice: 'v',
    synthesize: async (): Promise<SynthesizedAudio> => ({ mulaw, durationMs: 500 }),
    close: async () => {},
  };
  const prompt = await new PromptCache(engine).get('x');
  assert.equal(prompt.durationMs, 30 + 200 + 200);
  assert.equal(prompt.mulaw[240], 0x10, 'the speech starts after 30 ms');
});

test('different voices are different prompts; the default voice is the same as naming it', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  const a = await cache.get('Hello', 'alto');
  const b = await cache.get('Hello', 'bass');
  const d1 = await cache.get('Hello');
  const d2 = await cache.get('Hello', tts.defaultVoice);
  assert.equal(tts.calls, 3);
  assert.notEqual(a.key, b.key);
  assert.notEqual(a.key, d1.key);
  assert.equal(d1, d2);
  assert.deepEqual(
    tts.requests.map((r: SynthesisRequest) => r.voice),
    ['alto', 'bass', 'sine'],
  );
});

test('engines are part of the key', async () => {
  const one = new PromptCache(new ToneTts());
  const other = new ToneTts();
  Object.defineProperty(other, 'name', { value: 'tone-b' });
  const two = new PromptCache(other);
  assert.notEqual((await one.get('Hi')).key, (await two.get('Hi')).key);
});

test('keys do not contain the text (they may be logged)', async () => {
  const cache = new PromptCache(new ToneTts());
  const prompt = await cache.get('Your PIN is 4 7 1 1');
  assert.ok(!prompt.key.includes('4 7 1 1'));
  assert.ok(!prompt.key.includes('PIN'));
  assert.match(prompt.key, /^tone:sine:[A-Za-z0-9_-]{43}$/);
});

test('an aborted caller is rejected alone; the shared synthesis completes and is cached', async () => {
  const tts = new ToneTts();
  tts.delayMs = 30;
  const cache = new PromptCache(tts);
  const controller = new AbortController();
  const leaving = cache.get('Transferring you now', undefined, controller.signal);
  const staying = cache.get('Transferring you now');
  controller.abort();
  await assert.rejects(leaving, { name: 'AbortError' });
  const prompt = await staying;
  assert.equal(prompt.durationMs, 20 * TONE_MS_PER_CHAR);
  assert.equal(tts.requests[0]?.signal, undefined, 'the engine never saw the caller signal');
  await cache.get('Transferring you now');
  assert.equal(tts.calls, 1);
});

test('an aborted sole caller does not stop the synthesis, whose result is cached', async () => {
  const tts = new ToneTts();
  tts.delayMs = 20;
  const cache = new PromptCache(tts);
  const controller = new AbortController();
  const pending = cache.get('One moment', undefined, controller.signal);
  controller.abort(new Error('caller hung up'));
  await assert.rejects(pending, /caller hung up/);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(cache.stats.entries, 1);
  await cache.get('One moment');
  assert.equal(tts.calls, 1);
});

test('an already aborted signal rejects without calling the engine', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  await assert.rejects(cache.get('Hi', undefined, AbortSignal.abort()), { name: 'AbortError' });
  assert.equal(tts.calls, 0);
});
