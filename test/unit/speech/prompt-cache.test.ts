import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { PromptSource } from '../../../src/call/effects.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { MULAW_SILENCE } from '../../../src/audio/mulaw.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from '../../../src/speech/tts/engine.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import { promptFilePath } from '../../../src/speech/tts/prompt-store.ts';
import { TONE_MS_PER_CHAR, ToneTts } from '../../fakes/tone-tts.ts';

/** These tests are about the disk tier itself: every prompt may go there (a server passes its flows' policy). */
const EVERY = (): boolean => true;

/** What one tone prompt of `chars` characters costs the cache: mu-law bytes plus base64 characters. */
function toneSize(chars: number): number {
  const bytes = chars * TONE_MS_PER_CHAR * 8;
  const frames = Math.ceil(bytes / 160);
  return bytes + frames * 216; // 160 bytes encode to 216 base64 characters
}

test('a second get is a hit served without calling the engine', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  const first = await cache.get({ text: 'Welcome to Acme' });
  const second = await cache.get({ text: 'Welcome to Acme' });
  assert.equal(tts.calls, 1);
  assert.equal(second, first);
  assert.deepEqual(cache.stats, {
    hits: 1,
    misses: 1,
    diskHits: 0,
    diskWrites: 0,
    entries: 1,
    bytes: toneSize(15),
  });
  assert.equal(first.durationMs, 15 * TONE_MS_PER_CHAR);
  assert.equal(first.mulaw.length, 15 * TONE_MS_PER_CHAR * 8);
});

test('concurrent gets of one prompt share a single synthesis', async () => {
  const tts = new ToneTts();
  tts.delayMs = 20;
  const cache = new PromptCache(tts);
  const prompts = await Promise.all([1, 2, 3, 4, 5].map(() => cache.get({ text: 'Please hold' })));
  assert.equal(tts.calls, 1);
  for (const p of prompts) assert.equal(p, prompts[0]);
  assert.equal(cache.stats.misses, 1);
  assert.equal(cache.stats.hits, 4);
});

test('a failed synthesis is not cached: the next get tries again', async () => {
  const tts = new ToneTts();
  tts.failNext(1);
  const cache = new PromptCache(tts);
  await assert.rejects(cache.get({ text: 'Goodbye' }), (err) => isSwitchboardError(err, 'TTS_FAILED'));
  assert.equal(cache.stats.entries, 0);
  assert.equal(cache.stats.bytes, 0);
  const prompt = await cache.get({ text: 'Goodbye' });
  assert.equal(tts.calls, 2);
  assert.equal(prompt.durationMs, 7 * TONE_MS_PER_CHAR);
  assert.equal(cache.stats.entries, 1);
});

test('a shared failure rejects every waiting caller', async () => {
  const tts = new ToneTts();
  tts.delayMs = 10;
  tts.failNext(1);
  const cache = new PromptCache(tts);
  const results = await Promise.allSettled([cache.get({ text: 'Sorry' }), cache.get({ text: 'Sorry' })]);
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
  await cache.get({ text: 'aaaa' });
  await cache.get({ text: 'bbbb' });
  await cache.get({ text: 'aaaa' }); // now 'bbbb' is the least recently used
  await cache.get({ text: 'cccc' });
  assert.equal(tts.calls, 3);
  assert.deepEqual(cache.stats, {
    hits: 1,
    misses: 3,
    diskHits: 0,
    diskWrites: 0,
    entries: 2,
    bytes: 2 * size,
  });

  await cache.get({ text: 'aaaa' });
  await cache.get({ text: 'cccc' });
  assert.equal(tts.calls, 3, "'aaaa' and 'cccc' stayed cached");
  await cache.get({ text: 'bbbb' });
  assert.equal(tts.calls, 4, "'bbbb' was evicted and synthesised again");
  assert.ok(cache.stats.bytes <= 2 * size + 100);
  assert.equal(cache.stats.entries, 2);
});

test('a prompt larger than the whole budget is returned but not kept', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts, { maxBytes: toneSize(3) });
  await cache.get({ text: 'abc' });
  const big = await cache.get({ text: 'a much longer sentence' });
  assert.equal(big.durationMs, 22 * TONE_MS_PER_CHAR);
  assert.deepEqual(cache.stats, {
    hits: 0,
    misses: 2,
    diskHits: 0,
    diskWrites: 0,
    entries: 1,
    bytes: toneSize(3),
  });
  await cache.get({ text: 'abc' });
  assert.equal(tts.calls, 2, 'the small prompt was not evicted to make room');
});

