/**
 * The real server with TTS=google, its real Google client pointed at a fake Text-to-Speech server on 127.0.0.1
 * (GOOGLE_API_ENDPOINT): a keypad call hears Google's audio, each prompt is asked for once (the prompt cache
 * serves repeats), and nothing leaves the machine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leftToOfflineRun } from '../support/network-isolation.ts';
import { placeCall } from '../../src/simulator/caller.ts';
import { startFakeTts } from '../fakes/google-tts-server.ts';
import { serve } from '../support/serve-process.ts';

test(
  'a keypad call with TTS=google speaks through the Google client; repeated prompts are not asked for again',
  { skip: leftToOfflineRun },
  async () => {
    const fake = await startFakeTts();
    const s = await serve({
      TTS: 'google',
      STT: 'off',
      NLU: 'off',
      STORE_URL: 'memory:',
      GOOGLE_API_ENDPOINT: `${fake.host}:${fake.port}`,
      LOG_LEVEL: 'info',
    });
    try {
      assert.match(s.banner, /TTS google \(voice en-US-Standard-C\)/);
      assert.equal(fake.requests.length, 0, 'start-up loads the client but asks for nothing');
      const first = await placeCall({
        url: s.url,
        flow: 'demo',
        inputs: [{ kind: 'dtmf', keys: '1' }],
        thinkMs: 100,
      });
      assert.equal(first.endedBy, 'agent');
      assert.deepEqual(
        first.marks.map((m) => m.split('.')[0]),
        ['menu', 'hours', 'goodbye'],
      );
      // The fake's tone is 50 ms per character: the greeting's audio is as long as Google's answer.
      const greeting = first.timeline.find((e) => e.kind === 'agent');
      assert.ok(greeting && greeting.kind === 'agent' && greeting.durationMs > 1000);
      const asked = fake.requests.length;
      assert.ok(asked >= 3, `one request per sentence said (${asked})`);
      for (const r of fake.requests) {
        assert.equal(r.audioConfig.audioEncoding, 'MULAW');
        assert.equal(r.audioConfig.sampleRateHertz, 8000);
        assert.equal(r.voice.name, 'en-US-Standard-C');
      }
      const second = await placeCall({
        url: s.url,
        flow: 'demo',
        inputs: [{ kind: 'dtmf', keys: '1' }],
        thinkMs: 100,
      });
      assert.equal(second.endedBy, 'agent');
      assert.equal(fake.requests.length, asked, 'the second call was served from the prompt cache');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
      await fake.close();
    }
  },
);
