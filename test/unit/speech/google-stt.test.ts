/**
 * GoogleStt through the REAL @google-cloud/speech client against the local fake gRPC server: the streaming config
 * it sends, transcripts, restarts before the stream limit and after transient errors (with the audio since the
 * last final result re-sent, so no frame is lost), failures, and the bound on buffered audio. Nothing reaches
 * Google.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import type { ListenContext, SpeechActivityEvent, Transcript } from '../../../src/speech/stt/engine.ts';
import { GoogleStt, type GoogleSttOptions, type GoogleSttStream } from '../../../src/speech/stt/google.ts';
import { googleClientOptions } from '../../../src/speech/google.ts';
import { startFakeSpeech, type FakeSpeech, type FakeSpeechScript } from '../../fakes/google-speech-server.ts';

const FRAME = 160; // 20 ms at 8 kHz
const CLOSED: ListenContext = {
  kind: 'closed',
  phrases: ['pizza', 'pasta', 'salad'],
  numbers: false,
  domain: ['pizza', 'pasta', 'salad', 'delivery'],
};

/** Frame `i`: a distinct level per frame, so the fake's bytes show exactly which frames arrived. */
function frame(i: number): Int16Array {
  return new Int16Array(FRAME).fill(((i * 397) % 16000) - 8000);
}

function mulawOf(from: number, to: number): Buffer {
  return Buffer.concat(Array.from({ length: to - from }, (_, k) => pcmToMulaw(frame(from + k))));
}

interface Run {
  fake: FakeSpeech;
  stt: GoogleStt;
  stream: GoogleSttStream;
  transcripts: Transcript[];
  errors: Error[];
  events: SpeechActivityEvent[];
  final: Promise<Transcript>;
  failed: Promise<Error>;
}

const open: { fake: FakeSpeech; stt: GoogleStt }[] = [];

async function start(
  script: FakeSpeechScript,
  options: GoogleSttOptions = {},
  context: ListenContext = CLOSED,
): Promise<Run> {
  const fake = await startFakeSpeech(script);
  const stt = new GoogleStt({ endpoint: { host: fake.host, port: fake.port }, ...options });
  open.push({ fake, stt });
  return listen(fake, stt, context);
}

/** A new recognition stream on an engine already started. */
function listen(fake: FakeSpeech, stt: GoogleStt, context: ListenContext = CLOSED): Run {
  const transcripts: Transcript[] = [];
  const errors: Error[] = [];
  const events: SpeechActivityEvent[] = [];
  let onFinal: (t: Transcript) => void = () => {};
  let onFailed: (e: Error) => void = () => {};
  const final = new Promise<Transcript>((resolve) => (onFinal = resolve));
  const failed = new Promise<Error>((resolve) => (onFailed = resolve));
  const stream = stt.stream({
    context,
    onSpeechEvent: (e) => events.push(e),
    onTranscript: (t) => {
      transcripts.push(t);
      if (t.final) onFinal(t);
    },
    onError: (e) => {
      errors.push(e);
      onFailed(e);
    },
  });
  return { fake, stt, stream, transcripts, errors, events, final, failed };
}

/** The newest gRPC stream has reached the fake and its last audio so far is frame `i`. */
function heardLast(run: Run, i: number): boolean {
  const last = run.fake.streams.at(-1);
  return (
    run.fake.streams.length === run.stream.grpcStreams &&
    last !== undefined &&
    last.audio.length > 0 &&
    Buffer.from(pcmToMulaw(frame(i))).equals(last.audio.at(-1)!)
  );
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  // Load the client once up front, so the first test's timing does not include it.
  await import('@google-cloud/speech');
});

after(async () => {
  for (const { fake, stt } of open) {
    await stt.close();
    await fake.close();
  }
});