test('frames are the mu-law audio cut into 160-byte frames, base64-encoded', async () => {
  const cache = new PromptCache(new ToneTts());
  const prompt = await cache.get({ text: 'Press one for sales' });
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
    readsSsml: false,
    synthesize: async (): Promise<SynthesizedAudio> => ({
      mulaw: new Uint8Array(500).fill(0x10),
      durationMs: 62.5,
    }),
    close: async () => {},
  };
  const prompt = await new PromptCache(engine).get({ text: 'x' });
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
    readsSsml: false,
    synthesize: async (): Promise<SynthesizedAudio> => ({ mulaw, durationMs: 500 }),
    close: async () => {},
  };
  const prompt = await new PromptCache(engine).get({ text: 'x' });
  assert.equal(prompt.durationMs, 30 + 200 + 200);
  assert.equal(prompt.mulaw[240], 0x10, 'the speech starts after 30 ms');
});

test('different voices are different prompts; the default voice is the same as naming it', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  const a = await cache.get({ text: 'Hello', voice: 'alto' });
  const b = await cache.get({ text: 'Hello', voice: 'bass' });
  const d1 = await cache.get({ text: 'Hello' });
  const d2 = await cache.get({ text: 'Hello', voice: tts.defaultVoice });
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
  assert.notEqual((await one.get({ text: 'Hi' })).key, (await two.get({ text: 'Hi' })).key);
});

test('keys do not contain the text (they may be logged)', async () => {
  const cache = new PromptCache(new ToneTts());
  const prompt = await cache.get({ text: 'Your PIN is 4 7 1 1' });
  assert.ok(!prompt.key.includes('4 7 1 1'));
  assert.ok(!prompt.key.includes('PIN'));
  assert.match(prompt.key, /^tone:sine:-:text:[A-Za-z0-9_-]{43}$/);
});

test('an aborted caller is rejected alone; the shared synthesis completes and is cached', async () => {
  const tts = new ToneTts();
  tts.delayMs = 30;
  const cache = new PromptCache(tts);
  const controller = new AbortController();
  const leaving = cache.get({ text: 'Transferring you now' }, controller.signal);
  const staying = cache.get({ text: 'Transferring you now' });
  controller.abort();
  await assert.rejects(leaving, { name: 'AbortError' });
  const prompt = await staying;
  assert.equal(prompt.durationMs, 20 * TONE_MS_PER_CHAR);
  assert.equal(tts.requests[0]?.signal, undefined, 'the engine never saw the caller signal');
  await cache.get({ text: 'Transferring you now' });
  assert.equal(tts.calls, 1);
});

test('an aborted sole caller does not stop the synthesis, whose result is cached', async () => {
  const tts = new ToneTts();
  tts.delayMs = 20;
  const cache = new PromptCache(tts);
  const controller = new AbortController();
  const pending = cache.get({ text: 'One moment' }, controller.signal);
  controller.abort(new Error('caller hung up'));
  await assert.rejects(pending, /caller hung up/);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(cache.stats.entries, 1);
  await cache.get({ text: 'One moment' });
  assert.equal(tts.calls, 1);
});

test('an already aborted signal rejects without calling the engine', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  await assert.rejects(cache.get({ text: 'Hi' }, AbortSignal.abort()), { name: 'AbortError' });
  assert.equal(tts.calls, 0);
});

/** A ToneTts that reads SSML: what it speaks (text or ssml) is what its tone's length follows. */
class SsmlToneTts extends ToneTts {
  override readonly readsSsml = true;
  override synthesize(req: SynthesisRequest): Promise<SynthesizedAudio> {
    return super.synthesize(req.ssml !== undefined ? { ...req, text: req.ssml } : req);
  }
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-prompts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the cache is a PromptSource whose readsSsml follows its engine', () => {
  const plain: PromptSource = new PromptCache(new ToneTts());
  const ssml: PromptSource = new PromptCache(new SsmlToneTts());
  assert.equal(plain.readsSsml, false);
  assert.equal(ssml.readsSsml, true);
});

