/** The server's environment: engines, journal store, Google endpoint and Twilio API URL, and their errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv } from '../../../src/config/env.ts';
import { isSwitchboardError } from '../../../src/errors.ts';

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

test('TWILIO_API_URL: unset or blank for Twilio; https, or http to a loopback host, kept as its origin', () => {
  assert.equal(configFromEnv({}).twilioApiUrl, null);
  assert.equal(configFromEnv({ TWILIO_API_URL: '  ' }).twilioApiUrl, null);
  assert.equal(
    configFromEnv({ TWILIO_API_URL: 'http://127.0.0.1:4010/' }).twilioApiUrl,
    'http://127.0.0.1:4010',
  );
  assert.equal(
    configFromEnv({ TWILIO_API_URL: ' https://twilio-fake.example \n' }).twilioApiUrl,
    'https://twilio-fake.example',
  );
  for (const bad of [
    'http://twilio-fake.example',
    'https://x.example/2010-04-01',
    'https://x.example/?a=1',
    'x',
  ]) {
    assert.throws(() => configFromEnv({ TWILIO_API_URL: bad }), invalid('TWILIO_API_URL'), bad);
  }
});

test('Google STT: v1, global location and the API default model unless set', () => {
  const c = configFromEnv({ STT: 'google' });
  assert.equal(c.googleSttApi, 'v1');
  assert.equal(c.googleCloudProject, null);
  assert.equal(c.googleSttModel, null);
  assert.equal(c.googleSttLocation, 'global');
});

test('GOOGLE_STT_API=v2 takes the project, model and location', () => {
  const c = configFromEnv({
    STT: 'google',
    GOOGLE_STT_API: 'v2',
    GOOGLE_CLOUD_PROJECT: ' my-project ',
    GOOGLE_STT_MODEL: 'long',
    GOOGLE_STT_LOCATION: 'europe-west4',
  });
  assert.equal(c.googleSttApi, 'v2');
  assert.equal(c.googleCloudProject, 'my-project');
  assert.equal(c.googleSttModel, 'long');
  assert.equal(c.googleSttLocation, 'europe-west4');
  assert.equal(configFromEnv({ GOOGLE_STT_MODEL: 'phone_call' }).googleSttModel, 'phone_call');
});

test('GOOGLE_STT_API=v2 with STT=google needs GOOGLE_CLOUD_PROJECT; bad values are refused by name', () => {
  assert.throws(
    () => configFromEnv({ STT: 'google', GOOGLE_STT_API: 'v2' }),
    invalid('GOOGLE_CLOUD_PROJECT'),
  );
  assert.throws(
    () => configFromEnv({ STT: 'google', GOOGLE_STT_API: 'v2', GOOGLE_CLOUD_PROJECT: '  ' }),
    invalid('GOOGLE_CLOUD_PROJECT'),
  );
  // Not an error while another engine listens: the variable may be shared with other services.
  assert.equal(configFromEnv({ STT: 'pocketsphinx', GOOGLE_STT_API: 'v2' }).googleSttApi, 'v2');
  assert.throws(() => configFromEnv({ GOOGLE_STT_API: 'v3' }), invalid('GOOGLE_STT_API'));
  assert.throws(() => configFromEnv({ GOOGLE_STT_API: 'v3' }), invalid('v1 or v2'));
  assert.throws(() => configFromEnv({ GOOGLE_CLOUD_PROJECT: 'a/b' }), invalid('GOOGLE_CLOUD_PROJECT'));
  for (const bad of ['Europe West', 'us/central1', 'EU']) {
    assert.throws(() => configFromEnv({ GOOGLE_STT_LOCATION: bad }), invalid('GOOGLE_STT_LOCATION'), bad);
  }
});

test('PROMPT_CACHE_DIR keeps prompts on disk in ./data/prompts unless set; "off" keeps them in memory only', () => {
  assert.equal(configFromEnv({}).promptCacheDir, './data/prompts');
  assert.equal(
    configFromEnv({ PROMPT_CACHE_DIR: '/var/cache/switchboard' }).promptCacheDir,
    '/var/cache/switchboard',
  );
  assert.equal(configFromEnv({ PROMPT_CACHE_DIR: 'off' }).promptCacheDir, null);
});

test('SOFTPHONE: on by default without TWILIO_AUTH_TOKEN, off with it, and either can be chosen', () => {
  assert.equal(configFromEnv({}).softphone, true);
  assert.equal(configFromEnv({ TWILIO_AUTH_TOKEN: 'secret' }).softphone, false);
  assert.equal(configFromEnv({ TWILIO_AUTH_TOKEN: 'secret', SOFTPHONE: 'on' }).softphone, true);
  assert.equal(configFromEnv({ SOFTPHONE: 'off' }).softphone, false);
  assert.throws(() => configFromEnv({ SOFTPHONE: 'yes' }), invalid('on or off'));
});

test('JOURNAL_RETENTION_DAYS is a whole number of days; LOG_PII is one of its choices', () => {
  assert.equal(configFromEnv({}).journalRetentionDays, null);
  assert.equal(configFromEnv({ JOURNAL_RETENTION_DAYS: '30' }).journalRetentionDays, 30);
  for (const bad of ['0', '1.5', 'thirty']) {
    assert.throws(
      () => configFromEnv({ JOURNAL_RETENTION_DAYS: bad }),
      (err) => isSwitchboardError(err, 'CONFIG_INVALID') && /JOURNAL_RETENTION_DAYS/.test(err.message),
    );
  }
  assert.throws(
    () => configFromEnv({ LOG_PII: 'yes' }),
    (err) => isSwitchboardError(err, 'CONFIG_INVALID') && /LOG_PII/.test(err.message),
  );
});
