import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FRAME_BYTES, mulawToPcm, pcmToMulaw, silence } from '../../../src/audio/index.ts';
import { utteranceFrames } from '../../../src/load/caller-audio.ts';

test('an utterance loses the silence after its last sound, so its last frame is the end of speech', () => {
  const tone = new Int16Array(800).map((_, i) => Math.round(6000 * Math.sin(i / 3)));
  const audio = Buffer.concat([silence(500), pcmToMulaw(tone), silence(700)]);
  const frames = utteranceFrames(audio);
  // 100 ms of sound plus the 30 ms kept before it: 7 frames, the last padded with silence.
  assert.equal(frames.length, 7);
  const last = mulawToPcm(Buffer.from(frames.at(-1)!, 'base64'));
  assert.equal(last.length, FRAME_BYTES);
  assert.ok(
    last.slice(0, 40).some((x) => Math.abs(x) > 1000),
    'the last frame holds the end of the sound',
  );
});
