/**
 * GoogleTts with the REAL @google-cloud/text-to-speech client against a local fake gRPC server
 * (test/fakes/google-tts-server.ts): nothing here reaches Google.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { isSwitchboardError } from '../../../src/errors.ts';
import { memoryLogger } from '../../../src/observability/logger.ts';
import { GoogleTts, mulawFromGoogleAudio } from '../../../src/speech/tts/google.ts';
import { PromptCache } from '../../../src/speech/tts/prompt-cache.ts';
import type { FakeTts } from '../../fakes/google-tts-server.ts';
import {
  FAKE_TTS_MS_PER_CHAR,
  fakeAudio,
  fakeToneMulaw,
  startFakeTts,
} from '../../fakes/google-tts-server.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SECRET = 'my card number is 4111 1111 1111 1111';

describe('GoogleTts against a fake Text-to-Speech server', () => {
  let fake: FakeTts;
  let tts: GoogleTts;
  const log = memoryLogger();

  before(async () => {
    fake = await startFakeTts();
    tts = new GoogleTts({ endpoint: { host: fake.host, port: fake.port }, logger: log.logger });
  });
  after(async () => {
    await tts.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.answerAs('mulaw-wav');
    fake.delayMs = 0;
    log.records.length = 0;
  });

  test('strips the WAV header (walking past a LIST chunk) and returns exactly the data chunk', async () => {
    const text = 'Hello, thank you for calling.';
    const audio = await tts.synthesize({ text });
    const expected = fakeToneMulaw(text.length);
    assert.equal(audio.mulaw.length, text.length * FAKE_TTS_MS_PER_CHAR * 8);
    assert.deepEqual(audio.mulaw, expected);
    assert.equal(audio.durationMs, text.length * FAKE_TTS_MS_PER_CHAR);
    // A fixed 44-byte cut would have kept header bytes: the WAV here has a 74-byte header.
    assert.equal(fakeAudio(text.length, 'mulaw-wav').length - audio.mulaw.length > 44, true);
  });

  test('asks for 8 kHz mu-law in the configured voice and language; plain text goes as text', async () => {
    await tts.synthesize({ text: 'Plain words' });
    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0]!;
    assert.deepEqual(req.input, { text: 'Plain words' });
    assert.deepEqual(req.voice, { languageCode: 'en-US', name: 'en-US-Standard-C' });
    assert.deepEqual(req.audioConfig, { audioEncoding: 'MULAW', sampleRateHertz: 8000 });
    // The engine's 5 s deadline reaches the server (not the client's 300 s default).
    assert.ok(
      req.deadlineMs !== undefined && req.deadlineMs <= 5000 && req.deadlineMs > 3000,
      `${req.deadlineMs}`,
    );
  });

  test('SSML goes as ssml; a per-request voice and language override the defaults', async () => {
    const ssml = '<speak>Press <say-as interpret-as="digits">1</say-as></speak>';
    assert.equal(tts.readsSsml, true);
    const audio = await tts.synthesize({
      text: 'Press 1',
      ssml,
      voice: 'en-GB-Standard-A',
      language: 'en-GB',
    });
    const req = fake.requests[0]!;
    assert.deepEqual(req.input, { ssml });
    assert.deepEqual(req.voice, { languageCode: 'en-GB', name: 'en-GB-Standard-A' });
    assert.equal(audio.mulaw.length, ssml.length * FAKE_TTS_MS_PER_CHAR * 8);
  });

  test('text that looks like SSML goes as text unless ssml is given', async () => {
    const text = '<speak>hello</speak>';
    await tts.synthesize({ text });
    assert.deepEqual(fake.requests[0]!.input, { text });
  });

  test('the size limit applies to what is sent: SSML markup counts, the text alongside does not', async () => {
    const words = 'a'.repeat(100);
    const ssml = `<speak>${'<break time="1ms"/>'.repeat(300)}${words}</speak>`;
    await assert.rejects(tts.synthesize({ text: words, ssml }), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
      assert.match(err.message, /ssml is 58\d\d bytes/);
      return true;
    });
    await tts.synthesize({ text: 'x'.repeat(6000), ssml: '<speak>short</speak>' });
    assert.equal(fake.requests.length, 1, 'only the second was sent');
    assert.deepEqual(fake.requests[0]!.input, { ssml: '<speak>short</speak>' });
  });

  test('empty SSML is refused even when the text is not', async () => {
    await assert.rejects(tts.synthesize({ text: 'hi', ssml: ' ' }), (e: unknown) =>
      isSwitchboardError(e, 'TTS_FAILED'),
    );
    assert.equal(fake.requests.length, 0);
  });

  test('audio without a RIFF header is taken as raw mu-law', async () => {
    fake.answerAs('raw-mulaw');
    const audio = await tts.synthesize({ text: 'raw' });
    assert.deepEqual(audio.mulaw, fakeToneMulaw(3));
  });

  test('behind PromptCache a repeated prompt does not call Google again', async () => {
    const cache = new PromptCache(tts);
    const first = await cache.get({ text: 'Welcome to Switchboard.' });
    const second = await cache.get({ text: 'Welcome to Switchboard.' });
    assert.equal(fake.requests.length, 1);
    assert.equal(second, first);
    assert.deepEqual(cache.stats, { ...cache.stats, hits: 1, misses: 1, entries: 1 });
    await cache.get({ text: 'Something else.' });
    assert.equal(fake.requests.length, 2);
  });

  test('UNAVAILABLE -> TTS_FAILED, retryable; no retry inside the client; text stays out of the message', async () => {
    fake.failNext(1, grpc.status.UNAVAILABLE);
    const err = await tts.synthesize({ text: SECRET }).then(
      () => assert.fail('should reject'),
      (e: unknown) => e,
    );
    assert.ok(isSwitchboardError(err, 'TTS_FAILED'), String(err));
    assert.equal(err.data.grpcCode, 14);
    assert.equal(err.retryable, true);
    assert.equal('retryable' in err.data, false, 'a typed field, not data');
    assert.match(err.message, /UNAVAILABLE/);
    assert.equal(err.message.includes('4111'), false);
    assert.equal(fake.requests.length, 1);
    // Logged without the text outside `pii` (redacted by the logger).
    const line = JSON.stringify(log.records);
    assert.equal(line.includes('4111'), false, line);
    assert.ok(log.records.some((r) => r.msg === 'google tts request failed' && r.grpcCode === 14));
    // The failure is not sticky.
    await tts.synthesize({ text: 'after' });
  });

  test('INVALID_ARGUMENT -> TTS_FAILED, not retryable', async () => {
    fake.failNext(1, grpc.status.INVALID_ARGUMENT);
    await assert.rejects(tts.synthesize({ text: 'bad' }), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
      assert.equal(err.data.grpcCode, 3);
      assert.equal(err.retryable, false);
      return true;
    });
  });

  test('a WAV file that is not 8 kHz mono mu-law -> TTS_FAILED naming the format', async () => {
    fake.answerAs('linear16-wav');
    await assert.rejects(tts.synthesize({ text: 'linear' }), (err: unknown) => {
      assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
      assert.match(err.message, /format 1.*expected format 7/);
      return true;
    });
  });

  test('aborting rejects with the signal reason, before and during the request', async () => {
    const reason = new Error('caller hung up');
    await assert.rejects(
      tts.synthesize({ text: 'x', signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    assert.equal(fake.requests.length, 0);

    fake.delayMs = 2000;
    const ac = new AbortController();
    const started = performance.now();
    const pending = tts.synthesize({ text: 'slow', signal: ac.signal });
    setTimeout(() => ac.abort(reason), 50);
    await assert.rejects(pending, (e) => e === reason);
    assert.ok(performance.now() - started < 1000);
  });

  test('a deadline past timeoutMs -> DEADLINE_EXCEEDED, retryable', async () => {
    const quick = new GoogleTts({ endpoint: { host: fake.host, port: fake.port }, timeoutMs: 100 });
    fake.delayMs = 1000;
    try {
      await assert.rejects(quick.synthesize({ text: 'slow' }), (err: unknown) => {
        assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
        assert.equal(err.data.grpcCode, 4);
        assert.equal(err.retryable, true);
        return true;
      });
      assert.deepEqual(quick.shed, { queueFull: 0, waitedTooLong: 1 }, 'counted as waiting too long');
    } finally {
      await quick.close();
    }
  });

  test('requests in flight are bounded: past maxInFlight one is refused at once and counted', async () => {
    const bounded = new GoogleTts({ endpoint: { host: fake.host, port: fake.port }, maxInFlight: 2 });
    try {
      await bounded.synthesize({ text: 'warm' });
      fake.delayMs = 300;
      const slow = [bounded.synthesize({ text: 'one' }), bounded.synthesize({ text: 'two' })];
      await assert.rejects(bounded.synthesize({ text: 'three' }), (err: unknown) => {
        assert.ok(isSwitchboardError(err, 'TTS_FAILED'));
        assert.match(err.message, /2 google tts requests in flight/);
        return true;
      });
      assert.deepEqual(bounded.shed, { queueFull: 1, waitedTooLong: 0 });
      // The two in flight are answered, and the bound frees up with them.
      assert.equal((await Promise.all(slow)).length, 2);
      fake.delayMs = 0;
      assert.ok((await bounded.synthesize({ text: 'four' })).mulaw.length > 0);
      assert.equal(bounded.shed.queueFull, 1);
    } finally {
      await bounded.close();
    }
  });

  test('empty text and a closed engine reject without a request', async () => {
    await assert.rejects(tts.synthesize({ text: '  ' }), (e: unknown) => isSwitchboardError(e, 'TTS_FAILED'));
    const closed = new GoogleTts({ endpoint: { host: fake.host, port: fake.port } });
    await closed.close();
    await assert.rejects(closed.synthesize({ text: 'hi' }), (e: unknown) =>
      isSwitchboardError(e, 'TTS_FAILED'),
    );
    assert.equal(fake.requests.length, 0);
  });
});

test('mulawFromGoogleAudio refuses malformed WAV files', () => {
  const good = fakeAudio(2, 'mulaw-wav');
  assert.equal(mulawFromGoogleAudio(good).length, 2 * FAKE_TTS_MS_PER_CHAR * 8);
  const cut = good.subarray(0, 40); // ends inside the fmt chunk
  assert.throws(
    () => mulawFromGoogleAudio(cut),
    (e: unknown) => isSwitchboardError(e, 'TTS_FAILED'),
  );
  assert.throws(
    () => mulawFromGoogleAudio(new Uint8Array(0)),
    (e: unknown) => isSwitchboardError(e, 'TTS_FAILED'),
  );
});

const execFileP = promisify(execFile);

/** Run an ES module snippet in a fresh `node --import tsx` and parse the JSON it prints. */
async function inChild(code: string): Promise<Record<string, unknown>> {
  const { stdout } = await execFileP(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', code],
    {
      cwd: ROOT,
      env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

// Importing from ESM still loads a CommonJS package through the CommonJS loader, so it shows in require.cache.
const LOADED = `
  const { createRequire } = await import('node:module');
  const loaded = () => Object.keys(createRequire(import.meta.url).cache)
    .some((k) => k.includes('@google-cloud/text-to-speech') || k.includes('/google-gax/'));
`;

test('importing google.ts and constructing the engine does not load the client', async (t) => {
  const child = await inChild(`${LOADED}
    let t = performance.now();
    const { GoogleTts } = await import('./src/speech/tts/google.ts');
    const importMs = performance.now() - t;
    t = performance.now();
    const tts = new GoogleTts({ endpoint: { host: '127.0.0.1', port: 9 } });
    const constructMs = performance.now() - t;
    const before = loaded();
    await tts.close();
    console.log(JSON.stringify({ importMs, constructMs, before, afterClose: loaded() }));
  `);
  assert.equal(child.before, false);
  assert.equal(child.afterClose, false);
  assert.ok((child.constructMs as number) < 50, JSON.stringify(child));

  // The control: the check does see the package once it is imported, and this is what the laziness saves.
  const control = await inChild(`${LOADED}
    const t = performance.now();
    await import('@google-cloud/text-to-speech');
    console.log(JSON.stringify({ importMs: performance.now() - t, after: loaded() }));
  `);
  assert.equal(control.after, true);
  t.diagnostic(
    `import google.ts ${(child.importMs as number).toFixed(1)} ms, construct ${(child.constructMs as number).toFixed(2)} ms; ` +
      `import @google-cloud/text-to-speech ${(control.importMs as number).toFixed(1)} ms`,
  );
});