test('sends the phone-call config with the closed question phrases; interim then final transcripts', async () => {
  const run = await start({ interim: { afterBytes: 800, text: 'piz' }, finalText: 'pizza please' });
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  await until('the interim result', () => run.transcripts.length > 0);
  run.stream.endUtterance();
  const final = await within(run.final);

  const config = run.fake.streams[0]!.config!;
  assert.equal(config.config?.encoding, 'MULAW');
  assert.equal(config.config?.sampleRateHertz, 8000);
  assert.equal(config.config?.model, 'phone_call');
  assert.equal(config.config?.useEnhanced, true);
  assert.equal(config.config?.languageCode, 'en-US');
  assert.deepEqual(config.config?.speechContexts, [{ phrases: ['pizza', 'pasta', 'salad'], boost: 10 }]);
  assert.equal(config.interimResults, true);
  assert.notEqual(config.singleUtterance, true);
  assert.equal(run.fake.streams[0]!.api, 'v1');
  assert.equal(run.fake.streams[0]!.v2, null);
  assert.deepEqual(run.events, [], 'v1 asks for no activity events');

  const interim = run.transcripts[0]!;
  assert.equal(interim.final, false);
  assert.equal(interim.text, 'piz');
  assert.equal(interim.endMs, 100);
  assert.equal(final.text, 'pizza please');
  assert.ok(Math.abs(final.confidence! - 0.9) < 1e-6);
  assert.equal(final.endMs, 1000);
  assert.equal(run.transcripts.filter((t) => t.final).length, 1);
  assert.equal(run.fake.streams.length, 1);
  assert.deepEqual(Buffer.concat(run.fake.streams[0]!.audio), mulawOf(0, 50));
  assert.deepEqual(run.errors, []);
});

test('restarts before the stream limit and re-sends every frame since the start (no final yet)', async () => {
  const run = await start({ finalText: 'pizza' }, { streamLimitMs: 300 });
  // In batches, each until the fake has it: a stream cancelled before its first flush never reaches a server.
  for (let b = 0; b < 5; b++) {
    for (let i = b * 10; i < b * 10 + 10; i++) run.stream.write(frame(i));
    await until('the batch at the fake', () => heardLast(run, b * 10 + 9));
  }
  run.stream.endUtterance();
  const final = await within(run.final);
  const streams = run.fake.streams;
  assert.ok(streams.length >= 2, `expected a restart, got ${streams.length} stream(s)`);
  // The last stream heard the whole turn: 0 frames lost across the restarts.
  assert.deepEqual(Buffer.concat(streams.at(-1)!.audio), mulawOf(0, 50));
  for (const s of streams) assert.deepEqual(s.config, streams[0]!.config);
  assert.ok(streams.slice(0, -1).every((s) => s.cancelled));
  assert.equal(final.text, 'pizza');
  assert.equal(final.endMs, 1000);
  assert.equal(run.stream.grpcStreams, streams.length);
  assert.equal(run.stream.droppedFrames, 0);
});

test('after a final result, a restart re-sends exactly the frames written since it', async () => {
  const run = await start(
    { midFinals: [{ stream: 0, afterBytes: 10 * FRAME, text: 'a large' }], finalText: 'pizza' },
    { streamLimitMs: 300 },
  );
  for (let i = 0; i < 10; i++) run.stream.write(frame(i));
  await until('the first final result', () => run.transcripts.length > 0);
  assert.equal(run.transcripts[0]!.final, false, 'a final result before endUtterance is reported as interim');
  for (let b = 1; b < 5; b++) {
    for (let i = b * 10; i < b * 10 + 10; i++) run.stream.write(frame(i));
    await until('the batch at the fake', () => heardLast(run, b * 10 + 9));
  }
  run.stream.endUtterance();
  const final = await within(run.final);
  const streams = run.fake.streams;
  assert.ok(streams.length >= 2);
  // Nothing before the final result is sent again; everything after it reaches the last stream.
  assert.deepEqual(Buffer.concat(streams.at(-1)!.audio), mulawOf(10, 50));
  const expectedTotal = streams.reduce((n, s) => n + s.bytes, 0);
  assert.equal(run.fake.totalBytes, expectedTotal);
  assert.equal(final.text, 'a large pizza');
  assert.equal(final.endMs, 1000, 'result times count the re-sent audio once');
});

test('UNAVAILABLE mid-stream: retried on a new stream with the audio re-sent, the final still arrives', async () => {
  const run = await start({ finalText: 'pasta' });
  run.fake.failNextStream(20 * FRAME, 14);
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  run.stream.endUtterance();
  const final = await within(run.final);
  const streams = run.fake.streams;
  assert.equal(streams.length, 2);
  assert.equal(streams[0]!.failedWith, 14);
  assert.deepEqual(Buffer.concat(streams[1]!.audio), mulawOf(0, 50));
  assert.equal(final.text, 'pasta');
  assert.equal(final.endMs, 1000);
  assert.deepEqual(run.errors, []);
});

