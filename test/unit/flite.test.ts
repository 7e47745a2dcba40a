/** The real flite engine in real worker threads. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { after, test } from 'node:test';
import { activeSpeechMs } from '../../src/audio/level.ts';
import { isSwitchboardError } from '../../src/errors.ts';
import {
  FLITE_MAX_PENDING,
  FLITE_MAX_TEXT_CHARS,
  FLITE_MAX_TOKEN_CHARS,
  FLITE_VOICES,
  FliteTts,
  fliteText,
  fliteWorkersForTest,
} from '../../src/speech/tts/flite.ts';

/** Over a second of work for flite's 'rms' voice: long enough to act while it runs. */
const LONG_TEXT = 'This sentence is here so that the synthesis takes a while to finish. '.repeat(20);

const tts = new FliteTts({ voice: 'rms', workers: 2 });
after(() => tts.close());

function isTtsFailed(pattern: RegExp) {
  return (err: unknown): boolean => isSwitchboardError(err, 'TTS_FAILED') && pattern.test(err.message);
}

test('"Thanks for calling" becomes audible 8 kHz mu-law of a plausible length', async () => {
  const audio = await tts.synthesize({ text: 'Thanks for calling' });
  assert.ok(audio.mulaw instanceof Uint8Array);
  assert.equal(audio.durationMs, audio.mulaw.length / 8, '8000 one-byte samples per second');
  assert.ok(audio.durationMs >= 500 && audio.durationMs <= 3000, `duration ${audio.durationMs} ms`);
  assert.ok(activeSpeechMs(audio.mulaw) > 500, `active speech ${activeSpeechMs(audio.mulaw)} ms`);
});

test("'kal' (8 kHz) and 'rms' (16 kHz, resampled) both speak, and differently", async () => {
  const kal = await tts.synthesize({ text: 'Press one for sales', voice: 'kal' });
  const rms = await tts.synthesize({ text: 'Press one for sales', voice: 'rms' });
  for (const audio of [kal, rms]) {
    assert.ok(audio.durationMs >= 500 && audio.durationMs <= 3000, `duration ${audio.durationMs} ms`);
    assert.ok(activeSpeechMs(audio.mulaw) > 500);
  }
  assert.notDeepEqual(kal.mulaw, rms.mulaw);
});

test('every listed voice works', async () => {
  assert.deepEqual([...FLITE_VOICES].sort(), ['awb', 'kal', 'kal16', 'rms', 'slt']);
  for (const voice of FLITE_VOICES) {
    const audio = await tts.synthesize({ text: 'Goodbye', voice });
    assert.ok(activeSpeechMs(audio.mulaw) > 200, `${voice} is audible`);
  }
});

test('an unknown voice rejects with TTS_FAILED naming the valid voices', async () => {
  await assert.rejects(
    tts.synthesize({ text: 'Hello', voice: 'hal9000' }),
    isTtsFailed(/hal9000.*kal, kal16, awb, rms, slt/),
  );
  assert.throws(() => new FliteTts({ voice: 'hal9000' }), isTtsFailed(/valid voices/));
});

test('empty, blank and over-long text reject with TTS_FAILED, without quoting the text', async () => {
  await assert.rejects(tts.synthesize({ text: '' }), isTtsFailed(/empty/));
  await assert.rejects(tts.synthesize({ text: ' \n\t ' }), isTtsFailed(/empty/));
  const long = 'card 4111 '.repeat(FLITE_MAX_TEXT_CHARS / 10 + 1);
  await assert.rejects(tts.synthesize({ text: long }), (err: unknown) => {
    assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
    assert.match(err.message, /5010 characters, over the limit of 5000/);
    assert.ok(!err.message.includes('4111'));
    return true;
  });
  const atLimit = 'Thank you for waiting. '.repeat(FLITE_MAX_TEXT_CHARS / 20).slice(0, FLITE_MAX_TEXT_CHARS);
  const limit = await tts.synthesize({ text: atLimit, voice: 'kal' });
  assert.ok(limit.durationMs > 60_000, 'exactly the limit is accepted and spoken');
});

test('fliteText turns control characters into spaces and breaks up very long tokens', () => {
  assert.equal(fliteText('Hello, world. 12:30!'), 'Hello, world. 12:30!');
  assert.equal(fliteText('one\u0000two\nthree\u007f'), 'one two three ');
  const token = 'x'.repeat(2 * FLITE_MAX_TOKEN_CHARS + 50);
  assert.deepEqual(
    fliteText(`say ${token} now`)
      .split(' ')
      .map((w) => w.length),
    [3, FLITE_MAX_TOKEN_CHARS, FLITE_MAX_TOKEN_CHARS, 50, 3],
  );
  const emoji = '\u{1F600}'.repeat(FLITE_MAX_TOKEN_CHARS + 1);
  const pieces = fliteText(emoji).split(' ');
  assert.deepEqual(
    pieces.map((p) => [...p].length),
    [FLITE_MAX_TOKEN_CHARS, 1],
    'splits between characters, not inside a surrogate pair',
  );
});

