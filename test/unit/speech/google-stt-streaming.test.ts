/** GoogleStt v1 on the fake: config, transcripts, restarts and retries losing no frame, failures, buffers. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSwitchboardError } from '../../../src/errors.ts';
import {
  FRAME,
  closeOpened,
  frame,
  heardLast,
  listen,
  loadClient,
  mulawOf,
  start,
  until,
  within,
} from './google-stt-helpers.ts';

before(loadClient);
after(closeOpened);

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