test('transient failures beyond `retries`: STT_FAILED, retryable', async () => {
  const run = await start({ finalText: 'pasta' }, { retries: 2 });
  run.fake.failNextStream(5 * FRAME, 14, 3);
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  const err = await within(run.failed);
  assert.ok(isSwitchboardError(err, 'STT_FAILED'));
  assert.equal(err.data.grpcCode, 14);
  assert.equal(err.retryable, true);
  assert.equal('retryable' in err.data, false, 'a typed field, not data');
  assert.equal(run.fake.streams.length, 3);
  run.stream.endUtterance();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(run.transcripts.length, 0, 'a failed stream says nothing more');
  assert.equal(run.fake.streams.length, 3);
});

test('INVALID_ARGUMENT: STT_FAILED, not retryable, no retry', async () => {
  const run = await start({ finalText: 'secret words' });
  run.fake.failNextStream(5 * FRAME, 3);
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  const err = await within(run.failed);
  assert.ok(isSwitchboardError(err, 'STT_FAILED'));
  assert.equal(err.data.grpcCode, 3);
  assert.equal(err.retryable, false);
  assert.match(err.message, /INVALID_ARGUMENT/);
  assert.equal(run.fake.streams.length, 1);
  assert.equal(run.errors.length, 1);
});

test('audio written while the client loads is kept within maxBufferedMs; the oldest is dropped and counted', async () => {
  const run = await start({ finalText: 'salad' }, { maxBufferedMs: 1000 });
  // All written in one tick, before the lazily created client opens a stream.
  for (let i = 0; i < 1000; i++) run.stream.write(frame(i));
  assert.equal(run.stream.droppedFrames, 950);
  run.stream.endUtterance();
  const final = await within(run.final);
  assert.deepEqual(Buffer.concat(run.fake.streams[0]!.audio), mulawOf(950, 1000));
  assert.equal(final.text, 'salad');
  assert.equal(final.endMs, 20_000, 'times stay those of the call despite the drops');
  assert.equal(run.stt.droppedFrames, 950, "the engine's count, which /metrics reads");
  // Another call on the same engine is not held back by the first one's backlog, nor counted with it.
  const other = listen(run.fake, run.stt);
  for (let i = 0; i < 10; i++) other.stream.write(frame(i));
  other.stream.endUtterance();
  assert.equal((await within(other.final)).text, 'salad');
  assert.equal(other.stream.droppedFrames, 0);
  assert.equal(run.stt.droppedFrames, 950);
});

test('endUtterance with no audio gives an empty final transcript; close() cancels the gRPC stream', async () => {
  const empty = await start({ finalText: 'unused' });
  empty.stream.endUtterance();
  const final = await within(empty.final);
  assert.equal(final.text, '');
  assert.equal(final.final, true);

  const run = await start({ finalText: 'pizza' });
  for (let i = 0; i < 10; i++) run.stream.write(frame(i));
  await until('audio at the fake', () => run.fake.totalBytes === 10 * FRAME);
  run.stream.close();
  await until('the cancel at the fake', () => run.fake.streams[0]!.cancelled);
  run.stream.endUtterance();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(run.transcripts.length, 0);
});

const V2: GoogleSttOptions = { api: 'v2', project: 'switchboard-test' };

test('v2: recognizer, telephony model, explicit mu-law decoding and boosted phrases; interim then final', async () => {
  const run = await start({ interim: { afterBytes: 800, text: 'piz' }, finalText: 'pizza please' }, V2);
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  await until('the interim result', () => run.transcripts.length > 0);
  run.stream.endUtterance();
  const final = await within(run.final);

  const s = run.fake.streams[0]!;
  assert.equal(s.api, 'v2');
  assert.equal(s.config, null);
  const v2 = s.v2!;
  assert.equal(v2.recognizer, 'projects/switchboard-test/locations/global/recognizers/_');
  assert.equal(v2.model, 'telephony');
  assert.deepEqual(v2.languageCodes, ['en-US']);
  assert.deepEqual(v2.explicitDecodingConfig, {
    encoding: 'MULAW',
    sampleRateHertz: 8000,
    audioChannelCount: 1,
  });
  assert.deepEqual(v2.phrases, [
    { value: 'pizza', boost: 10 },
    { value: 'pasta', boost: 10 },
    { value: 'salad', boost: 10 },
  ]);
  assert.deepEqual(v2.streamingFeatures, { interimResults: true, enableVoiceActivityEvents: true });
  assert.deepEqual(Buffer.concat(s.audio), mulawOf(0, 50), 'audio goes up in `audio` messages');

  const interim = run.transcripts[0]!;
  assert.equal(interim.final, false);
  assert.equal(interim.text, 'piz');
  assert.equal(interim.endMs, 100, 'resultEndOffset read as the result time');
  assert.equal(final.text, 'pizza please');
  assert.ok(Math.abs(final.confidence! - 0.9) < 1e-6);
  assert.equal(final.endMs, 1000);
  assert.equal(run.transcripts.filter((t) => t.final).length, 1);
  assert.deepEqual(run.errors, []);
});

