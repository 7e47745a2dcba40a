/** GoogleStt v2 on the fake: config, activity events, retries, restarts, errors; listen language; turns. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pcmToMulaw } from '../../../src/audio/mulaw.ts';
import { isSwitchboardError } from '../../../src/errors.ts';
import type { ListenContext } from '../../../src/speech/stt/engine.ts';
import { GoogleStt, type GoogleSttOptions } from '../../../src/speech/stt/google.ts';
import { googleClientOptions } from '../../../src/speech/google.ts';
import { startFakeSpeech } from '../../fakes/google-speech-server.ts';
import {
  CLOSED,
  FRAME,
  closeOpened,
  frame,
  heardLast,
  listen,
  loadClient,
  mulawOf,
  open,
  start,
  until,
  within,
} from './google-stt-helpers.ts';

before(loadClient);
after(closeOpened);

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