test('the same words as SSML and as text are different prompts when the engine reads SSML', async () => {
  const tts = new SsmlToneTts();
  const cache = new PromptCache(tts);
  const asText = await cache.get({ text: 'Hello' });
  const asSsml = await cache.get({ text: 'Hello', ssml: 'Hello' });
  assert.notEqual(asText.key, asSsml.key);
  assert.match(asText.key, /^tone:sine:-:text:/);
  assert.match(asSsml.key, /^tone:sine:-:ssml:/);
  assert.equal(tts.calls, 2);
  assert.equal(tts.requests[1]?.ssml, 'Hello');
  assert.equal(tts.requests[0]?.ssml, undefined);
});

test('an engine that does not read SSML gets the text alone, and SSML does not split its cache', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  const a = await cache.get({ text: 'Press one', ssml: '<speak>Press <emphasis>one</emphasis></speak>' });
  const b = await cache.get({ text: 'Press one' });
  assert.equal(a, b);
  assert.equal(tts.calls, 1);
  assert.equal(tts.requests[0]?.ssml, undefined);
  assert.equal(a.durationMs, 'Press one'.length * TONE_MS_PER_CHAR);
});

test('the language is in the key and reaches the engine; absent is the engine default', async () => {
  const tts = new ToneTts();
  const cache = new PromptCache(tts);
  const fr = await cache.get({ text: 'Bonjour', language: 'fr-FR' });
  const ca = await cache.get({ text: 'Bonjour', language: 'fr-CA' });
  const none = await cache.get({ text: 'Bonjour' });
  assert.equal(tts.calls, 3);
  assert.equal(new Set([fr.key, ca.key, none.key]).size, 3);
  assert.match(fr.key, /^tone:sine:fr-FR:text:/);
  assert.deepEqual(
    tts.requests.map((r) => r.language),
    ['fr-FR', 'fr-CA', undefined],
  );
  assert.equal(await cache.get({ text: 'Bonjour', language: 'fr-FR' }), fr);
  assert.equal(tts.calls, 3);
});

test('a prompt on disk is read by a new cache on the same folder without calling the engine', async (t) => {
  const dir = join(await tempDir(t), 'not', 'yet', 'made');
  const first = new ToneTts();
  const one = new PromptCache(first, { dir, persist: EVERY });
  const original = await one.get({ text: 'Welcome back', language: 'en-GB' });
  await one.flush();
  assert.equal(first.calls, 1);
  assert.equal(one.stats.diskWrites, 1);
  const file = await readFile(promptFilePath(dir, original.key));
  assert.equal(file.length, 12 * TONE_MS_PER_CHAR * 8, 'the file holds the engine output');

  const second = new ToneTts();
  const two = new PromptCache(second, { dir, persist: EVERY });
  const fromDisk = await two.get({ text: 'Welcome back', language: 'en-GB' });
  assert.equal(second.calls, 0);
  assert.equal(fromDisk.key, original.key);
  assert.deepEqual(fromDisk.mulaw, original.mulaw);
  assert.deepEqual(fromDisk.frames, original.frames);
  assert.deepEqual(two.stats, {
    hits: 1,
    misses: 0,
    diskHits: 1,
    diskWrites: 0,
    entries: 1,
    bytes: toneSize(12),
  });
  // Now in memory: a repeat does not read the disk again.
  await two.get({ text: 'Welcome back', language: 'en-GB' });
  assert.equal(two.stats.diskHits, 1);
  assert.equal(two.stats.hits, 2);
  // Another language is another file.
  await two.get({ text: 'Welcome back' });
  assert.equal(second.calls, 1);
});

test('concurrent gets share one disk lookup and one synthesis', async (t) => {
  const dir = await tempDir(t);
  const tts = new ToneTts();
  tts.delayMs = 10;
  const cache = new PromptCache(tts, { dir, persist: EVERY });
  const prompts = await Promise.all([1, 2, 3].map(() => cache.get({ text: 'Hold on' })));
  assert.equal(tts.calls, 1);
  for (const p of prompts) assert.equal(p, prompts[0]);
  await cache.flush();
  assert.deepEqual(await readdir(dir), [promptFilePath(dir, prompts[0]!.key).slice(dir.length + 1)]);

  const again = new PromptCache(new ToneTts(), { dir, persist: EVERY });
  await Promise.all([1, 2, 3].map(() => again.get({ text: 'Hold on' })));
  assert.equal(again.stats.diskHits, 1, 'one read of the file for three callers');
  assert.equal(again.stats.hits, 3);
});