test('v2: model and location options; open questions send unboosted phrases, none without a domain', async () => {
  const run = await start(
    { finalText: 'delivery' },
    { ...V2, model: 'long', location: 'eu' },
    { ...CLOSED, kind: 'open' },
  );
  run.stream.write(frame(0));
  run.stream.endUtterance();
  assert.equal((await within(run.final)).text, 'delivery');
  const v2 = run.fake.streams[0]!.v2!;
  assert.equal(v2.recognizer, 'projects/switchboard-test/locations/eu/recognizers/_');
  assert.equal(v2.model, 'long');
  assert.deepEqual(
    v2.phrases.map((p) => [p.value, p.boost]),
    [
      ['pizza', undefined],
      ['pasta', undefined],
      ['salad', undefined],
      ['delivery', undefined],
    ],
  );

  const bare = listen(run.fake, run.stt, { kind: 'open', phrases: [], numbers: false, domain: [] });
  bare.stream.write(frame(1));
  bare.stream.endUtterance();
  await within(bare.final);
  assert.deepEqual(run.fake.streams[1]!.v2!.phrases, []);
});

test("v2: Google's voice activity events reach onSpeechEvent on the stream's timeline", async () => {
  const run = await start({ finalText: 'salad' }, V2);
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  await until('speech begin', () => run.events.length > 0);
  assert.deepEqual(run.events, [{ type: 'speech-begin', atMs: 20 }], 'the fake begins after the first frame');
  run.stream.endUtterance();
  await within(run.final);
  assert.deepEqual(run.events, [
    { type: 'speech-begin', atMs: 20 },
    { type: 'speech-end', atMs: 1000 },
  ]);
});

test('v2: UNAVAILABLE mid-stream is retried with the audio re-sent; no frame lost, no event repeated', async () => {
  const run = await start({ finalText: 'pasta' }, V2);
  run.fake.failNextStream(20 * FRAME, 14);
  for (let i = 0; i < 50; i++) run.stream.write(frame(i));
  run.stream.endUtterance();
  const final = await within(run.final);
  const streams = run.fake.streams;
  assert.equal(streams.length, 2);
  assert.equal(streams[0]!.failedWith, 14);
  assert.deepEqual(
    streams.map((s) => s.api),
    ['v2', 'v2'],
  );
  assert.deepEqual(streams[1]!.v2, streams[0]!.v2, 'the new stream starts with the same config');
  assert.deepEqual(Buffer.concat(streams[1]!.audio), mulawOf(0, 50));
  assert.equal(run.stream.droppedFrames, 0);
  assert.equal(run.stream.evictedFrames, 0);
  assert.equal(final.text, 'pasta');
  assert.equal(final.endMs, 1000);
  // The retried stream re-heard the speech start: reported once.
  assert.deepEqual(
    run.events.map((e) => e.type),
    ['speech-begin', 'speech-end'],
  );
  assert.deepEqual(run.errors, []);
});

test('v2: after a final result, a restart before the limit re-sends only what followed it', async () => {
  const run = await start(
    { midFinals: [{ stream: 0, afterBytes: 10 * FRAME, text: 'a large' }], finalText: 'pizza' },
    { ...V2, streamLimitMs: 300 },
  );
  for (let i = 0; i < 10; i++) run.stream.write(frame(i));
  await until('the first final result', () => run.transcripts.length > 0);
  assert.equal(run.transcripts[0]!.endMs, 200);
  for (let b = 1; b < 5; b++) {
    for (let i = b * 10; i < b * 10 + 10; i++) run.stream.write(frame(i));
    await until('the batch at the fake', () => heardLast(run, b * 10 + 9));
  }
  run.stream.endUtterance();
  const final = await within(run.final);
  const streams = run.fake.streams;
  assert.ok(streams.length >= 2, `expected a restart, got ${streams.length} stream(s)`);
  assert.deepEqual(Buffer.concat(streams.at(-1)!.audio), mulawOf(10, 50));
  assert.equal(final.text, 'a large pizza');
  assert.equal(final.endMs, 1000, 'v2 result offsets are mapped onto the stream timeline across restarts');
});