test('text is one argument: leading dashes and control characters are spoken, not parsed', async () => {
  const audio = await tts.synthesize({ text: '-o /o/other.wav -voice awb', voice: 'kal' });
  assert.ok(activeSpeechMs(audio.mulaw) > 1000, 'the whole text was spoken');
  const withNul = await tts.synthesize({ text: 'one\u0000two three four', voice: 'kal' });
  const plain = await tts.synthesize({ text: 'one two three four', voice: 'kal' });
  assert.deepEqual(withNul.mulaw, plain.mulaw, 'a NUL does not cut the text short');
});

test('an aborted request rejects with AbortError while a parallel one still succeeds', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const aborted = tts.synthesize({ text: LONG_TEXT, signal: controller.signal });
  const parallel = tts.synthesize({ text: 'Your call is important to us', voice: 'kal' });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(aborted, { name: 'AbortError' });
  assert.ok(Date.now() - started < 500, 'rejected at once, not when flite finished');
  const audio = await parallel;
  assert.ok(activeSpeechMs(audio.mulaw) > 500);
  await assert.rejects(tts.synthesize({ text: 'Hi', signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('a request aborted while queued never reaches flite; the queue moves on', async () => {
  const single = new FliteTts({ voice: 'kal', workers: 1 });
  try {
    const busy = single.synthesize({ text: LONG_TEXT, voice: 'rms' });
    const controller = new AbortController();
    const queued = single.synthesize({ text: 'Never mind', signal: controller.signal });
    const next = single.synthesize({ text: 'Next please' });
    controller.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    assert.ok((await busy).durationMs > 5000);
    assert.ok((await next).durationMs > 300);
  } finally {
    await single.close();
  }
});

test('the queue is bounded', async () => {
  const single = new FliteTts({ voice: 'kal', workers: 1 });
  const controller = new AbortController();
  setMaxListeners(FLITE_MAX_PENDING + 1, controller.signal);
  try {
    const accepted = Array.from({ length: FLITE_MAX_PENDING + 1 }, () =>
      single.synthesize({ text: 'Hi', signal: controller.signal }),
    );
    for (const p of accepted) p.catch(() => {});
    await assert.rejects(single.synthesize({ text: 'Hi' }), isTtsFailed(/queue full/));
    controller.abort();
    const settled = await Promise.allSettled(accepted);
    assert.equal(settled.filter((s) => s.status === 'rejected').length, FLITE_MAX_PENDING + 1);
    assert.ok((await single.synthesize({ text: 'Room again' })).durationMs > 0);
  } finally {
    await single.close();
  }
});

test('a worker that dies fails its request, and the next request gets a new worker', async () => {
  const single = new FliteTts({ voice: 'rms', workers: 1 });
  try {
    await single.warmUp();
    const [first] = fliteWorkersForTest(single);
    assert.ok(first);
    const doomed = single.synthesize({ text: LONG_TEXT });
    await new Promise((r) => setTimeout(r, 100));
    await first.terminate();
    await assert.rejects(doomed, isTtsFailed(/worker died/));
    assert.equal(fliteWorkersForTest(single).length, 0);

    const audio = await single.synthesize({ text: 'Still here' });
    assert.ok(activeSpeechMs(audio.mulaw) > 300);
    const [second] = fliteWorkersForTest(single);
    assert.ok(second && second !== first && second.threadId !== first.threadId);
  } finally {
    await single.close();
  }
});

test('close() rejects pending work, terminates the workers and refuses new requests', async () => {
  const engine = new FliteTts({ workers: 2 });
  await engine.warmUp();
  assert.equal(fliteWorkersForTest(engine).length, 2);
  const pending = assert.rejects(engine.synthesize({ text: LONG_TEXT }), isTtsFailed(/closed/));
  await engine.close();
  await pending;
  assert.equal(fliteWorkersForTest(engine).length, 0);
  await assert.rejects(engine.synthesize({ text: 'Hello' }), isTtsFailed(/closed/));
});

test('a process using flite prints nothing of its own and exits once closed', () => {
  const script = `
    import { FliteTts } from ${JSON.stringify(new URL('../../src/speech/tts/flite.ts', import.meta.url).href)};
    const tts = new FliteTts();
    const audio = await tts.synthesize({ text: 'Hello there' });
    await tts.close();
    process.stdout.write(String(audio.mulaw.length));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '', 'no ExperimentalWarning or flite chatter');
  assert.ok(Number(run.stdout) > 4000, `stdout: ${run.stdout}`);
});