test('an empty (damaged) file is a miss: the prompt is synthesized again and the file rewritten', async (t) => {
  const dir = await tempDir(t);
  const one = new PromptCache(new ToneTts(), { dir, persist: EVERY });
  const prompt = await one.get({ text: 'Goodbye' });
  await one.flush();
  const path = promptFilePath(dir, prompt.key);
  await truncate(path, 0);

  const tts = new ToneTts();
  const two = new PromptCache(tts, { dir, persist: EVERY });
  const again = await two.get({ text: 'Goodbye' });
  await two.flush();
  assert.equal(tts.calls, 1);
  assert.equal(two.stats.diskHits, 0);
  assert.equal(two.stats.misses, 1);
  assert.equal(two.stats.diskWrites, 1);
  assert.deepEqual(again.mulaw, prompt.mulaw);
  assert.equal((await stat(path)).size, 7 * TONE_MS_PER_CHAR * 8);
});

test('an unreadable entry (a folder in place of the file) is a miss, logged without the text', async (t) => {
  const dir = await tempDir(t);
  const probe = await new PromptCache(new ToneTts()).get({ text: 'My PIN is 1234' });
  await mkdir(promptFilePath(dir, probe.key));
  const { logger, records } = memoryLogger();
  const tts = new ToneTts();
  const cache = new PromptCache(tts, { dir, logger, persist: EVERY });
  const prompt = await cache.get({ text: 'My PIN is 1234' });
  await cache.flush();
  assert.equal(tts.calls, 1);
  assert.equal(prompt.durationMs, 14 * TONE_MS_PER_CHAR);
  const unreadable = records.find((r) => r.msg === 'prompt cache file unreadable');
  assert.equal(unreadable?.code, 'EISDIR');
  assert.equal(JSON.stringify(records).includes('1234'), false);
});

test('when the folder cannot be written the prompt is still returned and the failure logged', async (t) => {
  const base = await tempDir(t);
  const dir = join(base, 'a-file');
  await writeFile(dir, 'not a folder');
  const { logger, records } = memoryLogger();
  const tts = new ToneTts();
  const cache = new PromptCache(tts, { dir, logger, persist: EVERY });
  const prompt = await cache.get({ text: 'Card 4111 1111' });
  await cache.flush();
  assert.equal(prompt.durationMs, 14 * TONE_MS_PER_CHAR);
  assert.equal(cache.stats.diskWrites, 0);
  const warning = records.find((r) => r.msg === 'prompt cache file not written');
  assert.ok(warning, JSON.stringify(records));
  assert.equal(warning.level, 'warn');
  assert.equal(warning.key, prompt.key);
  assert.equal(warning.code, 'EEXIST');
  assert.equal(JSON.stringify(records).includes('4111'), false);
  // It keeps working from memory, and tries the disk again for the next prompt.
  assert.equal(await cache.get({ text: 'Card 4111 1111' }), prompt);
  await cache.get({ text: 'Another one' });
  await cache.flush();
  assert.equal(records.filter((r) => r.msg === 'prompt cache file not written').length, 2);
  assert.equal(tts.calls, 2);
});

test('the disk stays under maxDiskBytes: the least recently used files are removed', async (t) => {
  const dir = await tempDir(t);
  const fileBytes = 4 * TONE_MS_PER_CHAR * 8; // 1920
  const tts = new ToneTts();
  const cache = new PromptCache(tts, { dir, maxDiskBytes: 2 * fileBytes + 500, persist: EVERY });
  const keys: string[] = [];
  for (const text of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']) {
    keys.push((await cache.get({ text })).key);
    await cache.flush();
    // Distinct modification times, whatever the file system's resolution.
    await new Promise((r) => setTimeout(r, 15));
  }
  assert.equal(cache.stats.diskWrites, 5);
  const names = (await readdir(dir)).sort();
  let total = 0;
  for (const name of names) total += (await stat(join(dir, name))).size;
  assert.ok(total <= 2 * fileBytes + 500, `${total} bytes on disk`);
  const kept = keys.filter((k) => names.includes(promptFilePath(dir, k).slice(dir.length + 1)));
  assert.deepEqual(kept, keys.slice(-2), 'the two newest are kept');
});