test('v2 without a project, or with a bad location, is CONFIG_INVALID at construction', () => {
  const refused = (options: GoogleSttOptions, what: string): void => {
    assert.throws(
      () => new GoogleStt(options),
      (err: unknown) => isSwitchboardError(err, 'CONFIG_INVALID') && err.message.includes(what),
      JSON.stringify(options),
    );
  };
  refused({ api: 'v2' }, 'GOOGLE_CLOUD_PROJECT');
  refused({ api: 'v2', project: '  ' }, 'GOOGLE_CLOUD_PROJECT');
  refused({ api: 'v2', project: 'a/b' }, 'GOOGLE_CLOUD_PROJECT');
  refused({ api: 'v2', project: 'p', location: 'us/central1' }, 'location');
  refused({ api: 'v3' as 'v2', project: 'p' }, 'v1 or v2');
  // v1 needs no project.
  assert.equal(new GoogleStt({ api: 'v1' }).name, 'google');
});

test("a listen context's language overrides the engine's default, for v1 and v2", async () => {
  const french: ListenContext = { ...CLOSED, language: 'fr-FR' };
  for (const api of ['v1', 'v2'] as const) {
    const run = await start({ finalText: 'oui' }, { ...V2, api, languageCode: 'de-DE' }, french);
    run.stream.write(frame(0));
    run.stream.endUtterance();
    assert.equal((await within(run.final)).text, 'oui');
    const plain = listen(run.fake, run.stt);
    plain.stream.write(frame(1));
    plain.stream.endUtterance();
    await within(plain.final);
    const [first, second] = run.fake.streams;
    if (api === 'v1') {
      assert.equal(first!.config?.config?.languageCode, 'fr-FR');
      assert.equal(second!.config?.config?.languageCode, 'de-DE');
    } else {
      assert.deepEqual(first!.v2?.languageCodes, ['fr-FR']);
      assert.deepEqual(second!.v2?.languageCodes, ['de-DE']);
    }
  }
});

test('`turns`: each stream that half-closes after audio answers the next turn, then finalText', async () => {
  const fake = await startFakeSpeech({ turns: ['one', 'two'], finalText: 'more' });
  const stt = new GoogleStt({ endpoint: { host: fake.host, port: fake.port }, ...V2 });
  open.push({ fake, stt });
  const said: string[] = [];
  for (let turn = 0; turn < 4; turn++) {
    const run = listen(fake, stt);
    // Turn 1's first stream fails and is retried: only the stream that half-closes takes a turn.
    if (turn === 1) fake.failNextStream(5 * FRAME, 14);
    for (let i = 0; i < 10; i++) run.stream.write(frame(i));
    run.stream.endUtterance();
    said.push((await within(run.final)).text);
  }
  assert.deepEqual(said, ['one', 'two', 'more', 'more']);
  assert.equal(fake.streams.length, 5);

  // A stream half-closed without audio takes no turn; setScript counts afresh.
  fake.setScript({ turns: ['again'], finalText: 'empty' });
  const { v1 } = await import('@google-cloud/speech');
  const client = new v1.SpeechClient(await googleClientOptions({ host: fake.host, port: fake.port }));
  try {
    const answered: string[] = [];
    for (const audio of [null, Buffer.from(pcmToMulaw(frame(0)))]) {
      const call = client._streamingRecognize();
      const done = new Promise<void>((resolve, reject) => call.on('end', resolve).on('error', reject));
      call.on('data', (res: { results: { alternatives: { transcript: string }[] }[] }) =>
        answered.push(res.results[0]!.alternatives[0]!.transcript),
      );
      call.write({ streamingConfig: { config: { encoding: 'MULAW', sampleRateHertz: 8000 } } });
      if (audio) call.write({ audioContent: audio });
      call.end();
      await within(done);
    }
    assert.deepEqual(answered, ['empty', 'again']);
  } finally {
    await client.close();
  }
});
