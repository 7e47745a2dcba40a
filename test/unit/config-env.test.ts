/** The server's environment: engines, the journal store and the Google endpoint, and their errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv } from '../../src/config/env.ts';
import { isSwitchboardError } from '../../src/errors.ts';

const invalid = (name: string) => (err: unknown) =>
  isSwitchboardError(err, 'CONFIG_INVALID') && err.message.includes(name);

test('defaults: embedded engines, SQLite journal, no Google endpoint', () => {
  const c = configFromEnv({});
  assert.equal(c.tts, 'flite');
  assert.equal(c.stt, 'pocketsphinx');
  assert.equal(c.storeUrl, 'sqlite:./data/switchboard.db');
  assert.equal(c.googleEndpoint, null);
});

test('TTS and STT take google; other names are refused naming the choices', () => {
  const c = configFromEnv({ TTS: 'google', STT: 'google', STORE_URL: 'postgres://db/x' });
  assert.equal(c.tts, 'google');
  assert.equal(c.stt, 'google');
  assert.equal(c.storeUrl, 'postgres://db/x');
  assert.throws(() => configFromEnv({ TTS: 'polly' }), invalid('flite or google'));
  assert.throws(() => configFromEnv({ STT: 'whisper' }), invalid('pocketsphinx, google or off'));
});

test('GOOGLE_API_ENDPOINT is host:port; anything else is refused naming the variable', () => {
  assert.deepEqual(configFromEnv({ GOOGLE_API_ENDPOINT: '127.0.0.1:8085' }).googleEndpoint, {
    host: '127.0.0.1',
    port: 8085,
  });
  assert.deepEqual(configFromEnv({ GOOGLE_API_ENDPOINT: '[::1]:9000' }).googleEndpoint, {
    host: '::1',
    port: 9000,
  });
  assert.deepEqual(configFromEnv({ GOOGLE_API_ENDPOINT: 'speech-emulator:443' }).googleEndpoint, {
    host: 'speech-emulator',
    port: 443,
  });
  for (const bad of ['127.0.0.1', 'http://127.0.0.1:8085', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1']) {
    assert.throws(() => configFromEnv({ GOOGLE_API_ENDPOINT: bad }), invalid('GOOGLE_API_ENDPOINT'), bad);
  }
});
