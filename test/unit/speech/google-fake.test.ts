/**
 * startFakeGoogle: one 127.0.0.1 port serves Text-to-Speech v1 and Speech v1 and v2 to the REAL clients (through
 * GoogleTts and GoogleStt), as one GOOGLE_API_ENDPOINT must for a server using both engines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Transcript } from '../../../src/speech/stt/engine.ts';
import { GoogleStt, type GoogleSttOptions } from '../../../src/speech/stt/google.ts';
import { GoogleTts } from '../../../src/speech/tts/google.ts';
import { startFakeGoogle } from '../../fakes/google-server.ts';
import { FAKE_TTS_MS_PER_CHAR, fakeToneMulaw } from '../../fakes/google-tts-server.ts';

test('one port serves TTS, STT v1 and STT v2; each fake records its own requests', async () => {
  const google = await startFakeGoogle({ speech: { turns: ['first turn', 'second turn'] } });
  const endpoint = { host: google.host, port: google.port };
  const tts = new GoogleTts({ endpoint });
  const engines = (['v1', 'v2'] as const).map(
    (api) => new GoogleStt({ endpoint, api, project: 'p' } satisfies GoogleSttOptions),
  );
  try {
    const audio = await tts.synthesize({ text: 'Hello' });
    assert.deepEqual(audio.mulaw, fakeToneMulaw(5));
    assert.equal(audio.durationMs, 5 * FAKE_TTS_MS_PER_CHAR);
    assert.equal(google.tts.requests.length, 1);
    assert.equal(google.tts.requests[0]!.input.text, 'Hello');

    const heard: string[] = [];
    for (const stt of engines) {
      const final = await new Promise<Transcript>((resolve, reject) => {
        const stream = stt.stream({
          context: { kind: 'open', phrases: [], numbers: false, domain: ['hello'] },
          onTranscript: (t) => t.final && resolve(t),
          onError: reject,
        });
        for (let i = 0; i < 10; i++) stream.write(new Int16Array(160).fill(1000 * i));
        stream.endUtterance();
      });
      heard.push(final.text);
    }
    assert.deepEqual(heard, ['first turn', 'second turn']);
    assert.deepEqual(
      google.speech.streams.map((s) => [s.api, s.bytes]),
      [
        ['v1', 1600],
        ['v2', 1600],
      ],
    );
    assert.equal(google.speech.streams[1]!.v2?.recognizer, 'projects/p/locations/global/recognizers/_');
    assert.equal(google.tts.requests.length, 1, 'speech streams are not seen by the TTS fake');
  } finally {
    await tts.close();
    for (const stt of engines) await stt.close();
    await google.close();
  }
});
